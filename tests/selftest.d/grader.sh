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
# and no listening socket on the ports it logs. In the sandbox
# (scripts/isolate) the pids it logs are its PID namespace's own: there,
# "nothing left" means no process on the machine is still in the namespace
# it logs ("pid PID ns NS", tests/hostile/hostile.h). reaches-out and
# writes-outside run only in the sandbox: without it they are skipped, each
# with a line saying so. escapes-session and forks-children run in the box
# and also without it (SANDBOX=off), where the teardown and the reaper
# (tests/lib/reaper.c) must end them.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

# One directory per run (two self-tests at once must not clear each other's);
# those of runs that have ended are removed.
if [ -n "${GRADER_WORK:-}" ]; then
	work=$GRADER_WORK
	rm -rf "$work" && mkdir -p "$work"
else
	selftest_work grader
	work=$WORK
fi
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
cp -R lessons/01-socket lessons/.pristine lessons/LESSONS "$proj/lessons/"
cp -R solutions/01-socket "$proj/solutions/"
cp .gitignore "$proj/" 2>/dev/null
git -C "$proj" init -q && git -C "$proj" add -A &&
	git -C "$proj" -c user.name=selftest -c user.email=selftest@localhost commit -q -m skeleton

t0=$SECONDS
(cd "$proj" && NO_COLOR=1 make -s progress) >"$work/progress1.txt" 2>&1
secs=$((SECONDS - t0))
if grep -qE '01-socket +not started' "$work/progress1.txt" && ! grep -q 'checking' "$work/progress1.txt" &&
	grep -q 'Next: lesson 01-socket' "$work/progress1.txt"; then
	ok "make progress on a fresh clone: 'not started', next lesson 01, nothing run (${secs}s)"
else
	not_ok "make progress on a fresh clone: 'not started', next lesson 01, nothing run" "(it took ${secs}s)"
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
		if wait_for "$out" 'run 2 done' 60 && grep -q 'Ctrl-C' "$out" && grep -qE '^[1-9][0-9]* passed, 0 failed' "$out"; then
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

# Stress: the flake check runs and reports. (The project copy has no
# tests/variants/: VARIANTS=0 says so, and the rounds are the suite's.)
(cd "$proj" && N=2 LESSONS=01 VARIANTS=0 NO_COLOR=1 scripts/stress) >"$work/stress.txt" 2>&1
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
	03-tcp-client) echo 'a refused connection' ;;
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

# log_values FILE KEY: the value after KEY on each line of a hostile log.
log_values() {
	awk -v key="$2" '{ for (i = 1; i < NF; i++) if ($i == key) print $(i + 1) }' "$1"
}

# log_pids FILE: "PID NS" for each process a hostile log names.
log_pids() {
	awk '{ pid = ""; ns = "-"
		for (i = 1; i < NF; i++) { if ($i == "pid") pid = $(i + 1); if ($i == "ns") ns = $(i + 1) }
		if (pid != "") print pid, ns }' "$1" | sort -u
}

# in_namespace NS BY_MS: the pids of the processes on this machine in PID
# namespace NS, if that namespace's init started by BY_MS (milliseconds
# since boot). The kernel gives a namespace's number to a new one once it
# has ended, and five jobs at a time start boxes all along: without the
# start time, another job's box (a later namespace with the same number)
# was taken for this one's leftovers, and killed. Once a box's init has
# gone the kernel has killed everything else in it, so no init, no pids.
in_namespace() {
	local f pid pids=() init= key rest start
	for f in /proc/[0-9]*/ns/pid; do
		[ "$(readlink "$f" 2>/dev/null)" = "$1" ] || continue
		pid=${f#/proc/}
		pid=${pid%%/*}
		pids+=("$pid")
		while read -r key rest; do
			[ "$key" = NSpid: ] && [ "${rest##*[[:space:]]}" = 1 ] && init=$pid
		done <"/proc/$pid/status" 2>/dev/null
	done
	[ -n "$init" ] || return 0
	# Field 22 of /proc/PID/stat, the start time in clock ticks since boot.
	start=$(sed 's/^.*) //' "/proc/$init/stat" 2>/dev/null | cut -d' ' -f20) || return 0
	[ -n "$start" ] && [ $((start * 1000 / clk_tck)) -le "$2" ] || return 0
	printf '%s\n' "${pids[@]}"
}

# uptime_ms_of FILE: when FILE was last written, in milliseconds since boot.
uptime_ms_of() {
	local up now mtime
	read -r up _ </proc/uptime
	now=${EPOCHREALTIME/[.,]/}
	mtime=$(stat -c '%.3Y' "$1") || return 1
	echo $((${mtime/./} - now / 1000 + ${up/./}0))
}
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# The box the checks run in, as scripts/check will make it.
box_line=$(scripts/isolate --explain 2>&1)
sandboxed=
case $box_line in "sandbox: on"*) sandboxed=1 ;; esac
own_ns=$(readlink /proc/self/ns/pid)
# Only in the sandbox: what they try must meet its walls, not the machine.
needs_box=" reaches-out writes-outside "
# Also without the box (SANDBOX=off), where only the teardown and the reaper
# stand in their way.
also_unboxed=" escapes-session forks-children "

# All of them at once: most of their time is spent waiting for time limits.
cases=()
for dir in tests/hostile/*/; do
	name=$(basename "$dir")
	[ "$name" = does-not-compile ] && continue
	for ldir in "$dir"[0-9][0-9]-*/; do
		[ -d "$ldir" ] || continue
		slug=$(basename "$ldir")
		[ -f "tests/$slug.bats" ] || continue
		if [ -z "$sandboxed" ] && [[ $needs_box == *" $name "* ]]; then
			printf 'skip - hostile %s (%s): not run, it needs the sandbox and %s\n' "'$name'" "$slug" "${box_line#sandbox: }"
			continue
		fi
		modes=${SANDBOX:-auto}
		[ -n "$sandboxed" ] && [[ $also_unboxed == *" $name "* ]] && modes="auto off"
		for mode in $modes; do
			hw=$work/hostile/$name-$mode
			mkdir -p "$hw/tmp"
			# In the box only the build directory and $TMPDIR are writable.
			: >"$hw/tmp/pids"
			cases+=("$name $slug $mode")
			(
				t0=$(date +%s)
				# A file-size limit (512 MiB) keeps a flood from filling this disk
				# whatever the helpers do; the report's own bound is checked below.
				(
					ulimit -f 524288
					SANDBOX=$mode HOSTILE_LOG=$hw/tmp/pids TMPDIR=$hw/tmp FILTER=$(hostile_filter "$slug") TAP=1 OUT=$hw/build \
						exec timeout -k 10 "$HOSTILE_BOUND" scripts/check "$slug" "$ROOT/${dir%/}"
				) >"$hw/report" 2>&1
				echo "$? $(($(date +%s) - t0))" >"$hw/result"
			) &
		done
	done
done
wait

for case in "${cases[@]}"; do
	read -r name slug mode <<<"$case"
	hw=$work/hostile/$name-$mode
	read -r status secs <"$hw/result"
	size=$(wc -c <"$hw/report")
	log=$hw/tmp/pids
	# Leftovers: give the kernel a moment to reap what the teardown killed.
	left=() ports=()
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=()
		# The submission last wrote its log inside its box, so that box's
		# init had started by then.
		by=$(uptime_ms_of "$log" 2>/dev/null) || by=0
		while read -r pid ns; do
			if [ "$ns" = "$own_ns" ] || [ "$ns" = - ]; then
				gone "$pid" || left+=("$pid") # it ran outside any box: its pid is ours
			else
				# In the box the pid is the namespace's own; its name is not.
				for pid in $(in_namespace "$ns" "$by"); do
					gone "$pid" || left+=("$pid")
				done
			fi
		done < <(log_pids "$log")
		for pid in $(pgrep -f "$hw/build/" 2>/dev/null); do
			gone "$pid" || left+=("$pid")
		done
		[ ${#left[@]} -eq 0 ] && break
		sleep 0.5
	done
	for port in $(log_values "$log" port); do
		listening "$port" && ports+=("$port")
	done
	where=
	[ "$mode" = off ] && where=", SANDBOX=off: no box"
	label="hostile '$name' ($slug$where): fails in ${secs}s (bound ${HOSTILE_BOUND}s), $size bytes of report, nothing left running"
	case $name in
	reaches-out) label="$label, 192.0.2.1 unreachable from the box ($(grep -c '^reach .*unreachable$' "$log") of $(grep -c '^reach ' "$log") tries)" ;;
	writes-outside) label="$label, nothing written outside its directories ($(grep -c '^write .*Read-only' "$log") writes refused)" ;;
	esac
	problems=()
	{ [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; } && problems+=("the check did not finish within ${HOSTILE_BOUND}s")
	[ "$status" -eq 0 ] && problems+=("the check passed")
	grep -q '^not ok ' "$hw/report" || problems+=("no test failed")
	[ "$size" -lt $OUTPUT_BOUND ] || problems+=("the report is $size bytes (bound $OUTPUT_BOUND)")
	[ -s "$log" ] || problems+=("the submission never ran (no pid logged)")
	if ! grep -q " ns pid:" "$log"; then
		problems+=("the submission did not log its PID namespace")
	fi
	# What it tried to reach and to write: nothing may have got through.
	if [ "$name" = reaches-out ]; then
		grep -q '^reach tcp ' "$log" || problems+=("it never tried to reach 192.0.2.1: $(grep '^reach' "$log")")
		grep '^reach ' "$log" | grep -qv 'unreachable$' && problems+=("not every try met an unreachable network: $(grep '^reach ' "$log" | sort -u | tr '\n' ';')")
	fi
	while IFS= read -r line; do
		path=${line#write }
		path=${path%%: *}
		case $path in "$hw"/*) continue ;; esac # its own directories
		if [ -e "$path" ]; then
			problems+=("it wrote $path (${line##*: })")
			rm -f "$path"
		fi
	done < <(grep '^write ' "$log")
	if [ "$name" = writes-outside ] && ! grep -q '^write ' "$log"; then
		problems+=("it never tried to write")
	fi
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
	while read -r pid ns; do
		[ "$ns" = "$own_ns" ] && kill -KILL "$pid" 2>/dev/null
	done < <(log_pids "$log")
	for pid in "${left[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	rm -rf "$hw/tmp"
done

# ---------------------------------------------------------------------------
# The box itself, and the fallback where there is none.
if [ -n "$sandboxed" ]; then
	# /proc/net/dev lists the interfaces of the reader's network namespace.
	seen=$(scripts/isolate --quiet -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " "; echo "pid $$"; touch "$0/workbook-box-probe" 2>&1' "$ROOT")
	if [ "$seen" != "${seen#lo pid }" ] && [ ! -e "$ROOT/workbook-box-probe" ] && [[ $seen == *"Read-only file system"* ]]; then
		ok "the box has only a loopback, its own PIDs and a read-only project ($(printf '%s' "$seen" | head -n 1))"
	else
		not_ok "the box has only a loopback, its own PIDs and a read-only project" "saw: $seen"
	fi
	rm -f "$ROOT/workbook-box-probe"
fi

TAP=1 SANDBOX=off FILTER='inet stream makes' OUT=$work/nobox scripts/check 01 solutions >"$work/nobox.txt" 2>&1
status=$?
if [ $status -eq 0 ] && [ "$(grep -c '^sandbox: off (SANDBOX=off)' "$work/nobox.txt")" = 1 ] && grep -q '^ok ' "$work/nobox.txt"; then
	ok "SANDBOX=off: the check says so in one line and grades as before"
else
	not_ok "SANDBOX=off: the check says so in one line and grades as before" "exit $status"
	details "$work/nobox.txt"
fi

# no_userns CMD...: run CMD as an unprivileged user (uid 99) in a user
# namespace that may create no other, as on a distribution that disables
# unprivileged user namespaces. Needs root (it writes the uid map itself).
no_userns() {
	local fifo=$work/userns.fifo pid status
	rm -f "$fifo" && mkfifo "$fifo" || return 125
	# shellcheck disable=SC2016 # for the inner shells
	unshare -U bash -c 'read -r _ <"$0"; exec bash -c '\''echo 0 >/proc/sys/user/max_user_namespaces || exit 125; exec setpriv --reuid=99 --regid=99 --keep-groups "$@"'\'' _ "$@"' "$fifo" "$@" &
	pid=$!
	# The map is written from outside, by root, once unshare has made the
	# namespace and before the inner shell goes on.
	for _ in $(seq 50); do
		[ "$(readlink "/proc/$pid/ns/user" 2>/dev/null)" != "$(readlink /proc/self/ns/user)" ] && break
		sleep 0.1
	done
	{ echo '0 0 1000' >"/proc/$pid/uid_map" && echo deny >"/proc/$pid/setgroups" &&
		echo '0 0 1000' >"/proc/$pid/gid_map"; } 2>/dev/null
	echo go >"$fifo"
	wait "$pid"
	status=$?
	rm -f "$fifo"
	return $status
}
if [ "$(id -u)" -ne 0 ] || ! no_userns true 2>/dev/null; then
	printf 'skip - with user namespaces disabled: not run, this needs root to simulate (SANDBOX=off above shows the fallback)\n'
elif ! no_userns test -r "$ROOT/scripts/lib.sh" 2>/dev/null; then
	# A work tree in a private folder (mktemp -d makes it 0700) is out of
	# the unprivileged user's reach, whatever the grader does.
	printf 'skip - with user namespaces disabled: not run, uid 99 cannot read the work tree at %s (SANDBOX=off above shows the fallback)\n' "$ROOT"
else
	# uid 99 may write only its own build directory (and /tmp).
	mkdir -p "$work/nouserns" && chmod 777 "$work/nouserns"
	chmod o+rx "$work" 2>/dev/null
	no_userns env OUT="$work/nouserns/build" TAP=1 FILTER='inet stream makes' \
		scripts/check 01 solutions >"$work/nouserns.txt" 2>&1
	status=$?
	HOSTS=stock no_userns scripts/isolate --explain >"$work/nouserns-hosts.txt" 2>&1
	hosts_status=$?
	if [ $status -eq 0 ] && grep -q '^ok ' "$work/nouserns.txt" &&
		[ "$(grep -c '^sandbox: off (bwrap cannot make its namespaces here: ' "$work/nouserns.txt")" = 1 ] &&
		[ $hosts_status -eq 3 ] &&
		grep -q '^isolate: not run: HOSTS=stock needs a private mount namespace' "$work/nouserns-hosts.txt"; then
		ok "with user namespaces disabled (uid 99, max_user_namespaces 0): one line says the box is off and the check grades; HOSTS=stock is 'not run', exit 3"
	else
		not_ok "with user namespaces disabled: one line says the box is off and the check grades; HOSTS=stock is 'not run', exit 3" \
			"check: exit $status" "HOSTS=stock: exit $hosts_status"
		details "$work/nouserns.txt"
		details "$work/nouserns-hosts.txt"
	fi
fi
exit 0
