#!/usr/bin/env bash
# tests/selftest.d/grader.sh - the grader as students and instructors use it:
# hints, grade (table, JUnit, Gradescope), progress, reset, watch,
# compile_commands.json, stress, and the hostile submissions in tests/hostile/.
#
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Runs in about two to three minutes on an idle machine
# (the hostile submissions run side by side): lesson 01 (and 02
# for the network cases) with a few tests each. Work files: build/selftest/grader.PID/.
#
# Hostile submissions: tests/hostile/NAME/NN-slug/ is a fake lesson that
# misbehaves. Each is checked with `scripts/check NN tests/hostile/NAME`
# (FILTER picks a few tests) and must: fail, finish within HOSTILE_BOUND
# seconds, print less than 200 KB, and leave no process of its own (the pids
# it logs to $HOSTILE_LOG, and anything running from its build directory)
# and no listening socket on the ports it logs.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

# One directory per run (two self-tests at once must not clear each other's);
# those of runs that have ended are removed.
for old in "$ROOT"/build/selftest/grader.*; do
	[ -d "$old" ] && ! kill -0 "${old##*.}" 2>/dev/null && rm -rf "$old"
done
work=${GRADER_WORK:-$ROOT/build/selftest/grader.$$}
rm -rf "$work"
mkdir -p "$work"
HOSTILE_BOUND=${HOSTILE_BOUND:-90}
OUTPUT_BOUND=200000

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
# details FILE: a file's first lines as "#" details.
details() { head -c 6000 "$1" | head -n 40 | sed 's/^/# /'; }

# suite_count SLUG: the number of tests bats sees in a suite.
suite_count() {
	(cd "$ROOT/tests" && BIN_DIR=x TOOLS_DIR=x bats --count "$1.bats")
}

# ---------------------------------------------------------------------------
# Hints: every suite's tests, in order, each with a hint naming a real section.
for slug in $(all_lessons); do
	[ -f "tests/$slug.bats" ] || continue
	out=$work/hint-$slug.txt
	if ! scripts/hint "$slug" >"$out" 2>&1; then
		not_ok "make hint LESSON=${slug%%-*} runs" "$(head -n 5 "$out")"
		continue
	fi
	want=$(suite_count "$slug")
	got=$(grep -cE '^ *[0-9]+\. ' "$out")
	nohint=$(grep -c '(no hint)' "$out")
	unfilled=$(grep -E '^ *(hint|read): ' "$out" | grep -cE '\$\{?[0-9]')
	if [ "$got" = "$want" ] && [ "$nohint" = 0 ] && [ "$unfilled" = 0 ] && [ "$(grep -c '^ *read: ' "$out")" -ge "$want" ]; then
		ok "make hint LESSON=${slug%%-*} lists all $want tests of $slug in order, each with a hint and a section"
	else
		not_ok "make hint LESSON=${slug%%-*} lists all tests of $slug, each with a hint and a section" \
			"tests in the suite: $want; listed: $got; without a hint: $nohint; with \$N left unfilled: $unfilled"
		details "$out"
	fi
	chapter=lessons/$slug/README.md
	[ -f "$chapter" ] || continue
	missing=()
	while IFS= read -r section; do
		grep -qxE "#+ +$(printf '%s' "$section" | sed 's/[][\.*^$()+?{}|/]/\\&/g') *" "$chapter" || missing+=("$section")
	done < <(sed -n 's/^ *read: [^,]*, section "\(.*\)"$/\1/p' "$out" | sort -u)
	if [ ${#missing[@]} -eq 0 ]; then
		ok "every hint of $slug names a section that exists in $chapter"
	else
		not_ok "every hint of $slug names a section that exists in $chapter" \
			"no such heading: ${missing[*]}"
	fi
done
if scripts/hint 99 >/dev/null 2>&1; then
	not_ok "make hint with an unknown lesson is a usage error"
else
	ok "make hint with an unknown lesson is a usage error"
fi

# ---------------------------------------------------------------------------
# Grading: table, exit status, JUnit, Gradescope.
n01=$(suite_count 01-socket)
# Points: the tests the untouched skeleton passes are given, worth nothing.
g01=$(grep -c "^01-socket	" tests/given.txt)
p01=$((n01 - g01))

IMPL=solutions scripts/grade 01 >"$work/grade-sol.txt" 2>&1
status=$?
if [ $status -eq 0 ] && grep -qE "^01-socket +$p01 +$p01 +all pass" "$work/grade-sol.txt"; then
	ok "make grade LESSON=01 IMPL=solutions: $p01 of $p01 (and $g01 given), exit 0"
else
	not_ok "make grade LESSON=01 IMPL=solutions: $p01 of $p01 (and $g01 given), exit 0" "exit $status"
	details "$work/grade-sol.txt"
fi

# jq_gradescope FILE SCORE MAX: results.json has Gradescope's fields and types.
jq_gradescope() {
	jq -e --argjson score "$2" --argjson max "$3" '
		(.score | type) == "number" and .score == $score
		and (.max_score | type) == "number" and .max_score == $max
		and (.tests | type) == "array" and ([.tests[] | select(.max_score > 0)] | length) == $max
		and all(.tests[];
			(.name | type) == "string" and (.name | length) > 0
			and (.score | type) == "number" and (.max_score | type) == "number"
			and .score <= .max_score
			and (.status == "passed" or .status == "failed")
			and (.max_score == 0 or ((.status == "passed") == (.score == .max_score)))
			and (.output | type) == "string")
		and ([.tests[].score] | add) == .score' "$1" >/dev/null
}

OUT=$work/results.json IMPL=solutions scripts/grade 01 gradescope >"$work/grade-gs.txt" 2>&1
status=$?
if [ $status -eq 0 ] && jq_gradescope "$work/results.json" "$p01" "$p01"; then
	ok "FORMAT=gradescope writes a results.json with score, max_score and tests[] (name, score, max_score, status, output)"
else
	not_ok "FORMAT=gradescope writes a valid results.json" "exit $status"
	details "$work/grade-gs.txt"
	[ -f "$work/results.json" ] && details "$work/results.json"
fi

# A submission that does not compile scores 0 of every test of the lesson.
OUT=$work/results-nobuild.json IMPL=$ROOT/tests/hostile/does-not-compile \
	scripts/grade 01 gradescope >"$work/grade-nobuild.txt" 2>&1
status=$?
if [ $status -eq 1 ] && jq_gradescope "$work/results-nobuild.json" 0 "$p01" &&
	jq -e 'all(.tests[]; .output | test("does not compile"))' "$work/results-nobuild.json" >/dev/null; then
	ok "a lesson that does not compile scores 0 of $n01 (every test failed, the compiler's message as output), exit 1"
else
	not_ok "a lesson that does not compile scores 0 of $n01, exit 1" "exit $status"
	details "$work/grade-nobuild.txt"
fi

# xml_counts FILE: "TESTCASES FAILURES" if FILE is well-formed XML.
xml_counts() {
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$1" 2>&1 | head -n 5 >&2 || return 1
		[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	fi
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = list(root.iter("testcase"))
fails = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
assert root.tag == "testsuites" and all(c.get("name") and c.get("classname") for c in cases)
assert int(root.get("tests")) == len(cases) and int(root.get("failures")) == len(fails)
print(len(cases), len(fails))' "$1"
}

# The untouched skeleton fails: JUnit shows each test and which failed.
rm -rf "$work/skel" && mkdir -p "$work/skel" && cp -R lessons/01-socket "$work/skel/"
OUT=$work/junit.xml IMPL=$work/skel scripts/grade 01 junit >"$work/grade-junit.txt" 2>&1
status=$?
if counts=$(xml_counts "$work/junit.xml" 2>"$work/xml.err") && [ $status -eq 1 ] &&
	[ "${counts% *}" = "$n01" ] && [ "${counts#* }" -gt 0 ] &&
	grep -q 'read: lessons/01-socket/README.md, section' "$work/junit.xml"; then
	ok "FORMAT=junit writes well-formed JUnit XML ($counts: tests, failures) with the hints in the failures, exit 1"
else
	not_ok "FORMAT=junit writes well-formed JUnit XML with one testcase per test, exit 1" \
		"exit $status, counts: ${counts:-none}"
	details "$work/xml.err"
	details "$work/grade-junit.txt"
fi
OUT=$work/junit-nobuild.xml IMPL=$ROOT/tests/hostile/does-not-compile scripts/grade 01 junit >/dev/null 2>&1
if counts=$(xml_counts "$work/junit-nobuild.xml" 2>/dev/null) && [ "$counts" = "$n01 $n01" ]; then
	ok "FORMAT=junit for a lesson that does not compile: $n01 testcases, all failed"
else
	not_ok "FORMAT=junit for a lesson that does not compile: $n01 testcases, all failed" "counts: ${counts:-none}"
fi
if scripts/grade 01 bogus >/dev/null 2>&1; [ $? -eq 2 ]; then
	ok "make grade with an unknown FORMAT is a usage error (exit 2)"
else
	not_ok "make grade with an unknown FORMAT is a usage error (exit 2)"
fi

# ---------------------------------------------------------------------------
# A scratch project (lesson 01 only, in its own git repository) for the
# tools that look at lessons/: progress, reset, watch, compile_commands.
proj=$work/project
mkdir -p "$proj/tests" "$proj/lessons" "$proj/solutions"
cp -R Makefile scripts common "$proj/"
cp -R tests/lib tests/01-socket.bats "$proj/tests/"
cp -R lessons/01-socket lessons/.pristine "$proj/lessons/"
cp -R solutions/01-socket "$proj/solutions/"
cp .gitignore "$proj/" 2>/dev/null
git -C "$proj" init -q && git -C "$proj" add -A &&
	git -C "$proj" -c user.name=selftest -c user.email=selftest@localhost commit -q -m skeleton

t0=$SECONDS
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/progress1.txt" 2>&1
secs=$((SECONDS - t0))
if grep -qE '01-socket +not started' "$work/progress1.txt" && ! grep -q 'checking' "$work/progress1.txt" &&
	grep -q 'Next: lesson 01-socket' "$work/progress1.txt" && [ $secs -le 10 ]; then
	ok "make progress on a fresh clone: 'not started', next lesson 01, nothing run (${secs}s)"
else
	not_ok "make progress on a fresh clone: 'not started', next lesson 01, nothing run" "took ${secs}s"
	details "$work/progress1.txt"
fi
cp solutions/01-socket/*.c "$proj/lessons/01-socket/"
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/progress2.txt" 2>&1
t0=$SECONDS
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/progress3.txt" 2>&1
secs=$((SECONDS - t0))
if grep -qE "01-socket +done \($n01 of $n01 tests\)" "$work/progress2.txt" &&
	grep -q '1 checked now' "$work/progress2.txt" &&
	grep -qE "01-socket +done" "$work/progress3.txt" && grep -q '0 checked now, 1 from cache' "$work/progress3.txt"; then
	ok "make progress: a solved lesson is 'done ($n01 of $n01 tests)', and an unchanged one comes from the cache (${secs}s)"
else
	not_ok "make progress: a solved lesson is done, and an unchanged one comes from the cache"
	details "$work/progress2.txt"
	details "$work/progress3.txt"
fi
printf '/* a change */\n' >>"$proj/lessons/01-socket/sockets.c"
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/progress4.txt" 2>&1
if grep -q '1 checked now' "$work/progress4.txt"; then
	ok "make progress: a changed lesson is checked again"
else
	not_ok "make progress: a changed lesson is checked again"
	details "$work/progress4.txt"
fi

# Reset: refuses without a terminal, FORCE=1 restores and keeps a backup.
printf 'int stray;\n' >"$proj/lessons/01-socket/extra.c"
(cd "$proj" && setsid make -s reset LESSON=01 </dev/null) >"$work/reset1.txt" 2>&1
status=$?
if [ $status -ne 0 ] && [ -f "$proj/lessons/01-socket/extra.c" ] && grep -q 'FORCE=1' "$work/reset1.txt"; then
	ok "make reset without a terminal refuses and changes nothing"
else
	not_ok "make reset without a terminal refuses and changes nothing" "exit $status"
	details "$work/reset1.txt"
fi
(cd "$proj" && make -s reset LESSON=01 FORCE=1 </dev/null) >"$work/reset2.txt" 2>&1
status=$?
if [ $status -eq 0 ] && git -C "$proj" diff --quiet HEAD -- lessons/01-socket &&
	[ ! -e "$proj/lessons/01-socket/extra.c" ] && ls "$proj"/build/reset/01-socket-*/extra.c >/dev/null 2>&1; then
	ok "make reset LESSON=01 FORCE=1 restores the skeleton and saves the old copy in build/reset/"
else
	not_ok "make reset LESSON=01 FORCE=1 restores the skeleton" "exit $status"
	details "$work/reset2.txt"
	git -C "$proj" status --short | details /dev/stdin
fi

# Watch: a run at start, another after a save; says how to stop.
wait_for() { # FILE REGEX SECONDS
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
watch_case() { # LABEL [env...]
	local label=$1 out pid
	shift
	out=$work/watch-$label.txt
	(cd "$proj" && env "$@" IMPL="$proj/solutions" timeout 120 scripts/watch 01 >"$out" 2>&1) &
	pid=$!
	if wait_for "$out" 'run 1 done' 60; then
		printf '/* saved */\n' >>"$proj/solutions/01-socket/sockets.c"
		if wait_for "$out" 'run 2 done' 60 && grep -q 'Ctrl-C' "$out" && grep -q '10 passed, 0 failed' "$out"; then
			ok "make watch ($label) runs the check, again after a save, and says to stop with Ctrl-C"
		else
			not_ok "make watch ($label) runs the check again after a save"
			details "$out"
		fi
	else
		not_ok "make watch ($label) runs the check at start"
		details "$out"
	fi
	# Stop it as Ctrl-C would: its process group.
	kill -INT -- -"$(ps -o pgid= -p "$(pgrep -P "$pid" | head -n 1)" 2>/dev/null | tr -d ' ')" 2>/dev/null
	pkill -INT -P "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
if command -v inotifywait >/dev/null 2>&1; then
	watch_case inotifywait
fi
watch_case polling WATCH_POLL=1

# compile_commands.json: every C file, valid JSON, and the commands compile.
(cd "$proj" && make -s compile_commands SOLUTIONS=1) >"$work/cc.txt" 2>&1
cc_json=$proj/compile_commands.json
want_files=$(cd "$proj" && ls lessons/*/*.c solutions/*/*.c common/*.c tests/lib/*.c | wc -l)
if [ -f "$cc_json" ] && jq -e --argjson n "$want_files" '
	length == $n and all(.[]; (.directory | type) == "string" and (.file | type) == "string"
		and (.arguments | type) == "array" and (.arguments | index("-std=c11") != null or index("-std=gnu11") != null))' \
	"$cc_json" >/dev/null; then
	bad=0
	while IFS= read -r cmd; do
		eval "$cmd -fsyntax-only" >>"$work/cc-syntax.txt" 2>&1 || bad=$((bad + 1))
	done < <(jq -r '.[] | .arguments | map(@sh) | join(" ")' "$cc_json")
	if [ $bad -eq 0 ]; then
		ok "make compile_commands writes compile_commands.json for all $want_files C files; every command compiles"
	else
		not_ok "every command in compile_commands.json compiles" "$bad failed"
		details "$work/cc-syntax.txt"
	fi
else
	not_ok "make compile_commands writes a compile_commands.json with all $want_files C files"
	details "$work/cc.txt"
fi

# Stress: the flake check runs and reports.
(cd "$proj" && N=2 LESSONS=01 NO_COLOR=1 scripts/stress) >"$work/stress.txt" 2>&1
status=$?
if [ $status -eq 0 ] && grep -q 'round 2/2 01-socket' "$work/stress.txt" && grep -q 'every test passed every time' "$work/stress.txt"; then
	ok "make stress N=2 LESSONS=01 runs the suite twice against the solution and reports no failure"
else
	not_ok "make stress N=2 LESSONS=01 reports no failure" "exit $status"
	details "$work/stress.txt"
fi

# ---------------------------------------------------------------------------
# Hostile submissions.
hostile_filter() {
	case $1 in
	01-socket) echo 'inet stream makes|with no arguments' ;;
	02-tcp-server) echo 'a client receives the greeting' ;;
	*) echo '.' ;;
	esac
}

# gone PID: no such process, or only a zombie (it holds nothing).
gone() {
	local state
	[ -r "/proc/$1/stat" ] || return 0
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$state" ] || [ "$state" = Z ]
}

# listening PORT: something listens on TCP PORT (IPv4 or IPv6).
listening() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -qiE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# All of them at once: most of their time is spent waiting for time limits.
cases=()
for dir in tests/hostile/*/; do
	name=$(basename "$dir")
	[ "$name" = does-not-compile ] && continue
	for ldir in "$dir"[0-9][0-9]-*/; do
		[ -d "$ldir" ] || continue
		slug=$(basename "$ldir")
		[ -f "tests/$slug.bats" ] || continue
		hw=$work/hostile/$name
		mkdir -p "$hw/tmp"
		: >"$hw/pids"
		cases+=("$name $slug")
		(
			t0=$(date +%s)
			# A file-size limit (512 MiB) keeps a flood from filling this disk
			# whatever the helpers do; the report's own bound is checked below.
			(
				ulimit -f 524288
				HOSTILE_LOG=$hw/pids TMPDIR=$hw/tmp FILTER=$(hostile_filter "$slug") TAP=1 OUT=$hw/build \
					exec timeout -k 10 "$HOSTILE_BOUND" scripts/check "$slug" "$ROOT/${dir%/}"
			) >"$hw/report" 2>&1
			echo "$? $(($(date +%s) - t0))" >"$hw/result"
		) &
	done
done
wait

for case in "${cases[@]}"; do
	name=${case% *} slug=${case#* }
	hw=$work/hostile/$name
	read -r status secs <"$hw/result"
	size=$(wc -c <"$hw/report")
	# Leftovers: give the kernel a moment to reap what the teardown killed.
	left=() ports=()
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=()
		while read -r _ pid _ port; do
			gone "$pid" || left+=("$pid")
		done <"$hw/pids"
		for pid in $(pgrep -f "$hw/build/" 2>/dev/null); do
			gone "$pid" || left+=("$pid")
		done
		[ ${#left[@]} -eq 0 ] && break
		sleep 0.5
	done
	while read -r _ _ _ port; do
		[ -n "$port" ] && listening "$port" && ports+=("$port")
	done <"$hw/pids"
	label="hostile '$name' ($slug): fails in ${secs}s (bound ${HOSTILE_BOUND}s), $size bytes of report, nothing left running"
	problems=()
	{ [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; } && problems+=("the check did not finish within ${HOSTILE_BOUND}s")
	[ "$status" -eq 0 ] && problems+=("the check passed")
	grep -q '^not ok ' "$hw/report" || problems+=("no test failed")
	[ "$size" -lt $OUTPUT_BOUND ] || problems+=("the report is $size bytes (bound $OUTPUT_BOUND)")
	[ -s "$hw/pids" ] || problems+=("the submission never ran (no pid logged)")
	[ ${#left[@]} -eq 0 ] || problems+=("still running: $(ps -o pid=,stat=,args= -p "$(
		IFS=,
		echo "${left[*]}"
	)" 2>/dev/null | cut -c1-120 | tr '\n' ';')")
	[ ${#ports[@]} -eq 0 ] || problems+=("still listening on port(s): ${ports[*]}")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "$label"
	else
		not_ok "$label" "${problems[@]}"
		head -c 3000 "$hw/report" | cut -c1-200 | sed 's/^/# /'
	fi
	# Whatever happened, leave nothing behind.
	for pid in $(pgrep -f "$hw/build/" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	while read -r _ pid _; do kill -KILL "$pid" 2>/dev/null; done <"$hw/pids"
	rm -rf "$hw/tmp"
done
exit 0
