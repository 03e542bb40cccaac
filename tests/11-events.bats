#!/usr/bin/env bats
# Lesson 11 - events: lesson 08's chat room in one thread, twice (poll_chat
# with poll(), epoll_chat with epoll), and connect_timeout, a client that
# gives up on a connect after a time limit.
#
# Both servers are held to the same tests: each behaviour below is one
# function, run once per server by the two @test lines that name it.

load lib/helpers
load lib/chat
load lib/room
load lib/shortio
load lib/serverargs

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"
INVARIANT_SECTION_DIED="When a client vanishes"
INVARIANT_SECTION_FDS="When a client vanishes"

# A loaded machine makes ASan and valgrind slow to start: be patient with
# lines a passing program prints (a failing one still fails in bounded time).
T_LINE=30

# cpu_ticks PID: user + system CPU time PID has used, in clock ticks.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) } # fields after the command name, which may hold spaces
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $stat
	printf '%s\n' $((${12} + ${13}))
}

# peak_rss_kib PID: the largest resident size PID has had (VmHWM).
peak_rss_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# ---------------------------------------------------------------------------
# The room, as lesson 08 defined it.

room_semantics() {
	hint "The event loop" \
		"Each turn: poll, then for every ready client read what arrived and relay each whole line to the others."
	start_server server -- "$BIN_DIR/$1" 0
	crowd crowd 3 -c 3 -m 50
	wait_empty
	expect_clean_stderr server
}

joins_and_leaves() {
	hint "What you will build" \
		"Announce '* ADDR:PORT joined' when a client is admitted and '* ADDR:PORT left' when it is removed."
	start_server server -- "$BIN_DIR/$1" 0
	start watcher -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '^joined 127\.0\.0\.1:[0-9]+ \(1 online\)$'
	printf 'hello, room\n' >"$BATS_TEST_TMPDIR/hello"
	run_bounded visitor -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/hello" --shut-wr --idle-ms $((T_STALL * 1000))
	expect_status visitor 0
	local me want got
	me=$(sed -n 's/^local //p' "$(err visitor)")
	wait_line watcher "^\* $me left\$"
	want=$(printf '* %s joined\n[%s] hello, room\n* %s left' "$me" "$me" "$me")
	got=$(cat "$(out watcher)")
	[ "$got" = "$want" ] || fail_with "the watcher saw the wrong lines" "$want" "$got"
	wait_line server "^left $me \\(1 online\\)\$"
	expect_clean_stderr server
}

# pieces NAME CHUNK: one client sends ten lines in pieces of CHUNK bytes (0:
# all ten in one send); a watcher must see exactly those ten lines.
pieces() {
	local prog=$1 chunk=$2 i me want got
	start_server server -- "$BIN_DIR/$prog" 0
	start watcher -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '^joined .* \(1 online\)$'
	for i in 1 2 3 4 5 6 7 8 9 10; do printf 'line %s of ten\n' "$i"; done >"$BATS_TEST_TMPDIR/ten"
	if [ "$chunk" = 0 ]; then
		run_bounded talker --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
			--send "$BATS_TEST_TMPDIR/ten" --shut-wr --idle-ms $((T_STALL * 1000))
	else
		run_bounded talker --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
			--send "$BATS_TEST_TMPDIR/ten" --chunk "$chunk" --pause-ms 2 --shut-wr \
			--idle-ms $((T_STALL * 1000))
	fi
	expect_status talker 0
	me=$(sed -n 's/^local //p' "$(err talker)")
	wait_line watcher "^\* $me left\$"
	want=$(sed "s/^/[$me] /" "$BATS_TEST_TMPDIR/ten")
	got=$(grep -av '^\* ' "$(out watcher)")
	[ "$got" = "$want" ] || fail_with "the ten lines did not arrive whole and in order" "$want" "$got"
	expect_clean_stderr server
}

one_byte_at_a_time() {
	hint "Per-client input buffers" \
		"One read may hold part of a line: keep the bytes in the client's input buffer until the newline comes."
	pieces "$1" 1
}

ten_lines_in_one_read() {
	hint "Per-client input buffers" \
		"One read may hold many lines: relay every whole line in the buffer, not just the first."
	pieces "$1" 0
}

thousand_clients() {
	hint "Why one thread can serve many" \
		"Accept until EAGAIN, keep every socket non-blocking, and never let one client's call block the loop."
	local hard
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$hard" -lt 2100 ]; then
		skip "the hard limit on open files is $hard; 1000 clients need about 2100 (server and crowd)"
	fi
	ulimit -Sn 4096 2>/dev/null || ulimit -Sn "$hard"
	start_server server -- "$BIN_DIR/$1" 0
	crowd crowd 1000 -c 1000 -s 1 -m 2
	wait_empty
	expect_clean_stderr server
}

resets_do_not_kill() {
	hint "When a client vanishes" \
		"A send to a reset connection raises SIGPIPE unless you pass MSG_NOSIGNAL (or ignore SIGPIPE); drop the client and go on."
	start_server server -- "$BIN_DIR/$1" 0
	crowd crowd 40 -c 10 -m 30 --victims 30
	wait_empty
	crowd again 2 -c 2 -m 3
	wait_empty
	expect_clean_stderr server
}

# A client that never reads: its queue hits the bound, it is dropped, the
# others go on at full speed, and the server's memory stays bounded.
slow_client_dropped() {
	hint "Output buffers and slow clients" \
		"Queue what a socket will not take, ask for POLLOUT only while the queue is not empty, and drop a client whose queue passes its bound."
	start_server server -- "$PLAIN_DIR/$1" 0
	local pid rss
	pid=$(prog_pid server)
	crowd crowd 4 -c 3 -m 400 --size 1000 --stalled 1 --expect-drop 10000
	expect_line server '^dropped 127\.0\.0\.1:[0-9]+ \(too slow\)$' \
		"the server should drop the client that stopped reading"
	rss=$(peak_rss_kib "$pid")
	[ "$rss" -le 65536 ] ||
		fail_with "the server's memory grew with the slow client's backlog" \
			"a peak RSS of at most 64 MiB (the queue is bounded)" "$rss KiB"
}

idle_uses_no_cpu() {
	hint "Asking for POLLOUT" \
		"An idle server sleeps in poll(): ask for POLLOUT only while output is queued, remove closed clients at once, and never pass a zero timeout."
	start_server server -- "$PLAIN_DIR/$1" 0
	local pid before after
	pid=$(prog_pid server)
	start idle1 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	start idle2 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '\(2 online\)$'
	# One client that resets and one that closes politely: a loop that
	# keeps either in its set spins on POLLHUP/POLLERR from then on.
	run_bounded resetter -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --reset
	run_bounded closer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --close
	if ! wait_progress 20 two_left_two_stay; then
		fail_with "the server did not notice the two clients leave" \
			"two lines 'left ADDR:PORT (N online)', the last count (2 online)" "$(_tail "$(out server)")"
		return 1
	fi
	# One idle second is enough to tell: a loop that spins takes most of a
	# CPU's 100 ticks in it, an idle server none.
	before=$(cpu_ticks "$pid")
	measure_window 1 "$pid"
	after=$(cpu_ticks "$pid")
	[ $((after - before)) -le 10 ] ||
		fail_with "the server used the CPU while nothing happened" \
			"at most 10 clock ticks (0.1 s) of CPU time in 1 idle second" \
			"$((after - before)) ticks"
	# On a loaded machine a loop that spins may get too little CPU to pass
	# 10 ticks, but it is always runnable, never asleep in poll().
	[ "$RUNNABLE" -le $((SAMPLES / 2)) ] ||
		fail_with "the server never slept while nothing happened (a loop that spins)" \
			"asleep (state S) in most of $SAMPLES looks during 1 idle second" \
			"runnable (state R) in $RUNNABLE of them"
	is_running server || fail_with "the server died" "still running" "exited"
}

# two_left_two_stay: the resetting and the closing client have both been
# taken out (two "left" lines), and the two idle ones are still in (the last
# count is 2). Not "two lines (2 online)": the closer may connect before the
# server has seen the reset, and then the two leave at 3 and 2 online.
two_left_two_stay() {
	local file last
	file=$(out server)
	[ "$(grep -ac '^left ' "$file")" -eq 2 ] || return 1
	last=$(grep -a ' online)$' "$file" | tail -n 1)
	[[ $last == *' (2 online)' ]]
}

# measure_window SECONDS PID: let SECONDS pass, looking at PID's state every
# 0.2 s: $SAMPLES looks, $RUNNABLE of them found it runnable (R) rather than
# asleep. Not a wait for readiness: the test measures what the server does
# in this window.
measure_window() {
	local deadline=$(($((${EPOCHREALTIME/[.,]/} / 1000)) + $1 * 1000)) stat
	SAMPLES=0 RUNNABLE=0
	while [ "$((${EPOCHREALTIME/[.,]/} / 1000))" -lt "$deadline" ]; do
		read -r -t 0.2 <> <(:) || true
		stat=$(cat "/proc/$2/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		SAMPLES=$((SAMPLES + 1))
		[ "${stat%% *}" != R ] || RUNNABLE=$((RUNNABLE + 1))
	done
}

under_short_io() {
	hint "Output buffers and slow clients" \
		"send() on a non-blocking socket may take only part of a message, or fail with EAGAIN: keep the rest queued and send it on the next POLLOUT."
	# And now and then EAGAIN, as from a full buffer or a stale report: the
	# rest must wait for the next POLLOUT, and nothing may be lost.
	start_server server -- "${SHORTIO[@]}" SHORTIO_EAGAIN=3 "$PLAIN_DIR/$1" 0
	crowd crowd 4 -c 4 -m 40 --size 300
	wait_empty
}

count_and_valgrind() {
	hint "Ending the server" \
		"With -n COUNT: stop accepting after COUNT clients, go on until the last one has left, then close everything and return 0."
	local T_STALL=6 # valgrind runs the server many times slower
	start_valgrind server --timeout 120 -- "$1" -n 6 0
	wait_listening server 60
	crowd crowd 6 -c 4 -m 5 --victims 2
	wait_exit server 60
	expect_status server 0
	expect_valgrind_clean server
}

log_unread() {
	hint "A log nobody reads" \
		"One thread means one blocking write stops everyone, the log too: queue log lines and write them only as far as a non-blocking stdout takes them."
	log_pipe_unread "$1"
}

bad_arguments() {
	hint "Your turn" "parse_listen_args (common/net.h) refuses these; main then prints its usage line and exits 2."
	check_usage "$BIN_DIR/$1"
}

largest_count() {
	hint "Your turn" "COUNT may be 1 to 1000000000, in every server (common/net.h, SERVE_COUNT_MAX)."
	check_count_max "$BIN_DIR/$1"
}

@test "poll: with 3 clients, each receives the others' lines, not its own, in order" {
	room_semantics poll_chat
}
@test "epoll: with 3 clients, each receives the others' lines, not its own, in order" {
	room_semantics epoll_chat
}
@test "poll: joins and leaves are announced to the others" {
	joins_and_leaves poll_chat
}
@test "epoll: joins and leaves are announced to the others" {
	joins_and_leaves epoll_chat
}
@test "poll: a line that arrives one byte at a time is relayed whole" {
	one_byte_at_a_time poll_chat
}
@test "epoll: a line that arrives one byte at a time is relayed whole" {
	one_byte_at_a_time epoll_chat
}
@test "poll: ten lines in one segment are relayed as ten lines" {
	ten_lines_in_one_read poll_chat
}
@test "epoll: ten lines in one segment are relayed as ten lines" {
	ten_lines_in_one_read epoll_chat
}
@test "poll: 1000 clients connected at once all receive a broadcast" {
	thousand_clients poll_chat
}
@test "epoll: 1000 clients connected at once all receive a broadcast" {
	thousand_clients epoll_chat
}
@test "poll: clients that reset mid-broadcast do not kill the server" {
	resets_do_not_kill poll_chat
}
@test "epoll: clients that reset mid-broadcast do not kill the server" {
	resets_do_not_kill epoll_chat
}
@test "poll: a client that stops reading is dropped; the others go on; memory stays bounded" {
	slow_client_dropped poll_chat
}
@test "epoll: a client that stops reading is dropped; the others go on; memory stays bounded" {
	slow_client_dropped epoll_chat
}
@test "poll: the idle server uses no CPU, also after a reset and a close" {
	idle_uses_no_cpu poll_chat
}
@test "epoll: the idle server uses no CPU, also after a reset and a close" {
	idle_uses_no_cpu epoll_chat
}
@test "poll: the room works when every send and recv moves only a few bytes" {
	under_short_io poll_chat
}
@test "epoll: the room works when every send and recv moves only a few bytes" {
	under_short_io epoll_chat
}
@test "poll: after -n COUNT clients have come and gone, it exits 0 with nothing leaked (valgrind)" {
	count_and_valgrind poll_chat
}
@test "epoll: after -n COUNT clients have come and gone, it exits 0 with nothing leaked (valgrind)" {
	count_and_valgrind epoll_chat
}
@test "poll: a log pipe nobody reads does not stop the room" {
	log_unread poll_chat
}
@test "epoll: a log pipe nobody reads does not stop the room" {
	log_unread epoll_chat
}
@test "poll: bad arguments print a usage line and exit 2" {
	bad_arguments poll_chat
}
@test "epoll: bad arguments print a usage line and exit 2" {
	bad_arguments epoll_chat
}
@test "poll: -n 1000000000, the largest count, is taken" {
	largest_count poll_chat
}
@test "epoll: -n 1000000000, the largest count, is taken" {
	largest_count epoll_chat
}

# ---------------------------------------------------------------------------
# connect_timeout

@test "connect_timeout connects to a listening server and says where" {
	hint "Connecting without blocking" \
		"connect() on a non-blocking socket returns EINPROGRESS; poll for POLLOUT, then read SO_ERROR to learn how it ended."
	start_server peer -- "$TOOLS_DIR/tcpeer" serve --idle-ms 20000
	run_bounded client -- "$BIN_DIR/connect_timeout" 127.0.0.1 "$PORT"
	expect_status client 0
	expect_line client "^connected to 127\\.0\\.0\\.1:$PORT\$" "connect_timeout should report the address it connected to"
	expect_clean_stderr client
}

@test "connect_timeout reports a refused connection at once, with the reason" {
	hint "Connecting without blocking" \
		"Writable means the handshake is over, not that it worked: SO_ERROR holds ECONNREFUSED when nobody listens."
	local port
	# A port nobody listens on: bind one, note it, close it.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run_bounded client -- "$BIN_DIR/connect_timeout" 127.0.0.1 "$port"
	expect_status client 1
	expect_stderr_line client "^connect_timeout: connect to 127\\.0\\.0\\.1:$port: Connection refused\$" \
		"the error line should name the address and the reason"
	[ ! -s "$(out client)" ] || fail_with "nothing on stdout after a failure" "(nothing)" "$(cat "$(out client)")"
}

@test "connect_timeout gives up after its time limit when nothing answers" {
	hint "Connecting without blocking" \
		"Wait with poll() for at most the time left; when it returns 0, give up with ETIMEDOUT."
	# Only inside a network namespace of our own, where a firewall rule
	# drops what is sent to 127.0.0.2: no packet leaves this machine.
	if ! unshare -rn true 2>/dev/null; then
		skip "cannot create a private network namespace here (unshare -rn), so there is no safe address that never answers"
	fi
	# nft lives in /usr/sbin, which a student's PATH may leave out.
	PATH=$PATH:/usr/sbin command -v nft >/dev/null || skip "nft (package nftables) is not installed"
	local t0 ms
	t0=$((${EPOCHREALTIME/[.,]/} / 1000))
	run_bounded client --timeout 20 -- env PATH="$PATH:/usr/sbin" unshare -rn sh -c '
		ip link set lo up &&
		nft add table inet t &&
		nft "add chain inet t o { type filter hook output priority 0; }" &&
		nft add rule inet t o ip daddr 127.0.0.2 drop &&
		exec "$0" -t 700 127.0.0.2 5000' "$BIN_DIR/connect_timeout"
	ms=$(($((${EPOCHREALTIME/[.,]/} / 1000)) - t0))
	expect_status client 1
	expect_stderr_line client '^connect_timeout: connect to 127\.0\.0\.2:5000: Connection timed out$' \
		"the error line should say the connect timed out"
	[ "$ms" -ge 600 ] && [ "$ms" -le 10000 ] ||
		fail_with "connect_timeout -t 700 did not give up after about 0.7 s" \
			"between 600 and 10000 ms" "$ms ms"
}

@test "connect_timeout tries every address a name has (localhost: ::1, then 127.0.0.1)" {
	hint "Connecting without blocking" \
		"A name may have several addresses: when one is refused or times out, go on to the next."
	start_server peer -- "$TOOLS_DIR/tcpeer" serve --idle-ms 20000
	local hosts
	hosts=$BATS_TEST_TMPDIR/hosts
	printf '::1 localhost\n127.0.0.1 localhost\n' >"$hosts"
	if unshare -m true 2>/dev/null; then
		run_bounded client -- unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$0" localhost "$2"' \
			"$BIN_DIR/connect_timeout" "$hosts" "$PORT"
	elif unshare -rm true 2>/dev/null; then
		run_bounded client -- unshare -rm sh -c 'mount --bind "$1" /etc/hosts && exec "$0" localhost "$2"' \
			"$BIN_DIR/connect_timeout" "$hosts" "$PORT"
	else
		skip "cannot make a private mount namespace to try a hosts file with ::1 first"
	fi
	expect_status client 0
	expect_line client "^connected to 127\\.0\\.0\\.1:$PORT\$" "connect_timeout should move on from ::1 to 127.0.0.1"
}

@test "connect_timeout: bad arguments print a usage line and exit 2" {
	hint "Your turn" "Bad arguments: a 'usage:' line on stderr, exit status 2."
	local args
	for args in "" "127.0.0.1" "-t 0 127.0.0.1 80" "-t x 127.0.0.1 80" "127.0.0.1 notaport" "a b c"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded client -- "$BIN_DIR/connect_timeout" $args
		expect_status client 2 "exit status for 'connect_timeout $args'"
		expect_stderr_line client '^usage: ' "no usage line for 'connect_timeout $args'"
	done
}
