# tests/lib/room.bash - drive a chat room (lessons 08 and 11) with chat-crowd
# and read its log.
#
# Load it after lib/helpers and lib/chat:   load lib/room
# The server under test is the program started as "server"; its log lines
# are "joined ADDR:PORT (N online)" and "left ADDR:PORT (N online)".

# T_STALL: how many seconds a room wait goes on with no progress at all
# (not a line more in the server's log, nothing more reaching chat-crowd's
# clients) before it gives up. A correct server, even on a loaded machine,
# logs or relays something every few hundred milliseconds while there is
# work (chat-crowd's longest silence was 0.2 s at a load average of 40, so
# 2 s leaves ten times that); one that serves nobody, or waits on one
# client, is seen in T_STALL seconds instead of the whole limit. Slow builds
# (valgrind, ThreadSanitizer) raise it: `local T_STALL=6` in the test.
: "${T_STALL:=2}"

# log_size: the size of the server's log so far, in bytes.
log_size() {
	local size
	size=$(wc -c <"$(out server)" 2>/dev/null) || size=0
	printf '%s\n' "$size"
}

# wait_progress SECS CMD...: wait until CMD succeeds, at most SECS seconds,
# as `wait_until --while server` does, but also give up once the server's
# log has not grown for T_STALL seconds. $STALLED says whether that ended it.
wait_progress() {
	local secs=$1 deadline now last size seen=-1
	shift
	STALLED=no
	last=$((${EPOCHREALTIME/[.,]/} / 1000))
	deadline=$((last + secs * 1000))
	until "$@"; do
		if ! is_running server; then
			"$@"
			return
		fi
		now=$((${EPOCHREALTIME/[.,]/} / 1000))
		size=$(log_size)
		if [ "$size" != "$seen" ]; then
			seen=$size last=$now
		elif [ $((now - last)) -ge $((T_STALL * 1000)) ]; then
			STALLED="yes: no new line in the server's log for ${T_STALL}s"
			return 1
		fi
		[ "$now" -lt "$deadline" ] || return 1
		# Quick looks while the log grows, fewer once it has stopped.
		poll_nap $((last * 1000))
	done
}

# server_state: a few words on whether the server still runs, for reports.
server_state() {
	if is_running server; then
		printf 'server running: yes; stalled: %s' "$STALLED"
	else
		printf 'server running: no'
	fi
}

# online_count N: how many of the server's lines say "(N online)".
online_count() {
	grep -ac "(${1} online)\$" "$(out server)" || true
}

# wait_online N BEFORE: wait until the server has said "(N online)" more
# than BEFORE times (BEFORE: the count from online_count, taken earlier).
more_online() { [ "$(online_count "$1")" -gt "$2" ]; }

wait_online() {
	local want=$1 before=$2
	if ! wait_progress 40 more_online "$want" "$before"; then
		fail_with "the server did not log every client joining" \
			"a line 'joined ADDR:PORT ($want online)'" \
			"$(_tail "$(out server)") ($(server_state))"
		return 1
	fi
}

# crowd NAME ONLINE [chat-crowd options]: run chat-crowd against the server
# and check its verdict. Its clients connect, then wait until the server has
# logged ONLINE clients in the room, so nobody misses the first lines. Each
# wait ends on its event: the crowd gives up after T_STALL seconds in which
# nothing reached its clients (or a connect was not accepted), and at once
# when the server has gone (refused connections, EOF on every client).
crowd() {
	local name=$1 online=$2 before
	shift 2
	before=$(online_count "$online")
	start_typed "$name" --timeout 90 -- "$TOOLS_DIR/chat-crowd" 127.0.0.1 "$PORT" \
		--wait-stdin --timeout-ms 40000 --stall-ms $((T_STALL * 1000)) "$@"
	wait_line "$name" '^connected ' 40
	wait_online "$online" "$before" || return 1
	type_line "$name" go
	wait_exit "$name" 60
	if [ "$STATUS" != 0 ]; then
		fail_with "chat-crowd $* found a problem" "a line 'ok: ...'" \
			"$(_tail "$(out "$name")")
--- the server's log:
$(_tail "$(out server)")
--- the server's stderr:
$(_tail "$(err server)")
$(_connect_failed "$name" && tcp_port_note "$PORT")"
		return 1
	fi
}

# _connect_failed NAME: the crowd NAME could not connect to a server that
# still runs: its report shows the sockets on the port (is one listening?).
_connect_failed() {
	is_running server && grep -aq '^chat-crowd: connect to ' "$(err "$1")" "$(out "$1")" 2>/dev/null
}

# wait_empty: wait until every client has left: the server has logged a
# "left" line for each "joined" line.
# The server logs after unlocking the room, so two threads' lines may come
# out in either order: count them instead of reading the last one.
room_empty() {
	local joined left
	joined=$(grep -ac '^joined ' "$(out server)" || true)
	left=$(grep -ac '^left ' "$(out server)" || true)
	[ "$joined" -gt 0 ] && [ "$left" -eq "$joined" ] && grep -aq '(0 online)$' "$(out server)"
}

wait_empty() {
	if ! wait_progress 40 room_empty; then
		fail_with "the clients were not all taken out of the room" \
			"as many 'left ADDR:PORT (N online)' lines as 'joined' lines, one with (0 online)" \
			"$(_tail "$(out server)") ($(server_state))"
		return 1
	fi
}

# log_write_blocked PID: a thread of PID sleeps in a write to a full pipe
# (its wchan names the pipe write; kernels that hide wchan never match).
log_write_blocked() {
	grep -qs pipe_write /proc/"$1"/task/*/wchan
}

# fill_pipe FIFO: write into FIFO, without blocking, until it is full.
fill_pipe() {
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
for size in (4096, 1):
    try:
        while True:
            os.write(fd, b"x" * size)
    except BlockingIOError:
        pass
' "$1"
}

# read_log FD REGEX [SECS]: read lines from the server's log pipe FD until
# one matches REGEX, for at most SECS seconds (default T_LINE), and not past
# the server's end; the line is left in $LINE.
read_log() {
	local deadline=$(($((${EPOCHREALTIME/[.,]/} / 1000)) + ${3:-$T_LINE} * 1000))
	LINE=
	while [ "$((${EPOCHREALTIME/[.,]/} / 1000))" -lt "$deadline" ]; do
		if IFS= read -r -t 0.5 -u "$1" LINE; then
			[[ $LINE =~ $2 ]] && return 0
		elif ! is_running server; then
			break
		fi
	done
	fail_with "the server's log did not show the line the test waits for" \
		"a line matching $2" "${LINE:-nothing} (stderr: $(_tail "$(err server)"))"
	return 1
}

# blocked_or_announced PID NAME: PID sleeps in a write to its log pipe, or
# the watcher has heard that NAME (a tcpeer, which names itself on stderr)
# joined: the server got past logging the join.
blocked_or_announced() {
	local who
	log_write_blocked "$1" && return 0
	who=$(sed -n 's/^local //p' "$(err "$2")")
	[ -n "$who" ] && grep -aqxF "* $who joined" "$(out watcher)"
}

# log_pipe_unread PROG: PROG (in $BIN_DIR, started as "server PORT") logs
# into a pipe the test stops reading once it is full; a newcomer's join
# must still be announced, and two clients must still talk. The caller
# sets the hint.
log_pipe_unread() {
	local log=$BATS_TEST_TMPDIR/log said=$BATS_TEST_TMPDIR/said fd me i
	mkfifo "$log" "$said"
	# The test holds the log pipe open and reads it only as far as it likes.
	exec {fd}<>"$log"
	# shellcheck disable=SC2016 # $0 and $1 belong to the inner shell
	start server -- sh -c 'exec "$0" 0 >"$1"' "$BIN_DIR/$1" "$log"
	read_log "$fd" '^listening on .+:[0-9]+$' || return 1
	PORT=${LINE##*:}
	start watcher -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 30000
	read_log "$fd" '\(1 online\)$' $((2 * T_STALL)) || return 1
	# The talker connects now and sends what the test writes into $said
	# later (tcpeer reads the whole file before sending it).
	start talker -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$said" --idle-ms 30000
	read_log "$fd" '\(2 online\)$' $((2 * T_STALL)) || return 1
	# From now on nobody reads the log, and it is full.
	fill_pipe "$log"
	# A newcomer's join must be logged: a server that writes its log as it
	# goes blocks in that write, forever.
	start late -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 30000
	# Until the server is stuck in that write, or has gone past it: the
	# watcher hears of the newcomer.
	wait_until --while server $((2 * T_STALL)) blocked_or_announced "$(prog_pid server)" late || true
	for i in 1 2 3 4 5; do printf 'still talking %d\n' "$i"; done >"$said"
	me=$(sed -n 's/^local //p' "$(err talker)")
	# A room that works relays them at once; one stuck in a write never.
	if ! wait_until --while server $((2 * T_STALL)) grep -qxF "[$me] still talking 5" "$(out watcher)"; then
		fail_with "the room stopped while the server's log was blocked" \
			"the watcher gets '[$me] still talking 1' to 5" "$(_tail "$(out watcher)")"
		return 1
	fi
	exec {fd}>&-
	expect_clean_stderr server
}
