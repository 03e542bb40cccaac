#!/usr/bin/env bash
# tests/selftest.d/ladders.sh - feedback moves with each TODO.
#
# tests/ladders/NN-slug/ holds one patch per TODO of the lesson's skeleton
# (K-NAME.patch, applied in the order of K, each on top of the ones before,
# with `patch -p1` in the lesson's directory): what a student who fills the
# TODOs in order has after each one. For each lesson that has a ladder (and
# that LESSONS, if set, names), this grades the untouched skeleton and then
# each step (scripts/grade, the score without the given tests) and requires:
#   - every patch applies;
#   - each step's score is strictly higher than the one before, so that
#     `make watch` shows every TODO done move the score;
#   - the last step passes every test (the ladder ends at a working lesson);
#     a last step whose object code is the solution's (same_code: it
#     differs in comments and layout only) is graded as the solution, whose
#     suite make test runs anyway: with SELFTEST_RESULTS that run is read
#     back, not repeated;
#   - the skeleton's failure reports name a TODO ("todo: TODO 1 in FILE").
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Work files: build/selftest/ladders.PID/, removed when every
# ladder of the job passed, kept until the next make test when one failed.
# selftest: one job per lesson
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

# (A ladder that passes removes its files at the end; selftest_work keeps a
# failed one's through the other ladder jobs of the same make test.)
selftest_work ladders
work=$WORK
failed_any=

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
details() { [ -f "$1" ] && head -c 6000 "$1" | head -n 40 | sed 's/^/# /'; }

# score SLUG IMPL OUT [RESULTS]: "P N" from scripts/grade's table (points,
# of max); the grade's work files (its raw TAP, SLUG.tap) go to OUT.work/.
# RESULTS: scripts/check's RESULTS_DIR (for the untouched skeleton, which
# make test's skeleton check grades too: the suite runs once for both).
score() {
	RESULTS_DIR=${4:-} GRADE_WORK=$3.work IMPL=$2 OUT= scripts/grade "$1" >"$3" 2>&1
	awk -v slug="$1" '$1 == slug { print $2, $3 }' "$3"
}

# passed_tests TAP: the numbers of the tests TAP says passed, "4 14 19"
# (what a step that did not raise the score is to be read with).
passed_tests() {
	sed -n 's/^ok \([0-9]*\) .*/\1/p' "$1" 2>/dev/null | tr '\n' ' '
}

# same_code DIR SOLUTION: both hold the same .c and .h files, and each .c
# file compiles to the same object code in both (-O2 without debug
# information, which holds line numbers; each compiled in its own directory,
# so that __FILE__ is the same name). The programs then do the same whatever
# the comments and the layout, and the tests, which see only the programs,
# give the same results.
same_code() {
	local f
	[ "$(cd "$1" && ls -- *.c *.h 2>/dev/null)" = "$(cd "$2" && ls -- *.c *.h 2>/dev/null)" ] || return 1
	for f in "$1"/*.c; do
		f=${f##*/}
		object_code "$1" "$f" "$work/same.a.o" && object_code "$2" "$f" "$work/same.b.o" &&
			cmp -s "$work/same.a.o" "$work/same.b.o" || return 1
	done
}
# object_code DIR FILE OUT: FILE of DIR compiled in DIR, into OUT.
object_code() {
	# shellcheck disable=SC2086
	(cd "$1" && ${CC:-cc} $C_DIALECT -I"$ROOT/common" -I. -O2 -g0 -c -o "$3" "$2") 2>/dev/null
}

climbed=0
for ladder in tests/ladders/[0-9][0-9]-*/; do
	[ -d "$ladder" ] || continue
	slug=$(basename "$ladder")
	lesson_wanted "$slug" || continue
	climbed=$((climbed + 1))
	impl=$work/$slug
	rm -rf "$impl" && mkdir -p "$impl" && cp -R "lessons/$slug" "$impl/"
	scores=() labels=(skeleton) problems=()
	read -r p n < <(score "$slug" "$impl" "$work/$slug-0.txt" "${SELFTEST_RESULTS:-}")
	scores+=("${p:-?}")
	# The skeleton's failures name the TODO they are about (in the TAP the
	# grade just read).
	if ! grep -q '^# todo: TODO [0-9]' "$work/$slug-0.txt.work/$slug.tap" 2>/dev/null; then
		problems+=("no failure report of the untouched skeleton names a TODO (a 'todo: TODO N in FILE' line)")
	fi
	mapfile -t patches < <(ls "$ladder"*.patch | sort -V)
	i=0
	for patch in "${patches[@]}"; do
		i=$((i + 1))
		label=$(basename "$patch" .patch)
		labels+=("$label")
		if ! patch -s -p1 -d "$impl/$slug" <"$patch" >"$work/$slug-$i.patch.log" 2>&1; then
			problems+=("$label does not apply: $(head -n 3 "$work/$slug-$i.patch.log" | tr '\n' ' ')")
			break
		fi
		if [ "$i" -eq "${#patches[@]}" ] && same_code "$impl/$slug" "solutions/$slug"; then
			# A copy of the solution, as the lock and key of a TAP kept in
			# SELFTEST_RESULTS are the sources' (and grade builds into a
			# directory named after IMPL's).
			rm -rf "$work/solution" && mkdir -p "$work/solution" && cp -R "solutions/$slug" "$work/solution/"
			read -r p n < <(score "$slug" "$work/solution" "$work/$slug-$i.txt" "${SELFTEST_RESULTS:-}")
			labels[i]="$label (the solution's code)"
		else
			read -r p n < <(score "$slug" "$impl" "$work/$slug-$i.txt")
		fi
		scores+=("${p:-?}")
	done
	line=
	for ((j = 0; j < ${#scores[@]}; j++)); do
		line+="${line:+, }${labels[j]} ${scores[j]}"
		if [ "$j" -gt 0 ]; then
			prev=${scores[j - 1]} cur=${scores[j]}
			if ! [ "$cur" -gt "$prev" ] 2>/dev/null; then
				problems+=("${labels[j]}: the score went from $prev to $cur (it must rise with each TODO)")
				problems+=("  tests passed at ${labels[j - 1]} (by number, in tests/$slug.bats): $(passed_tests "$work/$slug-$((j - 1)).txt.work/$slug.tap")")
				problems+=("  tests passed at ${labels[j]}: $(passed_tests "$work/$slug-$j.txt.work/$slug.tap")")
			fi
		fi
	done
	last=${scores[${#scores[@]} - 1]}
	[ "$last" = "${n:-x}" ] || problems+=("after the last step the score is $last of ${n:-?}, not all")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "ladder $slug: each TODO done raises the score ($line of $n), and the skeleton's hints name their TODO"
	else
		not_ok "ladder $slug: each TODO done raises the score, up to every test ($line of ${n:-?})" "${problems[@]}" \
			"each step's grade and raw TAP: ${work#"$ROOT"/}/$slug-STEP.txt and $slug-STEP.txt.work/"
		failed_any=1
		details "$work/$slug-$i.txt"
	fi
done
if [ "$climbed" -eq 0 ]; then
	printf 'skip - not run: no lesson with a ladder in tests/ladders/%s\n' "${LESSONS:+ among LESSONS=\"$LESSONS\"}"
fi
[ -n "$failed_any" ] || rm -rf "$work"
exit 0
