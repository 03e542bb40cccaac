# scripts/lib.sh - shell functions the workbook's scripts share.
# Sourced, never run. Expects ROOT to be the project's top directory.

: "${ROOT:?ROOT must be set before sourcing scripts/lib.sh}"

# The lesson registry (lessons/LESSONS): one record a line, "NN slug
# programs tsan diagram builds..." (the file's header says what each field
# is). Every lesson a script knows of comes from here.
REGISTRY=$ROOT/lessons/LESSONS

# The C every build compiles (scripts/build, scripts/build-tools,
# scripts/compile-commands, the ladders' same_code): C11 and POSIX.1-2008,
# and the warnings asked for everywhere (-Werror is each caller's choice).
C_DIALECT="-std=c11 -D_POSIX_C_SOURCE=200809L"
C_WARNINGS="-Wall -Wextra -Wpedantic -Wmissing-prototypes -Wstrict-prototypes"

# registry_records: the lesson records, "NN slug programs tsan diagram
# builds", in the registry's order, without comments and diagram records.
registry_records() {
	[ -f "$REGISTRY" ] || { echo "lib.sh: $REGISTRY is missing" >&2; return 1; }
	awk '$1 ~ /^[0-9][0-9]$/' "$REGISTRY"
}

# Every lesson slug (NN-name) in the registry, in order.
all_lessons() {
	registry_records | awk '{ print $1 "-" $2 }'
}

# lesson_field SLUG FIELD: one field (programs, tsan, diagram or builds) of
# lesson SLUG's record; status 1 when SLUG is not registered.
lesson_field() {
	registry_records | awk -v slug="$1" -v field="$2" '
		$1 "-" $2 == slug {
			if (field == "programs") print $3
			else if (field == "tsan") print $4
			else if (field == "diagram") print $5
			else if (field == "builds") {
				for (i = 1; i <= 5; i++) sub(/^[ \t]*[^ \t]+/, "")
				sub(/^[ \t]+/, "")
				print
			}
			found = 1
		}
		END { exit !found }'
}

# lesson_programs SLUG: the lesson's programs, one a line.
lesson_programs() {
	local p
	p=$(lesson_field "$1" programs) || return 1
	printf '%s\n' "${p//,/$'\n'}"
}

# resolve_lesson ARG: print the slug for "2", "02" or "02-tcp-server".
resolve_lesson() {
	local want=$1 slug num
	case $want in
	[0-9]) want=0$want ;;
	esac
	for slug in $(all_lessons); do
		num=${slug%%-*}
		if [ "$want" = "$num" ] || [ "$want" = "$slug" ]; then
			printf '%s\n' "$slug"
			return 0
		fi
	done
	return 1
}

# lesson_wanted SLUG: 0 if LESSONS ("01 02", slugs, or unset for every
# lesson) names SLUG by its number or its slug. make test, make stress and
# the self-test scripts all pick their lessons with it.
lesson_wanted() {
	[ -z "${LESSONS:-}" ] && return 0
	case " $LESSONS " in *" ${1%%-*} "* | *" $1 "*) return 0 ;; esac
	return 1
}

# list_lessons: one line per lesson, for error messages and help.
list_lessons() {
	local slug
	for slug in $(all_lessons); do
		printf '  %s\n' "$slug"
	done
}

# Colours only on a terminal, and never when NO_COLOR is set.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	C_RED=$'\033[31m' C_GREEN=$'\033[32m' C_BOLD=$'\033[1m' C_DIM=$'\033[2m' C_OFF=$'\033[0m'
else
	C_RED='' C_GREEN='' C_BOLD='' C_DIM='' C_OFF=''
fi

# cpu_count: the CPUs online, at least 1.
cpu_count() {
	local cpus
	cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	[ "$cpus" -ge 1 ] 2>/dev/null || cpus=1
	printf '%s\n' "$cpus"
}

# bats_jobs: how many of a suite's tests scripts/run-suite runs at once:
# JOBS, or one more than the machine has CPUs, at most 4. The tests spend
# much of their time waiting for a program's line, so one more than the CPUs
# keeps them busy; more than 4 only adds to the load a test must stand
# (docs/DECISIONS.md, "Feedback: speed, progress and reports").
bats_jobs() {
	local cpus
	if [ -n "${JOBS:-}" ]; then
		printf '%s\n' "$JOBS"
		return
	fi
	cpus=$(cpu_count)
	printf '%s\n' $((cpus + 1 > 4 ? 4 : cpus + 1))
}

# selftest_jobs: how many checks make test (and make stress, for its
# variants) runs at once: SELFTEST_JOBS, or twice the CPUs and one, at most
# 8. A check spends much of its time waiting on its programs, so more checks
# than CPUs keep the machine busy (docs/DECISIONS.md, "Feedback: speed,
# progress and reports").
selftest_jobs() {
	local cpus
	if [ -n "${SELFTEST_JOBS:-}" ]; then
		printf '%s\n' "$SELFTEST_JOBS"
		return
	fi
	cpus=$(cpu_count)
	printf '%s\n' $((2 * cpus + 1 > 8 ? 8 : 2 * cpus + 1))
}

# line_awk: the awk command to read a pipe line by line, so that a line that
# has come is handled before the next one comes. mawk (Debian's awk) reads a
# pipe in large blocks unless told -W interactive; other awks read lines as
# they come. Use: "${LINE_AWK[@]}" PROGRAM.
LINE_AWK=(awk)
awk -W version 2>&1 | grep -q mawk && LINE_AWK=(awk -W interactive)

# merge_times NEW OLD: write to stdout the lines "SECONDS<TAB>KEY" of NEW,
# then those of OLD (if it exists) whose KEY is not in NEW: a record of how
# long each thing took, updated with one run's figures.
merge_times() {
	cat "$1"
	[ ! -f "$2" ] || awk -F '\t' 'NR == FNR { ran[$2] = 1; next } !($2 in ran)' "$1" "$2"
}

# lesson_key SLUG: a hash of everything a student's result on lesson SLUG
# depends on (its files, its suite, tests/lib, common/), for make progress
# and make check to share results in build/progress/.
lesson_key() {
	(
		cd "$ROOT" || exit 1
		find "lessons/$1" "tests/$1.bats" tests/lib common -type f \
			! -name '*.o' ! -name '*~' ! -name '.*.sw?' -print0 2>/dev/null |
			LC_ALL=C sort -z | xargs -0 sha256sum
	) | sha256sum | cut -c1-32
}

# selftest_work NAME: WORK, a fresh build/selftest/NAME.PID/ for the files
# of one run of tests/selftest.d/NAME.sh. The directories of NAME's runs
# that have ended go first, but not those of this same make test
# (SELFTEST_RESULTS names it, in each directory's .run): one job per lesson
# runs NAME several times, and a job that failed keeps its files for the
# report's reader until the next make test.
selftest_work() {
	local old
	for old in "$ROOT"/build/selftest/"$1".*; do
		[ -d "$old" ] && ! kill -0 "${old##*.}" 2>/dev/null || continue
		[ -n "${SELFTEST_RESULTS:-}" ] && [ "$(cat "$old/.run" 2>/dev/null)" = "$SELFTEST_RESULTS" ] && continue
		rm -rf "$old"
	done
	WORK=$ROOT/build/selftest/$1.$$
	rm -rf "$WORK"
	mkdir -p "$WORK" && printf '%s\n' "${SELFTEST_RESULTS:-}" >"$WORK/.run"
}
