#!/usr/bin/env bash
# tests/bench/chat.sh - how fast the lesson 08 chat room delivers, and what it
# costs in memory.
#
# Runs the plain (unsanitized) build of solutions/08-threads/chat_server on
# loopback with N clients (50, 200, 1000: fewer if the descriptor limit is
# low), each sending M lines through tests/lib/chat-crowd, which checks every
# delivery. Prints, per run: lines delivered per second, the p50/p99 time
# from a line's send to each delivery, and the server's peak resident memory
# (VmHWM). Asserts nothing. Each run is bounded in time.
#
# Environment: ROOT (set by scripts/bench), CHAT_BENCH_SIZES ("50:20 200:5"
# as CLIENTS:LINES pairs) to choose the runs.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
server=$ROOT/build/solutions/08-threads/plain/chat_server
crowd=$ROOT/build/tools/chat-crowd
work=$(mktemp -d)
server_pid='' crowd_pid=''

cleanup() {
	[ -n "$crowd_pid" ] && kill "$crowd_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$ROOT/scripts/build" "$ROOT/solutions/08-threads" "$ROOT/build/solutions/08-threads" --strict ||
	{ echo "chat.sh: the solution does not build" >&2; exit 1; }
[ -x "$crowd" ] || "$ROOT/scripts/build-tools" || exit 1

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# wait_for FILE REGEX SECONDS: wait until FILE has a line matching REGEX.
wait_for() {
	local deadline=$(($(now_ms) + $3 * 1000))
	until grep -aqE -- "$2" "$1" 2>/dev/null; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# run_one CLIENTS LINES: one measured run against a fresh server.
run_one() {
	local n=$1 m=$2 port hwm result
	: >"$work/server.out"
	timeout -k 2 300 "$server" 0 >"$work/server.out" 2>"$work/server.err" &
	server_pid=$!
	if ! wait_for "$work/server.out" '^listening on ' 20; then
		echo "  $n clients: the server did not start"; return 1
	fi
	port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/server.out")
	rm -f "$work/go"
	mkfifo "$work/go"
	timeout -k 2 240 "$crowd" 127.0.0.1 "$port" -c "$n" -m "$m" --stats \
		--wait-stdin --timeout-ms 90000 <"$work/go" >"$work/crowd.out" 2>&1 &
	crowd_pid=$!
	exec {go}>"$work/go"
	# Send only when the server has seen everyone join.
	if wait_for "$work/server.out" "\\($n online\\)\$" 150; then
		echo go >&"$go"
	fi
	exec {go}>&-
	wait "$crowd_pid"
	crowd_pid=
	hwm=$(awk '/^VmHWM:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$(pgrep -P "$server_pid" -x chat_server || echo "$server_pid")/status" 2>/dev/null)
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
	result=$(grep -a '^delivered ' "$work/crowd.out")
	printf '  %4d clients x %2d lines: %s; server peak RSS %s\n' "$n" "$m" \
		"${result:-no figures}" "${hwm:-unknown}"
	# A run that hit its time limit says how far it got.
	grep -a '^FAILED' "$work/crowd.out" | sed 's/^FAILED: /      incomplete: /'
}

limit=$(ulimit -n)
sizes=${CHAT_BENCH_SIZES:-"50:20 200:5 1000:1"}
echo "chat room (solutions/08-threads, plain build), loopback, one line per sender per round"
for pair in $sizes; do
	n=${pair%%:*} m=${pair##*:}
	# The crowd holds N sockets, and so does the server: keep well inside.
	if [ $((n + 64)) -gt "$limit" ]; then
		echo "  $n clients: skipped (descriptor limit $limit)"
		continue
	fi
	run_one "$n" "$m"
done
