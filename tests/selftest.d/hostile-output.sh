#!/usr/bin/env bash
# tests/selftest.d/hostile-output.sh - hostile output cannot hurt the grader.
#
# tests/hostile/floods-binary/02-tcp-server is a greeter that announces
# itself, then prints 100 MB of binary garbage (NUL bytes, bytes that are not
# UTF-8, escape sequences) on stdout and on stderr, ignoring SIGXFSZ and
# every failed write, and sends 1 MB of it to each client. Lesson 02's whole
# suite is graded against it, as JUnit and as results.json, and:
#   - memory: the grade runs in a memory cgroup limited to MEMORY_BOUND_MB
#     (768: Gradescope's default container, docs/INSTRUCTORS.md) and must
#     finish there with its peak under the bound and no process killed for
#     memory; where no cgroup can be made, the largest process's peak RSS
#     (/usr/bin/time -v) must stay under it, and the line says which;
#   - disk: the grade's TMPDIR (where bats keeps every test's files) stays
#     under DISK_BOUND_MB at every sample;
#   - the JUnit XML is well-formed (xmllint where installed, and Python) and
#     results.json is JSON, both valid UTF-8; no output has a NUL byte, a
#     stray "binary file matches", bash's "ignored null byte" warning, or
#     the time-limit message (the suite was not stopped at its limit);
#   - the reports say what happened: the output hit the cap and is not text.
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Work files: build/selftest/hostile-output.PID/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

selftest_work hostile-output
work=$WORK
mkdir -p "$work/tmp"
MEMORY_BOUND_MB=${MEMORY_BOUND_MB:-768}
DISK_BOUND_MB=${DISK_BOUND_MB:-192}
sub=$ROOT/tests/hostile/floods-binary

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
details() { head -c 4000 "$1" | head -n 30 | cut -c 1-200 | sed 's/^/# /'; }

if ! lesson_wanted 02-tcp-server; then
	printf 'skip - not run: its submissions are lesson 02, which LESSONS="%s" leaves out\n' "$LESSONS"
	exit 0
fi

# memory_cgroup: make a child of this process's memory cgroup, limited to
# the bound; print "v1 DIR" or "v2 DIR", or nothing where none can be made.
memory_cgroup() {
	local path dir
	path=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
	if [ -n "$path" ] && [ -d "/sys/fs/cgroup/memory$path" ]; then
		dir=/sys/fs/cgroup/memory$path/workbook-grade.$$
		mkdir "$dir" 2>/dev/null && echo $((MEMORY_BOUND_MB * 1048576)) >"$dir/memory.limit_in_bytes" 2>/dev/null &&
			{ echo "v1 $dir"; return; }
		rmdir "$dir" 2>/dev/null
	fi
	path=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
	for base in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[ -n "$path" ] && grep -qw memory "$base$path/cgroup.subtree_control" 2>/dev/null || continue
		dir=$base$path/workbook-grade.$$
		mkdir "$dir" 2>/dev/null && [ -f "$dir/memory.peak" ] &&
			echo $((MEMORY_BOUND_MB * 1048576)) >"$dir/memory.max" 2>/dev/null && { echo "v2 $dir"; return; }
		rmdir "$dir" 2>/dev/null
	done
}

# grade FORMAT OUTFILE: grade lesson 02 of the hostile submission; sets
# PEAK_KB (peak memory), OOM (processes killed for memory), HOW (how it was
# measured), DISK_KB (largest TMPDIR seen), RC.
grade() {
	local format=$1 outfile=$2 cg kind dir sampler
	read -r kind dir < <(memory_cgroup)
	: >"$work/disk.$format"
	(
		while :; do
			du -sk "$work/tmp" 2>/dev/null | cut -f1 >>"$work/disk.$format"
			sleep 1
		done
	) &
	sampler=$!
	(
		[ -n "${dir:-}" ] && echo "$BASHPID" >"$dir/cgroup.procs"
		GRADE_WORK=$work/grade-work TMPDIR=$work/tmp IMPL=$sub OUT=$outfile exec /usr/bin/time -v -o "$work/time.$format" \
			scripts/grade 02 "$format"
	) >"$work/grade-$format.txt" 2>&1
	RC=$?
	kill "$sampler" 2>/dev/null
	wait "$sampler" 2>/dev/null
	DISK_KB=$(sort -n "$work/disk.$format" | tail -n 1)
	OOM=0
	if [ "${kind:-}" = v1 ]; then
		PEAK_KB=$(($(cat "$dir/memory.max_usage_in_bytes") / 1024))
		OOM=$(sed -n 's/^oom_kill //p' "$dir/memory.oom_control" 2>/dev/null)
		HOW="memory cgroup limited to ${MEMORY_BOUND_MB} MiB, its peak"
	elif [ "${kind:-}" = v2 ]; then
		PEAK_KB=$(($(cat "$dir/memory.peak") / 1024))
		OOM=$(sed -n 's/^oom_kill //p' "$dir/memory.events" 2>/dev/null)
		HOW="memory cgroup limited to ${MEMORY_BOUND_MB} MiB, its peak"
	else
		PEAK_KB=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/time.$format")
		HOW="no memory cgroup here: the largest process's peak RSS"
	fi
	[ -n "${dir:-}" ] && rmdir "$dir" 2>/dev/null
	OOM=${OOM:-0}
	return 0
}

# common_checks FORMAT FILE: what every output must be; prints problems.
common_checks() {
	local format=$1 file=$2 f
	[ -s "$file" ] || echo "no $format file was written"
	if [ "$RC" -ne 1 ]; then echo "scripts/grade exited $RC (want 1: the submission fails)"; fi
	[ "${PEAK_KB:-999999999}" -lt $((MEMORY_BOUND_MB * 1024)) ] ||
		echo "peak memory ${PEAK_KB:-?} KiB, over the bound of $MEMORY_BOUND_MB MiB ($HOW)"
	[ "$OOM" = 0 ] || echo "$OOM process(es) killed for memory in the cgroup"
	[ "${DISK_KB:-999999999}" -lt $((DISK_BOUND_MB * 1024)) ] ||
		echo "TMPDIR reached ${DISK_KB:-?} KiB, over the bound of $DISK_BOUND_MB MiB"
	for f in "$file" "$work/grade-$format.txt" "$work/grade-work/02-tcp-server".*; do
		[ -f "$f" ] || continue
		python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$f" 2>/dev/null ||
			echo "$(basename "$f") is not valid UTF-8"
		if LC_ALL=C grep -q -P '\x00' "$f" 2>/dev/null; then echo "$(basename "$f") has a NUL byte"; fi
		grep -aqE 'binary file matches|Binary file .* matches' "$f" && echo "$(basename "$f") has a stray 'binary file matches'"
		grep -aq 'ignored null byte' "$f" && echo "$(basename "$f") has bash's 'ignored null byte' warning"
		grep -aq 'stopped at its time limit' "$f" && echo "$(basename "$f") says the suite was stopped at its time limit"
	done
	grep -aqE '\(at least [0-9.]+ MiB \(the cap: the kernel refused the rest\) in all, not text' "$file" ||
		echo "no report says the program's output hit the cap and is not text"
}

grade junit "$work/junit.xml"
problems=()
while IFS= read -r p; do problems+=("$p"); done < <(common_checks junit "$work/junit.xml")
if command -v xmllint >/dev/null 2>&1 && ! xmllint --noout "$work/junit.xml" >"$work/xmllint.txt" 2>&1; then
	problems+=("xmllint: $(head -n 2 "$work/xmllint.txt" | tr '\n' ' ')")
fi
counts=$(python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = list(root.iter("testcase"))
print(len(cases), sum(1 for c in cases if c.find("failure") is not None))' "$work/junit.xml" 2>&1) ||
	problems+=("Python cannot parse the JUnit XML: $counts")
label="a submission that prints 100 MB of binary garbage: JUnit XML well-formed and UTF-8 (${counts:-?}: tests, failures), peak memory $((${PEAK_KB:-0} / 1024)) MiB < $MEMORY_BOUND_MB MiB ($HOW), TMPDIR at most $((${DISK_KB:-0} / 1024)) MiB < $DISK_BOUND_MB MiB, the cap and 'not text' reported"
if [ ${#problems[@]} -eq 0 ]; then ok "$label"; else not_ok "$label" "${problems[@]}"; details "$work/grade-junit.txt"; fi

grade gradescope "$work/results.json"
problems=()
while IFS= read -r p; do problems+=("$p"); done < <(common_checks gradescope "$work/results.json")
summary=$(python3 -c '
import json, sys
doc = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
print(len(doc["tests"]), doc["score"], doc["max_score"])' "$work/results.json" 2>&1) ||
	problems+=("results.json is not JSON in UTF-8: $summary")
label="the same as FORMAT=gradescope: results.json is JSON in UTF-8 (${summary:-?}: tests, score, max), same bounds (peak $((${PEAK_KB:-0} / 1024)) MiB, TMPDIR at most $((${DISK_KB:-0} / 1024)) MiB)"
if [ ${#problems[@]} -eq 0 ]; then ok "$label"; else not_ok "$label" "${problems[@]}"; details "$work/grade-gradescope.txt"; fi
rm -rf "$work/tmp"
exit 0
