#!/usr/bin/env bash
# tests/bench/chat.sh - how fast the chat rooms deliver, and what they cost.
#
# Runs the plain (unsanitized) builds of the three rooms in the same run:
# 08-threads (solutions/08-threads/chat_server, a thread per client),
# 11-poll and 11-epoll (solutions/11-events/poll_chat and epoll_chat, one
# thread and an event loop), on loopback with N clients (50, 200, 1000: fewer
# if the descriptor limit cannot be raised), each sending M lines through
# tests/lib/chat-crowd, which checks every delivery. Prints one line per
# server and size: lines delivered per second, the p50/p99 time from a
# line's send to each delivery, the server's peak resident memory (VmHWM)
# and the CPU time it used (user + system). Asserts nothing. Each run is
# bounded in time.
#
# Environment: ROOT (set by scripts/bench), CHAT_BENCH_SIZES ("50:20 200:5"
# as CLIENTS:LINES pairs) to choose the runs, CHAT_BENCH_SERVERS ("11-poll")
# to choose the servers.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
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

for lesson in 08-threads 11-events; do
	"$ROOT/scripts/build" "$ROOT/solutions/$lesson" "$ROOT/build/solutions/$lesson" --strict ||
		{ echo "chat.sh: solutions/$lesson does not build" >&2; exit 1; }
done

# server_path NAME: the program behind a server's name in the report.
server_path() {
	case $1 in
	08-threads) echo "$ROOT/build/solutions/08-threads/plain/chat_server" ;;
	11-poll) echo "$ROOT/build/solutions/11-events/plain/poll_chat" ;;
	11-epoll) echo "$ROOT/build/solutions/11-events/plain/epoll_chat" ;;
	esac
}

# cpu_seconds PID: user + system time PID has used so far.
cpu_seconds() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # fields, split on purpose
	set -- $stat
	awk -v t=$((${12} + ${13})) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f s", t / hz }'
}
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

# run_one SERVER CLIENTS LINES: one measured run against a fresh server.
run_one() {
	local name=$1 n=$2 m=$3 server port hwm cpu result pid
	server=$(server_path "$name")
	: >"$work/server.out"
	timeout -k 2 300 "$server" 0 >"$work/server.out" 2>"$work/server.err" &
	server_pid=$!
	if ! wait_for "$work/server.out" '^listening on ' 20; then
		echo "  $name $n clients: the server did not start"; return 1
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
	pid=$(pgrep -P "$server_pid" | head -n 1)
	pid=${pid:-$server_pid}
	hwm=$(awk '/^VmHWM:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
	cpu=$(cpu_seconds "$pid")
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
	result=$(grep -a '^delivered ' "$work/crowd.out")
	printf '  %-10s %4d clients x %2d lines: %s; server peak RSS %s, CPU %s\n' "$name" "$n" "$m" \
		"${result:-no figures}" "${hwm:-unknown}" "${cpu:-unknown}"
	# A run that hit its time limit says how far it got.
	grep -a '^FAILED' "$work/crowd.out" | sed 's/^FAILED: /      incomplete: /'
}

# 1000 clients need more than Debian's default 1024 descriptors (the crowd
# holds one per client): raise the soft limit within the hard one.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -le 65536 ] || ulimit -Sn 65536
limit=$(ulimit -n)
sizes=${CHAT_BENCH_SIZES:-"50:20 200:5 1000:1"}
servers=${CHAT_BENCH_SERVERS:-"08-threads 11-poll 11-epoll"}
echo "chat rooms (plain builds), loopback, one line per sender per round"
for pair in $sizes; do
	n=${pair%%:*} m=${pair##*:}
	for name in $servers; do
		# The crowd holds N sockets, and so does the server: keep well inside.
		if [ "$limit" != unlimited ] && [ $((n + 64)) -gt "$limit" ]; then
			echo "  $name $n clients: skipped (descriptor limit $limit)"
			continue
		fi
		run_one "$name" "$n" "$m"
	done
done
