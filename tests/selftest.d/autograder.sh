#!/usr/bin/env bash
# tests/selftest.d/autograder.sh - the Gradescope autograder as an instructor
# ships it (scripts/gradescope/setup.sh and run_autograder), run under a
# temporary root instead of /autograder, on the uploads students really make:
# bare files, a nested folder, a whole clone, nothing, a file that does not
# compile. Also: the documented recipes use a command whose exit status means
# what the docs say.
#
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Lesson 01 only. Work files: build/selftest/autograder.PID/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

selftest_work autograder
work=$WORK

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
details() { head -c 6000 "$1" | head -n 40 | sed 's/^/# /'; }
n01=$(cd tests && BIN_DIR=x TOOLS_DIR=x bats --count 01-socket.bats)
# The points: the tests the skeleton passes are given, worth nothing.
n01=$((n01 - $(grep -c "^01-socket	" tests/given.txt)))

# unpack ROOT: the autograder as Gradescope unpacks it, under ROOT.
unpack() {
	local r=$1 wb=$1/source/workbook
	mkdir -p "$wb/tests" "$r/submission" "$r/results"
	cp -R Makefile scripts common lessons "$wb/"
	cp -R tests/lib tests/01-socket.bats tests/given.txt "$wb/tests/"
	cp scripts/gradescope/setup.sh scripts/gradescope/run_autograder "$r/source/"
}

# Gradescope runs setup.sh once, when it builds the image, and
# run_autograder once for each upload in a fresh copy of that image: so
# here, setup.sh once under $work/image, and each case a copy of it (cp -a:
# the built tools keep their times, and so stay built).
image=$work/image
unpack "$image"
(AUTOGRADER_ROOT=$image bash "$image/source/setup.sh") >"$work/setup.log" 2>&1
setup_status=$?
if [ $setup_status -eq 0 ] && [ -x "$image/source/workbook/build/tools/tcpeer" ]; then
	ok "setup.sh, run once as Gradescope runs it when it builds the image, builds the test tools (build/tools/)"
else
	not_ok "setup.sh, run once as Gradescope runs it when it builds the image, builds the test tools (build/tools/)" "exit $setup_status"
	details "$work/setup.log"
fi

# layout ROOT: a copy of the image, with an empty upload.
layout() {
	rm -rf "$1"
	cp -a "$image" "$1"
}

# run_case NAME [env...]: run run_autograder under $work/NAME (a copy of
# the image); the submission is filled by the caller in between (submit).
# The bound (1800 s) is against a hang only, far above a loaded machine's
# time, so that load never fails a case.
case_root() { printf '%s/%s\n' "$work" "$1"; }
run_case() { # NAME [VAR=VALUE...]
	local r
	r=$(case_root "$1")
	shift
	(
		export AUTOGRADER_ROOT=$r
		env "$@" timeout 1800 bash "$r/source/run_autograder"
	) >"$r/log" 2>&1
}

# expect_score NAME SCORE MAX TEXT: results.json has that score and max, and
# its top-level output contains TEXT.
expect_score() {
	local r f
	r=$(case_root "$1")
	f=$r/results/results.json
	[ -f "$f" ] && jq -e --argjson s "$2" --argjson m "$3" --arg t "$4" \
		'.score == $s and ((.max_score // 0) == $m) and (.output | contains($t)) and .output_format == "text"' "$f" >/dev/null
}

report() { # NAME TEST-NAME
	local r
	r=$(case_root "$1")
	if [ "${2:-}" = ok ]; then
		ok "$3"
	else
		not_ok "$3"
		[ -f "$r/results/results.json" ] && jq -c '{score, max_score, output}' "$r/results/results.json" | cut -c 1-2000 | details /dev/stdin
		details "$r/log"
	fi
}

# Bare files: the lesson's .c file alone, at the top of the upload.
layout "$(case_root bare)"
cp solutions/01-socket/sockets.c "$(case_root bare)/submission/"
run_case bare
if expect_score bare "$n01" "$n01" "graded sockets.c as lessons/01-socket/sockets.c"; then r=ok; else r=; fi
report bare "$r" "run_autograder grades a bare upload (sockets.c alone) as lesson 01 and says so: $n01 of $n01"

# A nested folder.
layout "$(case_root nested)"
mkdir -p "$(case_root nested)/submission/my work/lab 1"
cp solutions/01-socket/sockets.c "$(case_root nested)/submission/my work/lab 1/"
run_case nested
if expect_score nested "$n01" "$n01" "as lessons/01-socket/sockets.c"; then r=ok; else r=; fi
report nested "$r" "run_autograder finds a lesson file in a nested folder ('my work/lab 1/sockets.c')"

# A whole clone: lessons/ counts; its own tests/ and solutions/ do not.
layout "$(case_root clone)"
sub=$(case_root clone)/submission
mkdir -p "$sub/lessons/01-socket" "$sub/solutions/01-socket" "$sub/tests"
cp solutions/01-socket/sockets.c "$sub/lessons/01-socket/"
cp lessons/01-socket/README.md "$sub/lessons/01-socket/"
cp tests/hostile/does-not-compile/01-socket/sockets.c "$sub/solutions/01-socket/"
printf '@test "always passes" { true; }\n' >"$sub/tests/01-socket.bats"
run_case clone
if expect_score clone "$n01" "$n01" "graded lessons/01-socket/sockets.c"; then r=ok; else r=; fi
report clone "$r" "run_autograder grades a whole clone's lessons/01-socket, never its own tests/ or solutions/"

# Nothing: no lesson file at all.
layout "$(case_root nothing)"
echo "my answers are in my head" >"$(case_root nothing)/submission/README.txt"
run_case nothing
if expect_score nothing 0 0 "No lesson file"; then r=ok; else r=; fi
report nothing "$r" "run_autograder on an upload with no lesson file: score 0 and an output that says so"
layout "$(case_root nothing01)"
echo "nothing here" >"$(case_root nothing01)/submission/notes.txt"
run_case nothing01 LESSON=01
f=$(case_root nothing01)/results/results.json
if [ -f "$f" ] && jq -e --argjson m "$n01" '.max_score == $m and (.output | startswith("No lesson file"))' "$f" >/dev/null; then r=ok; else r=; fi
report nothing01 "$r" "with LESSON=01 and no lesson file: the skeleton is graded (of $n01), and the output says first that no file was found"

# A file that does not compile: 0, and the compiler's message once, at the top.
layout "$(case_root nobuild)"
cp tests/hostile/does-not-compile/01-socket/sockets.c "$(case_root nobuild)/submission/"
run_case nobuild
f=$(case_root nobuild)/results/results.json
if expect_score nobuild 0 "$n01" "does not compile" &&
	jq -e '(.output | contains("undeclared")) and all(.tests[]; (.output | contains("undeclared")) | not)' "$f" >/dev/null; then
	r=ok
else
	r=
fi
report nobuild "$r" "run_autograder on a file that does not compile: 0 of $n01, the compiler's message once at the top, not in every test"

# Student-visible output has no bats stack trace.
if [ -f "$f" ] && ! grep -qE 'in test file|from function' "$(case_root nothing01)/results/results.json"; then
	ok "results.json's test outputs carry no bats stack trace ('in test file', 'from function')"
else
	not_ok "results.json's test outputs carry no bats stack trace ('in test file', 'from function')"
	grep -m 3 -E 'in test file|from function' "$(case_root nothing01)/results/results.json" | details /dev/stdin
fi

# The documented recipes run a command whose status is the grade's: never
# make (whose own exit status is 2 for any failure, as for bad usage).
recipes=$(grep -nE '^ *(run|command): .*grade|\| `make grade LESSON' docs/INSTRUCTORS.md)
if [ -n "$(grep -nE '^ *(run|command): .*scripts/grade' docs/INSTRUCTORS.md)" ] &&
	! printf '%s\n' "$recipes" | grep -q 'make grade'; then
	ok "docs/INSTRUCTORS.md's CI and Classroom recipes run scripts/grade (exit 0 all pass, 1 some fail, 2 bad usage)"
else
	not_ok "docs/INSTRUCTORS.md's CI and Classroom recipes run scripts/grade (exit 0 all pass, 1 some fail, 2 bad usage)" \
		"recipes: $(printf '%s' "$recipes" | tr '\n' ' ')"
fi
scripts/grade 99 >/dev/null 2>&1
s_usage=$?
IMPL=$ROOT/tests/hostile/does-not-compile scripts/grade 01 >/dev/null 2>&1
s_fail=$?
if [ $s_usage -eq 2 ] && [ $s_fail -eq 1 ]; then
	ok "scripts/grade exits 1 for a failing grade and 2 for bad usage"
else
	not_ok "scripts/grade exits 1 for a failing grade and 2 for bad usage" "bad usage: $s_usage, failing grade: $s_fail"
fi

rm -rf "$work"
exit 0
