#!/usr/bin/env bats
# Lesson 07 - chat-loop: the connection loop around the communication loop
# (an upper-casing echo server), and a full-duplex two-party chat.

load lib/helpers
load lib/chat
load lib/serverargs

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"
INVARIANT_SECTION_DIED="When the client goes away"
INVARIANT_SECTION_FDS="The connection loop"

# The machine may be loaded by other suites running at once: be patient with
# lines a passing program prints (a failing one still fails in bounded time).
T_LINE=30
# The echo server and the chat set no timer of their own: a test in which
# every program sleeps with no timeout is deadlocked, and its wait ends there
# (lib/helpers.bash, "Deadlocks").
DEADLOCK_PROOF=1

# upper FILE: FILE's bytes, upper-cased, into FILE.upper (the expected echo).
upper() {
	LC_ALL=C tr 'a-z' 'A-Z' <"$1" >"$1.upper"
}

# echo_client NAME FILE [tcpeer options]: send FILE, half-close, and collect
# the echo in $(out NAME). Bounded: nothing for 8 s is a failure, and a
# server that spins or leaves the connection open is seen at once (run_client).
echo_client() {
	local name=$1 file=$2
	shift 2
	run_client "$name" --server server --timeout 20 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$file" --shut-wr --idle-ms 8000 "$@"
}

# expect_echo NAME FILE: NAME (an echo_client) got FILE back in capitals.
expect_echo() {
	expect_status "$1" 0 "exit status of the client (3: the server stopped answering)"
	upper "$2"
	expect_same_bytes "the echo" "$2.upper" "$(out "$1")"
}

# disconnections N: wait until the server has logged N departures.
logged_disconnections() { [ "$(grep -c '^disconnected ' "$(out server)")" -ge "$1" ]; }

disconnections() {
	local want=$1
	if ! wait_until --while server "$T_LINE" logged_disconnections "$want"; then
		fail_with "the server did not log the client leaving" \
			"$want line(s) 'disconnected ADDR:PORT (N bytes)', the server running" \
			"$(_tail "$(out server)") (running: $(is_running server && echo yes || echo no))"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# The echo server

@test "echo server: each line comes back in capitals" {
	hint "The communication loop" \
		"recv() what the client sent, upper-case those bytes, send them all back; loop until recv() returns 0."
	start_server server -- "$BIN_DIR/echo_server" 0
	printf 'hello, world\nsecond line: 42 apples!\nmIxEd CaSe\n' >"$BATS_TEST_TMPDIR/in"
	echo_client client "$BATS_TEST_TMPDIR/in"
	expect_echo client "$BATS_TEST_TMPDIR/in"
	expect_line server '^connected 127\.0\.0\.1:[0-9]+$' "the server did not log the client"
}

@test "echo server: a line longer than the server's buffer comes back whole" {
	hint "The communication loop" \
		"One recv() returns at most one buffer; keep receiving (and sending back) until recv() returns 0."
	start_server server -- "$BIN_DIR/echo_server" 0
	# 20000 letters and one newline, sent in pieces with pauses so that
	# they reach the server over many recv() calls.
	head -c 20000 /dev/zero | tr '\0' 'q' >"$BATS_TEST_TMPDIR/long"
	echo >>"$BATS_TEST_TMPDIR/long"
	echo_client client "$BATS_TEST_TMPDIR/long" --chunk 4000 --pause-ms 20
	expect_echo client "$BATS_TEST_TMPDIR/long"
}

@test "echo server: 512 KiB sent while the echo comes back arrive whole, byte for byte" {
	hint "The communication loop" \
		"Every recv() may return less than your buffer, every send() may take less than you give: loop over both, and echo exactly the bytes recv() returned."
	start_server server -- "$BIN_DIR/echo_server" 0
	head -c $((512 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/big"
	# --duplex: the test client reads while it sends, so however much is
	# in flight, neither side waits for the other.
	echo_client client "$BATS_TEST_TMPDIR/big" --duplex
	expect_echo client "$BATS_TEST_TMPDIR/big"
	disconnections 1
	expect_line server "^disconnected 127\.0\.0\.1:[0-9]+ \\($((512 * 1024)) bytes\\)\$" \
		"the server should log every byte it echoed"
}

@test "echo server: bound to ::, an IPv4 client is echoed and logged as [::ffff:127.0.0.1]:PORT" {
	hint "The connection loop" \
		"A peer of an IPv6 socket is a struct sockaddr_in6, even an IPv4 one: accept() into a sockaddr_storage and format it with INET6_ADDRSTRLEN room."
	need_dual_stack
	start_server server -- "$BIN_DIR/echo_server" 0 ::
	printf 'mapped\n' >"$BATS_TEST_TMPDIR/in"
	echo_client client "$BATS_TEST_TMPDIR/in"
	expect_echo client "$BATS_TEST_TMPDIR/in"
	expect_line server '^connected \[::ffff:127\.0\.0\.1\]:[0-9]+$' "the server did not log the v4-mapped client"
}

@test "echo server: after a client closes, the next client is served" {
	hint "The connection loop" \
		"When a client's conversation ends, close its socket and go back to accept() for the next one."
	start_server server -- "$BIN_DIR/echo_server" 0
	printf 'first client\n' >"$BATS_TEST_TMPDIR/one"
	printf 'second client\n' >"$BATS_TEST_TMPDIR/two"
	echo_client one "$BATS_TEST_TMPDIR/one"
	expect_echo one "$BATS_TEST_TMPDIR/one"
	disconnections 1
	echo_client two "$BATS_TEST_TMPDIR/two"
	expect_echo two "$BATS_TEST_TMPDIR/two"
	disconnections 2
}

@test "echo server: recv() returning 0 ends the conversation at once" {
	hint "recv() returns 0: end of file" \
		"0 from recv() is not data: the client has closed its side. Leave the communication loop and close."
	start_server server -- "$BIN_DIR/echo_server" 0
	printf 'short\n' >"$BATS_TEST_TMPDIR/in"
	echo_client client "$BATS_TEST_TMPDIR/in"
	expect_echo client "$BATS_TEST_TMPDIR/in"
	disconnections 1
	expect_line server '^disconnected 127\.0\.0\.1:[0-9]+ \(6 bytes\)$' \
		"the server should log how many bytes it echoed"
}

@test "echo server: a client that leaves without reading does not end the server" {
	hint "When the client goes away" \
		"Sending to a client that has gone fails, with ECONNRESET and then EPIPE: end that conversation, keep the server."
	start_server server -- "$BIN_DIR/echo_server" 0
	head -c 30000 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/big"
	printf 'still here?\n' >"$BATS_TEST_TMPDIR/next"
	run_bounded gone -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/big" --close
	disconnections 1
	paused server gone_clients --close 3
	wait_settled server
	echo_client next "$BATS_TEST_TMPDIR/next"
	expect_echo next "$BATS_TEST_TMPDIR/next"
	expect_clean_stderr server
}

@test "echo server: a client that resets the connection (SO_LINGER 0) does not end the server" {
	hint "When the client goes away" \
		"A reset makes recv() fail with ECONNRESET: report it, close that client, and accept the next."
	start_server server -- "$BIN_DIR/echo_server" 0
	printf 'about to vanish\n' >"$BATS_TEST_TMPDIR/in"
	printf 'after the reset\n' >"$BATS_TEST_TMPDIR/next"
	run_bounded reset -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/in" --reset
	disconnections 1
	# Clients that are reset before the server even accepts them: its first
	# recv() fails for certain. Each must still be closed (teardown counts
	# the server's descriptors).
	paused server gone_clients --reset 3
	wait_settled server
	echo_client next "$BATS_TEST_TMPDIR/next"
	expect_echo next "$BATS_TEST_TMPDIR/next"
	expect_clean_stderr server
}

@test "echo server: an echo that fails with EPIPE ends that conversation, not the server (SIGPIPE)" {
	hint "When the client goes away" \
		"A send or write() to a client that has gone fails with EPIPE and raises SIGPIPE, which ends the process: ignore SIGPIPE (or pass MSG_NOSIGNAL to send), then end that conversation and accept the next client."
	# The kernel gives EPIPE only to the second write after a reset, which
	# this server may never make: the shim makes the first echo fail with
	# EPIPE and raise SIGPIPE as the kernel then does, on every run.
	failing send 32
	start_server server -- "${FAILING[@]}" "$PLAIN_DIR/echo_server" 0
	printf 'the echo of this line fails\n' >"$BATS_TEST_TMPDIR/one"
	printf 'and this one comes back\n' >"$BATS_TEST_TMPDIR/two"
	echo_client one "$BATS_TEST_TMPDIR/one"
	if ! wait_until --while server "$T_LINE" logged_disconnections 1; then
		local status=0
		is_running server || wait "$(pid_of server)" 2>/dev/null || status=$?
		fail_with "the server did not survive an echo that failed with EPIPE" \
			"a line 'disconnected ADDR:PORT (0 bytes)', the server running" \
			"$(is_running server && echo "still running, no such line" || echo "exit status $status (141 is death by SIGPIPE)"); stderr: $(_tail "$(err server)")"
		return 1
	fi
	echo_client two "$BATS_TEST_TMPDIR/two"
	expect_echo two "$BATS_TEST_TMPDIR/two"
}

@test "echo server: -n 2 serves two clients, then exits 0 with no descriptor left open" {
	hint "The connection loop" \
		"Count the clients served; after COUNT, leave the loop and close the listening socket."
	start_valgrind server -- echo_server -n 2 0
	wait_listening server 60
	printf 'one\n' >"$BATS_TEST_TMPDIR/in"
	echo_client one "$BATS_TEST_TMPDIR/in"
	expect_echo one "$BATS_TEST_TMPDIR/in"
	echo_client two "$BATS_TEST_TMPDIR/in"
	expect_echo two "$BATS_TEST_TMPDIR/in"
	wait_exit server 30
	expect_status server 0
	expect_valgrind_clean server
}

@test "echo server: bad arguments print a usage line and exit 2" {
	hint "Your turn" "Bad arguments: a 'usage:' line on stderr, exit status 2."
	local args
	for args in "" "-n" "-n 0 0" "notaport" "0 127.0.0.1 extra"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded server -- "$BIN_DIR/echo_server" $args
		expect_status server 2 "exit status for 'echo_server $args'"
		expect_stderr_line server '^usage: ' "no usage line for 'echo_server $args'"
	done
}

# serve_one_echo SERVER: one client, echoed (for lib/serverargs' checks).
serve_one_echo() {
	printf 'just one\n' >"$BATS_TEST_TMPDIR/one"
	echo_client only "$BATS_TEST_TMPDIR/one"
	expect_echo only "$BATS_TEST_TMPDIR/one"
}

@test "echo server: a count of 0, -1 or over 1000000000, a bad port or an extra operand is bad usage: exit 2" {
	hint "Your turn" "parse_listen_args (common/net.h) refuses these; main then prints its usage line and exits 2."
	check_usage "$BIN_DIR/echo_server"
}

@test "echo server: -n 1000000000, the largest count, is taken" {
	hint "Your turn" "COUNT may be 1 to 1000000000, in every server (common/net.h, SERVE_COUNT_MAX)."
	check_count_max "$BIN_DIR/echo_server"
}

@test "echo server: -n 1 serves one client, then exits 0 by itself" {
	hint "The connection loop" "With COUNT 1 the loop runs once: serve the client, then leave the loop and close the listening socket."
	check_serves_one serve_one_echo "$BIN_DIR/echo_server"
}

# ---------------------------------------------------------------------------
# The chat

# chat_pair: start "left" listening and "right" connected to it, both with a
# keyboard the test types into.
chat_pair() {
	start_typed left -- "$BIN_DIR/chat" -l 0
	wait_listening left
	skip_invariants left "the chat's listening side serves one peer and ends with it"
	start_typed right --close "$TYPE_left" -- "$BIN_DIR/chat" 127.0.0.1 "$PORT"
	wait_line left '^connected 127\.0\.0\.1:[0-9]+$'
	wait_line right "^connected 127\.0\.0\.1:$PORT\$"
}

@test "chat: a line typed on one side is printed on the other as 'peer: TEXT'" {
	hint "A chat in both directions" \
		"Send each line you read from standard input; print each line received as 'peer: TEXT'."
	chat_pair
	type_line left "hello from the left"
	wait_line right '^peer: hello from the left$'
	type_line right "and hello from the right"
	wait_line left '^peer: and hello from the right$'
}

@test "chat: both sides can send before either replies (no deadlock)" {
	hint "Why taking turns deadlocks" \
		"Do not wait for the peer before reading the keyboard: poll() both and handle whichever is ready."
	chat_pair
	# One side says two things in a row, with no answer in between.
	type_line left "one"
	wait_line right '^peer: one$'
	type_line left "two"
	wait_line right '^peer: two$'
	# Then both type at once.
	type_line right "three"
	type_line left "four"
	wait_line left '^peer: three$'
	wait_line right '^peer: four$'
}

@test "chat: each typed line goes out with its newline in one call, not in two sends" {
	hint "A chat in both directions" \
		"Send the line and its newline with one send_all() (copy them into one buffer): a send of the text and then one of \"\\n\" makes two packets, and the peer may see half a line."
	local log=$BATS_TEST_TMPDIR/calls
	# The shim writes down the bytes of every send or write on a socket;
	# it needs the build without sanitizers.
	start_typed left -- env LD_PRELOAD="$TOOLS_DIR/preload-sockcalls.so" SOCKCALLS_LOG="$log" \
		SOCKCALLS_DATA=1 "$PLAIN_DIR/chat" -l 0
	wait_listening left
	skip_invariants left "the chat's listening side serves one peer and ends with it"
	start_typed right --close "$TYPE_left" -- "$BIN_DIR/chat" 127.0.0.1 "$PORT"
	wait_line left '^connected 127\.0\.0\.1:[0-9]+$'
	type_line left "a whole line in one piece"
	wait_line right '^peer: a whole line in one piece$'
	# One call (send, write, sendmsg...) must have held the text and its
	# newline together; a loop that sends the rest after a short count is
	# fine, since its first call still held both.
	grep -qaF 'a whole line in one piece\n' "$log" ||
		fail_with "the line and its newline were passed in separate calls" \
			"one call with: a whole line in one piece\\n" \
			"$(grep -a 'data=' "$log" | tail -n 5)"
}

@test "chat: a line that arrives in pieces is printed whole" {
	hint "Lines and recv()" \
		"recv() returns whatever has arrived, maybe half a line: keep the unfinished tail for the next recv()."
	start_typed left -- "$BIN_DIR/chat" -l 0
	wait_listening left
	printf 'a line that arrives in small pieces\nanother one\nlast words' >"$BATS_TEST_TMPDIR/said"
	# tcpeer sends 4 bytes at a time with pauses, then ends its side.
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/said" --chunk 4 --pause-ms 15 --shut-wr
	wait_line left '^peer left$'
	local want got
	want=$(printf 'peer: a line that arrives in small pieces\npeer: another one\npeer: last words\npeer left')
	got=$(grep -aE '^peer' "$(out left)")
	[ "$got" = "$want" ] || fail_with "the lines were not printed whole" "$want" "$got"
	wait_exit left
	expect_status left 0
}

@test "chat: 300 KiB of lines, and a line that exactly fills the 4096-byte buffer, are each printed whole" {
	hint "Lines and recv()" \
		"A line of LINE_MAX_LEN - 1 characters and its newline fill the buffer exactly: find the newline before you decide the buffer is full."
	start_typed left -- "$BIN_DIR/chat" -l 0
	wait_listening left
	skip_invariants left "the chat's listening side serves one peer and ends with it"
	local said=$BATS_TEST_TMPDIR/said i
	{
		head -c 4095 /dev/zero | tr '\0' 'f'
		echo
		for ((i = 1; i <= 3000; i++)); do
			printf 'line %05d of a long conversation, padded to about a hundred bytes ...........\n' "$i"
		done
		head -c 4095 /dev/zero | tr '\0' 'l'
		echo
	} >"$said"
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$said" --shut-wr --idle-ms 20000
	wait_line left '^peer left$' 60
	sed 's/^/peer: /' "$said" >"$said.want"
	grep -a '^peer: ' "$(out left)" >"$BATS_TEST_TMPDIR/got" || true
	expect_same_bytes "the lines the chat printed ($(wc -c <"$said") bytes sent)" "$said.want" "$BATS_TEST_TMPDIR/got"
}

@test "chat: /quit ends both sides with exit 0 ('you left', 'peer left')" {
	hint "Ending the conversation" \
		"On /quit, close the socket and exit 0; the other side's recv() returns 0: print 'peer left', exit 0."
	chat_pair
	type_line right "bye for now"
	wait_line left '^peer: bye for now$'
	type_line right "/quit"
	wait_line right '^you left$'
	wait_line left '^peer left$'
	wait_exit right
	expect_status right 0
	wait_exit left
	expect_status left 0
	if grep -q 'quit' "$(out left)"; then
		fail_with "/quit was sent as a line" "no line with /quit on the other side" "$(cat "$(out left)")"
	fi
	expect_clean_stderr left
	expect_clean_stderr right
}

@test "chat: end of input (Ctrl-D) ends both sides with exit 0" {
	hint "Ending the conversation" \
		"read() returning 0 on standard input is Ctrl-D: leave as for /quit."
	chat_pair
	type_line left "typing, then Ctrl-D"
	wait_line right '^peer: typing, then Ctrl-D$'
	end_input left
	wait_line left '^you left$'
	wait_line right '^peer left$'
	wait_exit left
	expect_status left 0
	wait_exit right
	expect_status right 0
	expect_clean_stderr left
	expect_clean_stderr right
}

@test "chat: the listening side closes every descriptor (valgrind --track-fds)" {
	hint "Ending the conversation" \
		"Close the listening socket once the peer is in, and the connection when the chat ends."
	mkfifo "$BATS_TEST_TMPDIR/vg.in"
	start_valgrind left --stdin "$BATS_TEST_TMPDIR/vg.in" -- chat -l 0
	exec {typing}>"$BATS_TEST_TMPDIR/vg.in"
	wait_listening left 60
	printf 'hi\n' >"$BATS_TEST_TMPDIR/hi"
	run_bounded peer --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/hi" --shut-wr --idle-ms 2000
	exec {typing}>&-
	wait_exit left 30
	expect_status left 0
	expect_line left '^peer: hi$' "the line from the peer was not printed"
	expect_valgrind_clean left
}

@test "chat: bad arguments print a usage line and exit 2" {
	hint "Your turn" "Bad arguments: a 'usage:' line on stderr, exit status 2."
	local args
	for args in "" "-l" "-l notaport" "-x 5" "127.0.0.1" "a b c"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded chat -- "$BIN_DIR/chat" $args
		expect_status chat 2 "exit status for 'chat $args'"
		expect_stderr_line chat '^usage: ' "no usage line for 'chat $args'"
	done
}
