#!/usr/bin/env bash
# tests/selftest.d/registry.sh - the lesson registry (lessons/LESSONS) agrees
# with the tree, and scripts/new-lesson makes a lesson every tool knows.
#
# 1. Every lessons/NN-*, solutions/NN-*, tests/NN-*.bats and
#    tests/variants/NN-* is a registered lesson, and every registered lesson
#    has them all and a chapter; each registered program is a .c file of the
#    skeleton and the solution; "tsan yes" is exactly the lessons whose
#    solution uses <pthread.h>; every diagram key is declared and used; the
#    table of lessons in README.md is the registry's, row for row.
# 2. In a copy of the project, `scripts/new-lesson 99 example`: it refuses a
#    taken number or slug; the new lesson is discovered, its skeleton and
#    solution build, its suite fails on the skeleton (and on the solution,
#    until the lesson is written), the copy still passes part 1 and the
#    book's chapter checks, and a skeleton that does not compile is exit
#    status 4 of scripts/check with a "Bail out!" line.
# With REGISTRY_ONLY=1, part 1 alone (part 2 runs it so in the copy).
#
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Work files: build/selftest/registry.PID/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
report() { # NAME PROBLEM...: ok when there is no problem
	local name=$1
	shift
	if [ $# -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}

# ---------------------------------------------------------------------------
# 1. The registry and the tree.

shopt -s nullglob
registered=" $(all_lessons | tr '\n' ' ') "
problems=()
for p in lessons/[0-9][0-9]-* solutions/[0-9][0-9]-* tests/[0-9][0-9]-*.bats tests/variants/[0-9][0-9]-*; do
	s=$(basename "$p" .bats)
	[[ $registered == *" $s "* ]] || problems+=("$p: $s is not in lessons/LESSONS")
done
for s in $registered; do
	for p in "lessons/$s/README.md" "solutions/$s" "tests/$s.bats" "tests/variants/$s"; do
		[ -e "$p" ] || problems+=("$s is registered, but $p is missing")
	done
done
report "every lesson directory, suite and variants directory is registered in lessons/LESSONS, and each registered lesson has them all ($(wc -w <<<"$registered") lessons)" "${problems[@]}"

problems=()
for s in $registered; do
	for prog in $(lesson_programs "$s"); do
		for d in lessons solutions; do
			[ -f "$d/$s/$prog.c" ] || problems+=("$s: the program $prog has no $d/$s/$prog.c")
		done
	done
	threads=no
	grep -qs 'pthread\.h' "solutions/$s"/*.c "solutions/$s"/*.h && threads=yes
	[ "$(lesson_field "$s" tsan)" = "$threads" ] ||
		problems+=("$s: tsan is $(lesson_field "$s" tsan) in lessons/LESSONS, but its solution $([ $threads = yes ] && echo uses || echo does not use) <pthread.h>")
done
report "every registered program is a .c file of its skeleton and its solution; tsan yes is exactly the lessons with threads" "${problems[@]}"

problems=()
declared=$(awk '$1 == "diagram" { print $2 }' lessons/LESSONS)
used=$(registry_records | awk '$5 != "-" { print $5 }' | sort -u)
for k in $used; do
	grep -qx -- "$k" <<<"$declared" || problems+=("a lesson's diagram group '$k' has no 'diagram $k WHAT' record")
done
for k in $declared; do
	grep -qx -- "$k" <<<"$used" || problems+=("the diagram group '$k' is declared, but no lesson has it")
done
report "every diagram group a lesson names is declared in lessons/LESSONS, and every declared one is used" "${problems[@]}"

want=$(registry_records | while read -r nn name _; do
	printf '| %s | %s | %s |\n' "$nn" "$name" "$(lesson_field "$nn-$name" builds)"
done)
got=$(grep -E '^\| [0-9][0-9] \| ' README.md)
if [ "$want" = "$got" ]; then
	ok "README.md's table of lessons is lessons/LESSONS, row for row (NN, slug, what you build)"
else
	mapfile -t d < <(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | grep '^[<>]' |
		sed 's/^</registry:/; s/^>/README.md:/' | head -n 20)
	not_ok "README.md's table of lessons is lessons/LESSONS, row for row (NN, slug, what you build)" "${d[@]}"
fi

[ -n "${REGISTRY_ONLY:-}" ] && exit 0

# ---------------------------------------------------------------------------
# 2. scripts/new-lesson, in a copy of the project.

selftest_work registry
work=$WORK
mkdir -p "$work/project/build"
trap 'rm -rf "$work"' EXIT
proj=$work/project
tar -c --exclude=./build --exclude=./.git . | tar -x -C "$proj"
# The test tools as built here (newer than their sources, so kept), and
# the shared build cache: only what the scaffold adds is compiled.
"$ROOT/scripts/build-tools" >/dev/null 2>&1
for d in tools demos facts; do
	[ -d "build/$d" ] && cp -a "build/$d" "$proj/build/"
done
export BUILD_CACHE=$ROOT/build/cache

before=$(cd "$proj" && cat lessons/LESSONS README.md tests/given.txt | sha256sum)
problems=()
for args in "05 example" "99 events" "9 example" "99 Example" ""; do
	# shellcheck disable=SC2086 # the arguments are meant to split
	(cd "$proj" && scripts/new-lesson $args) >"$work/refused.txt" 2>&1
	status=$?
	[ $status -eq 2 ] || problems+=("scripts/new-lesson $args: exit $status (want 2)")
	grep -qE 'taken|must be|Usage' "$work/refused.txt" || problems+=("scripts/new-lesson $args says: $(head -n 1 "$work/refused.txt")")
done
[ "$(cd "$proj" && cat lessons/LESSONS README.md tests/given.txt | sha256sum)" = "$before" ] ||
	problems+=("a refused scripts/new-lesson changed lessons/LESSONS, README.md or tests/given.txt")
[ -e "$proj/lessons/99-example" ] && problems+=("a refused scripts/new-lesson left lessons/99-example")
report "scripts/new-lesson refuses a taken number or slug and a malformed one, with a message and exit 2, writing nothing" "${problems[@]}"

(cd "$proj" && scripts/new-lesson 99 example) >"$work/new.txt" 2>&1
status=$?
problems=()
[ $status -eq 0 ] || problems+=("scripts/new-lesson 99 example: exit $status" "$(head -n 5 "$work/new.txt")")
[ "$(ROOT=$proj bash -c '. scripts/lib.sh; all_lessons | tail -n 1')" = 99-example ] ||
	problems+=("all_lessons does not end with 99-example")
[ "$(cd "$proj" && scripts/hint --names 99 | grep -c .)" -eq 3 ] || problems+=("scripts/hint --names 99 does not list 3 tests")
for f in lessons/99-example/README.md lessons/99-example/example.c solutions/99-example/example.c \
	tests/99-example.bats tests/variants/99-example; do
	[ -e "$proj/$f" ] || problems+=("$f was not written")
done
bad=$(grep -rnE 'TODO|FIXME|XXX' "$proj/solutions/99-example")
[ -z "$bad" ] || problems+=("the scaffold's solution holds a TODO: $bad")
(cd "$proj" && scripts/pristine check) >/dev/null 2>&1 || problems+=("lessons/.pristine does not record the new skeleton")
report "scripts/new-lesson 99 example registers lesson 99-example and writes its chapter, skeleton, solution, suite and variants directory" "${problems[@]}"

# The copy with its new lesson still passes part 1 (README.md's row too).
REGISTRY_ONLY=1 bash "$proj/tests/selftest.d/registry.sh" | sed 's/^\(\(not \)\{0,1\}ok - \)/\1with lesson 99: /'

problems=()
(cd "$proj" && scripts/build lessons/99-example "$work/b/lessons" && scripts/build solutions/99-example "$work/b/solutions" --strict) \
	>"$work/build.txt" 2>&1 || problems+=("$(head -n 20 "$work/build.txt")")
for c in sections hints own-solution; do
	(cd "$proj" && python3 book/checks.py "$c") >"$work/book-$c.txt" 2>&1
	grep -q '^not ok' "$work/book-$c.txt" && problems+=("book/checks.py $c:" "$(grep -A3 '^not ok' "$work/book-$c.txt" | head -n 6)")
done
report "lesson 99's skeleton and solution (-Werror) build, and its chapter passes the book's section, hint and own-solution checks" "${problems[@]}"

# check_99 IMPL: scripts/check 99 IMPL in the copy, TAP; sets STATUS.
check_99() {
	(cd "$proj" && TAP=1 FILTER= OUT="$work/check-$1" scripts/check 99 "$1") >"$work/check-$1.tap" 2>&1
	STATUS=$?
}
failing() { grep '^not ok ' "$1" | sed 's/^not ok [0-9]* //'; }
check_99 lessons
problems=()
[ $STATUS -eq 1 ] || problems+=("exit $STATUS (want 1)")
failing "$work/check-lessons.tap" | grep -q '^example NAME prints hello' || problems+=("the greeting test does not fail on the skeleton")
failing "$work/check-lessons.tap" | grep -q '^lesson 99 is written' || problems+=("the 'lesson 99 is written' test does not fail")
grep -q '^ok .* with no argument prints a usage line' "$work/check-lessons.tap" || problems+=("the usage test does not pass on the skeleton (tests/given.txt lists it)")
[ ${#problems[@]} -eq 0 ] || problems+=("$(tail -n 20 "$work/check-lessons.tap")")
report "scripts/check 99 runs lesson 99's suite: the skeleton fails it (exit 1), the 'lesson 99 is written' test with it" "${problems[@]}"

check_99 solutions
problems=()
[ $STATUS -eq 1 ] || problems+=("exit $STATUS (want 1)")
[ "$(failing "$work/check-solutions.tap")" = "lesson 99 is written: no file of it says it is still to be written" ] ||
	problems+=("failing on the solution: $(failing "$work/check-solutions.tap" | tr '\n' ';')" "$(tail -n 20 "$work/check-solutions.tap")")
report "scripts/check 99 solutions: the scaffold's solution passes every test but 'lesson 99 is written', which fails until no file of the lesson says it is to be written" "${problems[@]}"

# A skeleton that does not compile: exit status 4, and a TAP Bail out! line.
echo 'int broken(void) { return undeclared; }' >>"$proj/lessons/99-example/example.c"
check_99 lessons
problems=()
[ $STATUS -eq 4 ] || problems+=("exit $STATUS (want 4)")
[ "$(tail -n 1 "$work/check-lessons.tap")" = "Bail out! 99-example does not compile" ] ||
	problems+=("last line: $(tail -n 1 "$work/check-lessons.tap") (want: Bail out! 99-example does not compile)")
grep -q 'undeclared' "$work/check-lessons.tap" || problems+=("the compiler's message is not shown")
report "scripts/check of a lesson that does not compile: exit status 4, the compiler's message, and 'Bail out! 99-example does not compile'" "${problems[@]}"

# A main() where the registry says none: scripts/build says which file.
printf 'int\nmain(void)\n{\n\treturn 0;\n}\n' >"$proj/solutions/99-example/extra.c"
(cd "$proj" && scripts/build solutions/99-example "$work/b/extra") >"$work/extra.txt" 2>&1
status=$?
if [ $status -eq 1 ] && grep -q 'extra.c has a main() but is not a program of 99-example in lessons/LESSONS' "$work/extra.txt"; then
	ok "scripts/build refuses a main() in a file lessons/LESSONS does not list as a program, naming the file"
else
	not_ok "scripts/build refuses a main() in a file lessons/LESSONS does not list as a program, naming the file" \
		"exit $status" "$(head -n 5 "$work/extra.txt")"
fi
