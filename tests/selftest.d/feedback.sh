#!/usr/bin/env bash
# tests/selftest.d/feedback.sh - the feedback the workbook's own tools give:
# make test's progress lines and timing report, the terminal-sized report of
# make check, the pristine-skeleton manifest, and the benchmark's figures.
#
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Quick: no lesson suite is run here, only fakes and small
# scratch projects. Work files: build/selftest/feedback.PID/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

selftest_work feedback
work=$WORK

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
details() { head -c 6000 "$1" | head -n 40 | sed 's/^/# /'; }

# ---------------------------------------------------------------------------
# make test: a line per finished job while it runs, then the report in its
# fixed order, the timing report, and the last line "N passed, N failed".
# Three fake extra checks stand in for the jobs; the real ones are skipped
# by name, so that an old selftest (which has no SELFTEST_EXTRA) runs nothing
# and fails these checks instead of running the whole self-test.
extra=$work/extra
mkdir -p "$extra"
out=$work/selftest.out
# The slow one passes only if the fast ones' lines are already in the output
# while it still runs: the lines are streamed, not printed at the end. It
# looks for up to 60 s, ending as soon as they are there (a loaded machine
# may be slow to start the two others).
cat >"$extra/fb-slow.sh" <<EOF
for i in \$(seq 1 600); do
	[ "\$(grep -c '^\[[0-9]/3\] ' "$out")" -ge 2 ] && { echo "ok - slow"; exit 0; }
	sleep 0.1
done
echo "not ok - slow: no progress line while it ran"
EOF
printf 'echo "ok - fast"; echo "not ok - broken"; echo "# detail of broken"\n' >"$extra/fb-broken.sh"
printf 'echo "ok - quick"\n' >"$extra/fb-quick.sh"
skip=$(for s in tests/selftest.d/*.sh; do basename "$s" .sh; done | tr '\n' ' ')
(LESSONS=none SKIP="$skip" SELFTEST_EXTRA=$extra SELFTEST_JOBS=3 TIMINGS_FILE=$work/timings.txt DURATIONS_FILE=$work/durations.tsv \
	TIMINGS=1 NO_COLOR=1 timeout 120 scripts/selftest >"$out" 2>&1)
status=$?
first_report=$(grep -n '^Checks: ' "$out" | head -n 1 | cut -d: -f1)
last_progress=$(grep -n '^\[[0-9]*/3\] ' "$out" | tail -n 1 | cut -d: -f1)
if [ "$(grep -c '^\[[0-9]*/3\] ' "$out")" = 3 ] &&
	grep -qE '^\[[12]/3\] ✗ checks fb-broken: 1 of 2 fail \([0-9.]+ s; 1 failed so far\)$' "$out" &&
	grep -qE '^\[3/3\] ✓ checks fb-slow: .* \([0-9.]+ s\)$' "$out" &&
	[ -n "$first_report" ] && [ "$last_progress" -lt "$first_report" ] && [ $status -eq 1 ]; then
	ok "make test prints '[done/total] ✓/✗ WHAT (TIME)' as each check ends, with the failures so far, before the report"
else
	not_ok "make test prints '[done/total] ✓/✗ WHAT (TIME)' as each check ends, with the failures so far, before the report" \
		"exit $status (want 1)"
	details "$out"
fi
if [ "$(tail -n 1 "$out")" = "3 passed, 1 failed" ] &&
	grep -q '^  ✗ fb-broken: broken$' "$out" && grep -q '^      detail of broken$' "$out"; then
	ok "make test still ends with the fixed-order report and the line 'N passed, N failed'"
else
	not_ok "make test still ends with the fixed-order report and the line 'N passed, N failed'" \
		"last line: $(tail -n 1 "$out")"
fi
if [ -f "$work/timings.txt" ] && sed -n 2p "$work/timings.txt" | grep -q 'checks fb-slow' &&
	[ "$(grep -c 'checks fb-' "$work/timings.txt")" = 3 ] &&
	grep -q '^The 10 slowest of 3 checks' "$out"; then
	ok "make test writes the slowest checks, slowest first, to build/selftest/timings.txt (and shows them with TIMINGS=1)"
else
	not_ok "make test writes the slowest checks to build/selftest/timings.txt and shows them with TIMINGS=1"
	[ -f "$work/timings.txt" ] && details "$work/timings.txt"
	details "$out"
fi

# ---------------------------------------------------------------------------
# scripts/build: each .c file is compiled once per flavour and content (a
# module once, not once for each program that links it), and a program is
# linked from the objects; a copy of the same sources elsewhere reuses the
# binaries (and shows the same warnings again); a change to one source
# compiles that file again, not the others and not common/*.c, which is
# compiled once per flavour into objects that every build links.
cc_log=$work/cc.log
cat >"$work/cc" <<EOF
#!/bin/sh
case " \$* " in *" --version "*) ;; *) echo "\$*" >>"$cc_log" ;; esac
exec ${CC:-cc} "\$@"
EOF
chmod +x "$work/cc"
# links: the compiler runs that made a program; objects: the -c runs of the
# lesson's files; common_objects: those of common/*.c; compiled FILE: the -c
# runs of the lesson's FILE. (A -c run's last word is its source file.)
links() { grep -vc -- ' -c ' "$cc_log" 2>/dev/null || :; }
objects() { grep -- ' -c ' "$cc_log" 2>/dev/null | grep -vc " $ROOT/common/[^ ]*\.c\$" || :; }
common_objects() { grep -c -- " -c .* $ROOT/common/[^ ]*\.c\$" "$cc_log" 2>/dev/null || :; }
compiled() { grep -c -- " -c .*/$1\$" "$cc_log" 2>/dev/null || :; }
n_common=$(find common -maxdepth 1 -name '*.c' | wc -l)
mkdir -p "$work/b1" "$work/b2"
cp -R solutions/01-socket "$work/b1/src"
cp -R solutions/01-socket "$work/b2/src"
printf '\nint unused_but_warned(void);\nint unused_but_warned(void) { int x; return 0; }\n' >>"$work/b1/src/sockets.c"
printf '\nint unused_but_warned(void);\nint unused_but_warned(void) { int x; return 0; }\n' >>"$work/b2/src/sockets.c"
bcache=$work/cache
CC=$work/cc BUILD_CACHE=$bcache scripts/build "$work/b1/src" "$work/b1/out" >"$work/b1.log" 2>&1
s1=$? n1=$(links) l1=$(objects) o1=$(common_objects)
CC=$work/cc BUILD_CACHE=$bcache scripts/build "$work/b2/src" "$work/b2/out" >"$work/b2.log" 2>&1
s2=$? n2=$(links) l2=$(objects) o2=$(common_objects)
w1=$(grep -c 'unused variable' "$work/b1.log") w2=$(grep -c 'unused variable' "$work/b2.log")
if [ $s1 -eq 0 ] && [ $s2 -eq 0 ] && [ "$n1" = 2 ] && [ "$n2" = 2 ] && [ "$l1" = 2 ] && [ "$l2" = 2 ] &&
	[ "$o1" = $((2 * n_common)) ] && [ "$o2" = "$o1" ] &&
	[ -x "$work/b2/out/asan/sockets" ] && [ -x "$work/b2/out/plain/sockets" ] && [ "$w1" = 1 ] && [ "$w2" = 1 ]; then
	ok "scripts/build compiles a program once per flavour, and common/ once per flavour; the same sources elsewhere reuse both, warnings shown again"
else
	not_ok "scripts/build compiles a program once per flavour, and common/ once per flavour; the same sources elsewhere reuse both, warnings shown again" \
		"status $s1, $s2; programs linked after the first build: $n1 (want 2: asan, plain), after the second: $n2 (want 2)" \
		"the lesson's files compiled after the first build: $l1 (want 2), after the second: $l2 (want 2)" \
		"common/ objects compiled after the first build: $o1 (want $((2 * n_common)): $n_common files, 2 flavours), after the second: $o2 (want the same)" \
		"the warning shown by the first build: $w1 time(s), by the second: $w2 (want 1 and 1)"
	details "$work/b2.log"
fi
echo '/* changed */' >>"$work/b2/src/sockets.c"
CC=$work/cc BUILD_CACHE=$bcache scripts/build "$work/b2/src" "$work/b2/out" >"$work/b3.log" 2>&1
n3=$(links) l3=$(objects) o3=$(common_objects)
if [ "$n3" = 4 ] && [ "$l3" = 4 ] && [ "$o3" = "$o1" ]; then
	ok "scripts/build rebuilds every flavour when a lesson's source changes, and not common/"
else
	not_ok "scripts/build rebuilds every flavour when a lesson's source changes, and not common/" \
		"programs linked: $n3 (want 4), the lesson's files compiled: $l3 (want 4), common/ objects: $o3 (want $o1)"
fi
# A lesson of three programs and a module (11-events, room.c): the module is
# compiled once per flavour, not once for each program; a change to one
# program's file compiles that file alone (and links every program again).
mkdir -p "$work/b4"
cp -R solutions/11-events "$work/b4/src"
: >"$cc_log"
CC=$work/cc BUILD_CACHE=$bcache scripts/build "$work/b4/src" "$work/b4/out" >"$work/b4.log" 2>&1
s4=$? room4=$(compiled room.c) all4=$(objects)
echo '/* changed */' >>"$work/b4/src/poll_chat.c"
: >"$cc_log"
CC=$work/cc BUILD_CACHE=$bcache scripts/build "$work/b4/src" "$work/b4/out" >"$work/b5.log" 2>&1
s5=$? poll5=$(compiled poll_chat.c) all5=$(objects) n5=$(links)
if [ $s4 -eq 0 ] && [ $s5 -eq 0 ] && [ "$room4" = 2 ] && [ "$all4" = 8 ] && [ "$poll5" = 2 ] && [ "$all5" = 2 ] && [ "$n5" = 6 ]; then
	ok "scripts/build compiles a module once per flavour (not once per program), and a change to one file compiles that file alone"
else
	not_ok "scripts/build compiles a module once per flavour (not once per program), and a change to one file compiles that file alone" \
		"status $s4, $s5; 11-events: room.c compiled $room4 time(s) (want 2: asan, plain), the lesson's files $all4 (want 8: 4 files, 2 flavours)" \
		"after a change to poll_chat.c: it was compiled $poll5 time(s) (want 2), the lesson's files $all5 (want 2), programs linked $n5 (want 6)"
	details "$work/b5.log"
fi

# ---------------------------------------------------------------------------
# make bench's download: at least five interleaved rounds of ours and three
# anchors (sendfile-copy, socat -b 262144, nc), medians with their spread,
# and our ratio to each anchor. A small file, so that it takes seconds.
BENCH=download BENCH_MIB=4 timeout 300 scripts/bench >"$work/bench.txt" 2>&1
status=$?
rounds_ok=1
for l in 'file-server \+ download' 'sendfile-copy' 'socat -b 262144' 'nc -N -l'; do
	[ "$(grep -cE "^  round [0-9]+ +$l" "$work/bench.txt")" -ge 5 ] || rounds_ok=
	grep -qE "^  $l.* [0-9.]+ MiB/s +[0-9.]+-[0-9.]+ " "$work/bench.txt" || rounds_ok=
done
if [ $status -eq 0 ] && [ -n "$rounds_ok" ] &&
	[ "$(grep -cE '^  ratio of medians, ours / .*: [0-9.]+$' "$work/bench.txt")" = 3 ] &&
	[ "$(grep -E '^  round 2 ' "$work/bench.txt" | head -n 1 | grep -c sendfile)" = 1 ]; then
	ok "make bench (download): 5 interleaved rounds, median and spread of ours, sendfile, socat and nc, ratio to each"
else
	not_ok "make bench (download): 5 interleaved rounds, median and spread of ours, sendfile, socat and nc, ratio to each" \
		"exit $status"
	details "$work/bench.txt"
fi

# ---------------------------------------------------------------------------
# make check's report fits a terminal: the ✓/✗ list, then the first failure
# in full at the bottom, then the summary; every failure in full in the file
# the screen names, and on the screen with VERBOSE=1.
tap=$work/fake.tap
{
	echo "1..4"
	echo "ok 1 first thing works"
	echo "not ok 2 second thing fails"
	echo "# (in test file 02-x.bats, line 9)"
	echo "#   \`expect_status x 0' failed"
	echo "# -- detail of the FIRST failure --"
	echo "# hint: read about the first"
	echo "not ok 3 third thing fails"
	echo "# -- detail of the SECOND failure --"
	echo "ok 4 fourth thing works"
} >"$tap"
NO_COLOR=1 scripts/render-tap "Lesson 02-x (lessons):" "$work/report/02-x.txt" <"$tap" >"$work/render.txt" 2>&1
status=$?
NO_COLOR=1 VERBOSE=1 scripts/render-tap "Lesson 02-x (lessons):" "$work/report/02-x.txt" <"$tap" >"$work/render-v.txt" 2>&1
first=$(grep -n 'detail of the FIRST' "$work/render.txt" | cut -d: -f1)
list_end=$(grep -n '✓ fourth thing works' "$work/render.txt" | cut -d: -f1)
if [ $status -eq 1 ] && [ "$(tail -n 1 "$work/render.txt")" = "2 passed, 2 failed" ] &&
	[ -n "$first" ] && [ -n "$list_end" ] && [ "$first" -gt "$list_end" ] &&
	! grep -q 'detail of the SECOND' "$work/render.txt" && ! grep -q 'in test file' "$work/render.txt" &&
	grep -q 'report/02-x.txt' "$work/render.txt" &&
	grep -q 'detail of the FIRST' "$work/report/02-x.txt" && grep -q 'detail of the SECOND' "$work/report/02-x.txt" &&
	grep -q 'detail of the SECOND' "$work/render-v.txt"; then
	ok "make check shows the ✓/✗ list, then the first failure in full, then the summary; all of it in build/report/ and with VERBOSE=1"
else
	not_ok "make check shows the ✓/✗ list, then the first failure in full, then the summary; all of it in build/report/ and with VERBOSE=1" \
		"exit $status"
	details "$work/render.txt"
fi

# ---------------------------------------------------------------------------
# The skeletons' record: lessons/.pristine matches lessons/ (so it cannot go
# stale), and progress and reset trust it, not HEAD: a student's commit does
# not turn their work into "the skeleton".
if out_pristine=$(scripts/pristine check 2>&1); then
	ok "lessons/.pristine records every skeleton file as it is in lessons/"
else
	not_ok "lessons/.pristine records every skeleton file as it is in lessons/" "$out_pristine"
fi
proj=$work/project
mkdir -p "$proj/tests" "$proj/lessons" "$proj/solutions"
cp -R Makefile scripts common "$proj/"
cp -R tests/lib tests/01-socket.bats "$proj/tests/"
cp -R lessons/01-socket "$proj/lessons/"
cp lessons/.pristine "$proj/lessons/" 2>/dev/null
cp lessons/LESSONS "$proj/lessons/" # the lesson registry
cp -R solutions/01-socket "$proj/solutions/"
cp .gitignore "$proj/" 2>/dev/null
gitc() { git -C "$proj" -c user.name=selftest -c user.email=selftest@localhost "$@"; }
gitc init -q && gitc add -A && gitc commit -q -m skeleton
# The student solves lesson 01 and commits.
cp solutions/01-socket/*.c "$proj/lessons/01-socket/"
gitc commit -q -am "my lesson 01"
(cd "$proj" && NO_COLOR=1 make -s check LESSON=01) >"$work/p-check.txt" 2>&1
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/p-progress.txt" 2>&1
if grep -qE '01-socket +done' "$work/p-progress.txt" && grep -q '0 checked now, 1 from cache' "$work/p-progress.txt"; then
	ok "make progress after a commit: the committed lesson is 'done', reusing the result make check just computed"
else
	not_ok "make progress after a commit: the committed lesson is 'done', reusing the result make check just computed"
	details "$work/p-progress.txt"
	tail -n 5 "$work/p-check.txt" | details /dev/stdin
fi
# Answering no is not an error; yes (FORCE=1) restores the skeleton even
# though HEAD holds the student's work; the saved copy survives make clean.
if command -v script >/dev/null 2>&1; then
	(cd "$proj" && printf 'n\n' | timeout 60 script -qec 'scripts/reset 01' /dev/null) >"$work/r-no.txt" 2>&1
	status=$?
	if [ $status -eq 0 ] && grep -q 'nothing changed' "$work/r-no.txt" &&
		cmp -s solutions/01-socket/sockets.c "$proj/lessons/01-socket/sockets.c"; then
		ok "make reset answered 'n': exit 0, 'nothing changed', the lesson untouched"
	else
		not_ok "make reset answered 'n': exit 0, 'nothing changed', the lesson untouched" "exit $status"
		details "$work/r-no.txt"
	fi
fi
(cd "$proj" && make -s reset LESSON=01 FORCE=1 </dev/null) >"$work/r-yes.txt" 2>&1
status=$?
(cd "$proj" && make -s clean) >"$work/clean.txt" 2>&1
if [ $status -eq 0 ] && cmp -s lessons/01-socket/sockets.c "$proj/lessons/01-socket/sockets.c" &&
	ls "$proj"/build/reset/01-socket-*/sockets.c >/dev/null 2>&1 &&
	cmp -s solutions/01-socket/sockets.c "$(ls "$proj"/build/reset/01-socket-*/sockets.c | head -n 1)" &&
	grep -q 'build/reset' "$work/clean.txt"; then
	ok "make reset after a commit restores the recorded skeleton; the saved copy survives make clean, which says so"
else
	not_ok "make reset after a commit restores the recorded skeleton; the saved copy survives make clean, which says so" \
		"exit $status"
	details "$work/r-yes.txt"
	details "$work/clean.txt"
fi
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/p-progress2.txt" 2>&1
if grep -qE '01-socket +not started' "$work/p-progress2.txt"; then
	ok "make progress: a lesson reset to the skeleton is 'not started' again, whatever HEAD holds"
else
	not_ok "make progress: a lesson reset to the skeleton is 'not started' again, whatever HEAD holds"
	details "$work/p-progress2.txt"
fi
if ! grep -rq 'SKELETON_REV' README.md scripts/progress scripts/reset docs/*.md; then
	ok "no advice to set SKELETON_REV is left in README, docs or scripts"
else
	not_ok "no advice to set SKELETON_REV is left in README, docs or scripts" \
		"$(grep -rl 'SKELETON_REV' README.md scripts/progress scripts/reset docs/*.md | tr '\n' ' ')"
fi
(cd "$proj" && make -s compile_commands) >"$work/cc.txt" 2>&1
if [ -f "$proj/compile_commands.json" ] && ! grep -q '/solutions/' "$proj/compile_commands.json" &&
	grep -q '/lessons/01-socket/sockets.c' "$proj/compile_commands.json"; then
	ok "make compile_commands leaves solutions/ out by default (SOLUTIONS=1 adds them)"
else
	not_ok "make compile_commands leaves solutions/ out by default (SOLUTIONS=1 adds them)"
	details "$work/cc.txt"
fi

# ---------------------------------------------------------------------------
# An untouched skeleton earns nothing: the tests it passes are "given" (in
# results.json with max_score 0), so lesson 01's skeleton scores 0 of the rest.
mkdir -p "$work/skel"
cp -R lessons/01-socket "$work/skel/"
OUT=$work/skel.json IMPL=$work/skel scripts/grade 01 gradescope >"$work/skel-grade.txt" 2>&1
g01=$(grep -c "^01-socket	" tests/given.txt)
if [ "$g01" -gt 0 ] && jq -e --argjson g "$g01" '.score == 0 and .max_score > 0
	and ([.tests[] | select(.max_score == 0 and (.name | endswith("(given)")))] | length) == $g
	and (.output | contains("given"))' "$work/skel.json" >/dev/null; then
	ok "an untouched skeleton scores 0: the $g01 tests it passes are reported as given, worth nothing"
else
	not_ok "an untouched skeleton scores 0: the tests it passes are reported as given, worth nothing"
	[ -f "$work/skel.json" ] && jq -c '{score, max_score, output}' "$work/skel.json" | details /dev/stdin
	details "$work/skel-grade.txt"
fi

# ---------------------------------------------------------------------------
# A test the suite never reported is explained by what happened to the suite:
# stopped at its time limit, or ended early, never a guess. Two fake bats
# that report one test: one exits 1 at once, the other hangs past a
# SUITE_TIMEOUT of 1 s (the real suite of lesson 01 can end within a second
# on a fast machine, and would then prove nothing).
mkdir -p "$work/fakebin" "$work/hangbin" "$work/g1"
cp -R solutions/01-socket "$work/g1/"
fake_head='#!/bin/sh\ncase " $* " in *" --count "*) echo 10; exit 0 ;; esac\necho "1..10"\necho "ok 1 inet stream makes an IPv4 TCP socket (AF_INET, SOCK_STREAM)"\n'
# shellcheck disable=SC2059 # the format is the script
printf "${fake_head}exit 1\n" >"$work/fakebin/bats"
# shellcheck disable=SC2059
printf "${fake_head}exec sleep 60\n" >"$work/hangbin/bats"
chmod +x "$work/fakebin/bats" "$work/hangbin/bats"
# (JOBS=1: the fake stands for one bats process, as scripts/run-suite runs
# bats alone then.)
JOBS=1 PATH=$work/fakebin:$PATH OUT=$work/early.json IMPL=$work/g1 scripts/grade 01 gradescope >"$work/early.txt" 2>&1
JOBS=1 PATH=$work/hangbin:$PATH SUITE_TIMEOUT=1 OUT=$work/late.json IMPL=$work/g1 scripts/grade 01 gradescope >"$work/late.txt" 2>&1
if jq -e '[.tests[] | select(.status == "failed" and (.name | endswith("(given)") | not))] as $f
	| ($f | length) > 0 and all($f[]; .output | contains("the suite ended (exit status 1)"))' "$work/early.json" >/dev/null &&
	jq -e '[.tests[] | select(.status == "failed" and (.name | endswith("(given)") | not))] as $f
	| ($f | length) > 0 and all($f[]; .output | contains("stopped at its time limit (SUITE_TIMEOUT, 1 s"))' "$work/late.json" >/dev/null; then
	ok "a test the suite never reported says what happened: the suite ended early (its exit status), or hit SUITE_TIMEOUT"
else
	not_ok "a test the suite never reported says what happened: the suite ended early (its exit status), or hit SUITE_TIMEOUT"
	[ -f "$work/early.json" ] && jq -c '[.tests[].output] | unique' "$work/early.json" | cut -c 1-600 | details /dev/stdin
	[ -f "$work/late.json" ] && jq -c '[.tests[].output] | unique' "$work/late.json" | cut -c 1-600 | details /dev/stdin
fi

# ---------------------------------------------------------------------------
# scripts/run-suite reads the tests' names from the suite's @test lines: a
# test it cannot read (here a name in single quotes, which bats takes) is one
# more "not ok", never a test silently left out; a suite it reads whole has
# no such line.
mkdir -p "$work/rs"
printf '@test "one" { true; }\n@test "two" { true; }\n' >"$work/rs/good.bats"
cp "$work/rs/good.bats" "$work/rs/bad.bats"
printf "@test 'three' { true; }\n" >>"$work/rs/bad.bats"
scripts/run-suite 2 "$work/rs/good.bats" >"$work/rs/good.tap" 2>&1
s_good=$?
scripts/run-suite 2 "$work/rs/bad.bats" >"$work/rs/bad.tap" 2>&1
s_bad=$?
if [ $s_good -eq 0 ] && [ "$(grep -c '^ok ' "$work/rs/good.tap")" = 2 ] && ! grep -q 'run-suite read' "$work/rs/good.tap" &&
	[ $s_bad -eq 1 ] && grep -q '^not ok 3 run-suite read 2 test names in bad.bats, which has 3 @test lines$' "$work/rs/bad.tap"; then
	ok "scripts/run-suite reports a test it cannot read from the suite (a name in single quotes) as one more 'not ok'"
else
	not_ok "scripts/run-suite reports a test it cannot read from the suite (a name in single quotes) as one more 'not ok'" \
		"exit $s_good for a suite of 2 readable tests (want 0), $s_bad with a third in single quotes (want 1)"
	details "$work/rs/bad.tap"
fi

rm -rf "$work"
exit 0
