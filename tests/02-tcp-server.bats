#!/usr/bin/env bats
# Lesson 02 - tcp-server: a greeting server (socket, bind, listen, accept).

load lib/helpers

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"
INVARIANT_SECTION_DIED="When a client goes away"
INVARIANT_SECTION_FDS="Closing the connection"
# The greeter sets no timer of its own (its only timed wait is a poll()):
# a test in which every program sleeps with no timeout is deadlocked
# (lib/helpers.bash, "Deadlocks").
DEADLOCK_PROOF=1

# greet CLIENT [tcpeer options]: connect to the greeter on $PORT as CLIENT,
# bounded. The connection's local address (what the server should log) goes
# to $LOCAL, the greeting to $(out CLIENT). A server that never answers or
# never closes shows as status 3 after IDLE_MS (default 5000) of silence;
# one already back in accept() with the connection open, or one that never
# accepts it, as STATUS=abandoned within a second (run_client).
greet() {
	local name=$1 idle=${IDLE_MS:-5000}
	shift
	run_client "$name" --server greeter --timeout $((idle / 1000 + 15)) -- "$TOOLS_DIR/tcpeer" connect \
		"${HOST:-127.0.0.1}" "$PORT" --idle-ms "$idle" "$@"
	LOCAL=$(sed -n 's/^local //p' "$(err "$name")")
}

# expect_greeted CLIENT: CLIENT got EOF and exactly "hello, $LOCAL".
expect_greeted() {
	local name=$1 got
	if [ "$STATUS" = abandoned ]; then
		fail_with "$name's connection will never end" \
			"a line 'hello, $LOCAL', then the server closes the connection" \
			"'$(out_text "$name")', and $CLIENT_WHY"
		return 1
	fi
	if [ "$STATUS" = 3 ]; then
		fail_with "$name waited $((${IDLE_MS:-5000} / 1000)) s for the greeting and the end of the connection" \
			"a line 'hello, $LOCAL', then the server closes the connection" \
			"$(out_text "$name") (and the connection stayed open)"
		return 1
	fi
	expect_status "$name" 0
	got=$(out_text "$name")
	[ "$got" = "hello, $LOCAL" ] ||
		fail_with "$name got the wrong greeting" "hello, $LOCAL" "$got"
}

# expect_logged ADDR: the server logged "connection from ADDR".
expect_logged() {
	grep -qxF -- "connection from $1" "$(out greeter)" && return 0
	fail_with "the server did not log this client as it is" \
		"a line: connection from $1   (the client's own address, from tcpeer)" \
		"$(_tail "$(out greeter)")"
}

# expect_listening_line ADDR: the line just read ($LINE, from start_server) is
# "listening on ADDR:PORT" with the port the kernel chose, not 0.
expect_listening_line() {
	[ "$LISTEN_ADDR" = "$1" ] ||
		fail_with "the server does not say it listens on $1" "listening on $1:PORT" "$LINE" || return 1
	[ "$PORT" -gt 0 ] ||
		fail_with "the listening line shows port 0, not the port the kernel chose" \
			"listening on $1:N with N > 0 (ask getsockname after bind)" "$LINE"
}

# expect_probe_connects PORT WHAT: a TCP connection to 127.0.0.1:PORT
# succeeds. On failure the report says what was observed: the server gone
# (fail_with says so first, with its status), or running but listening
# elsewhere; a cause is guessed only from that.
expect_probe_connects() {
	local port=$1 what=$2 ports swapped why
	run_bounded probe -- "$TOOLS_DIR/tcpeer" probe 127.0.0.1 "$port"
	[ "$STATUS" = 0 ] && return 0
	why="the connection failed (tcpeer probe $(describe_status "$STATUS")"
	[ ! -s "$(err probe)" ] || why+="; $(err_text probe)"
	why+=")"
	if is_running greeter; then
		ports=$(listening_ports greeter | tr '\n' ' ')
		swapped=$(swapped_port "$port")
		if [ -z "$ports" ]; then
			why+="; greeter is running but listens on no TCP port"
		elif [[ " $ports" == *" $swapped "* ]] && [ "$swapped" != "$port" ]; then
			why+="; greeter is running and listens on port $swapped, which is $port with its two bytes swapped: the port went to bind() without htons(), and came back from getsockname() without ntohs()"
		else
			why+="; greeter is running and listens on: ${ports% }"
		fi
	fi
	fail_with "$what" "a connection to 127.0.0.1:$port succeeds" "$why"
}

@test "the listening line is printed and flushed as soon as the server listens" {
	hint "Telling the world where you listen" \
		"Print 'listening on ADDR:PORT' with the address from getsockname(), then fflush(stdout): in the tests stdout is a file, and an unflushed line never shows."
	start_server greeter -- "$BIN_DIR/greeter" 0
	expect_listening_line 127.0.0.1
}

@test "the server accepts connections on the port it announced" {
	hint "The accept loop" \
		"After listen(), the server stays in its accept() loop: a server that announces and returns from main ends at once, and nothing accepts connections any more."
	start_server greeter -- "$BIN_DIR/greeter" 0
	expect_listening_line 127.0.0.1
	expect_probe_connects "$PORT" "nothing accepts connections on the port the server announced"
}

@test "the port argument is reported back as given (htons when bound, ntohs when printed)" {
	hint "Byte order" \
		"sin_port holds the port in network byte order: htons(port) when you fill it, ntohs() when you print it."
	start_server_on_port greeter -- "$BIN_DIR/greeter" @PORT@
	[ "$LINE" = "listening on 127.0.0.1:$PORT" ] ||
		fail_with "the server does not report the port it was given" \
			"listening on 127.0.0.1:$PORT" "$LINE"
}

@test "the port argument is put in network byte order (htons) and reported back (ntohs)" {
	hint "Byte order" \
		"sin_port holds the port in network byte order: htons(port) when you fill it, ntohs() when you print it."
	start_server_on_port greeter -- "$BIN_DIR/greeter" @PORT@
	[ "$LINE" = "listening on 127.0.0.1:$PORT" ] ||
		fail_with "the server does not report the port it was given" \
			"listening on 127.0.0.1:$PORT" "$LINE"
	expect_probe_connects "$PORT" "the server is not listening on the port it was given"
}

@test "each client is accepted and its connection ended, one after another" {
	hint "The accept loop" \
		"Call accept() in a loop; for each client, close_client() ends the connection so the client sees end of file, and the loop waits for the next."
	start_server greeter -- "$BIN_DIR/greeter" 0
	local i
	for i in 1 2 3; do
		greet "client$i"
		case $STATUS in
		3 | abandoned)
			fail_with "client$i's connection was never ended" "end of file after at most 5 s" \
				"the connection stayed open$([ -s "$(out "client$i")" ] && printf ' after: %s' "$(out_text "client$i")")$([ "$STATUS" = abandoned ] && printf ', and %s' "$CLIENT_WHY")"
			return 1
			;;
		esac
		expect_status "client$i" 0 "exit status of client$i (tcpeer: 0 is end of file, 1 a failed connection)" || return 1
	done
}

@test "a client receives the greeting 'hello, ADDR:PORT' and then end of file" {
	hint "Serving one client" \
		"accept() a connection, send 'hello, ADDR:PORT\\n' with the client's address, then close() it so the client sees end of file."
	start_server greeter -- "$BIN_DIR/greeter" 0
	greet client
	expect_greeted client
	expect_clean_stderr greeter
}

@test "the server logs each client's address and port (getpeername, inet_ntop, ntohs)" {
	hint "Who is calling: getpeername" \
		"getpeername() on the accepted socket gives the client's address; print it with inet_ntop() and ntohs(sin_port), as 'connection from ADDR:PORT', and flush."
	start_server greeter -- "$BIN_DIR/greeter" 0
	greet client
	[ -n "$LOCAL" ] || fail_with "the client could not connect" "a connection" "$(err_text client)"
	expect_logged "$LOCAL"
}

@test "clients one after another are each greeted and logged" {
	hint "The accept loop" \
		"Call accept() in a loop: one client is served, closed, and the loop waits for the next."
	start_server greeter -- "$BIN_DIR/greeter" 0
	local i
	for i in 1 2 3 4 5; do
		greet "client$i"
		expect_greeted "client$i"
		expect_logged "$LOCAL"
	done
	[ "$(grep -c '^connection from ' "$(out greeter)")" -eq 5 ] ||
		fail_with "the server did not log one line per client" "5 'connection from' lines" \
			"$(_tail "$(out greeter)")"
}

one_socket_left() { [ "$(socket_fds "$1")" -eq 1 ]; }

@test "the server keeps no descriptor per client it has served" {
	hint "Closing the connection" \
		"accept() returns a new descriptor for every client: close() it when you are done, or the server runs out after about a thousand clients."
	start_server greeter -- "$BIN_DIR/greeter" 0
	local i n
	for i in 1 2 3 4 5 6; do
		greet "client$i"
		expect_greeted "client$i"
	done
	# Each client saw end of file and closed; the server closes its side
	# once it sees theirs close, a moment later.
	wait_until 10 one_socket_left "$(prog_pid greeter)" || true
	n=$(socket_fds "$(prog_pid greeter)")
	[ "$n" -eq 1 ] ||
		fail_with "the server holds sockets it no longer needs" \
			"1 socket open (the listening one) after 6 clients" "$n sockets open"
}

@test "with -n 3 the server exits 0 after three clients, every descriptor closed (valgrind)" {
	hint "Closing the connection" \
		"After COUNT clients, leave the loop, close() the listening socket and return 0 from main; close() each client's socket too."
	start_valgrind greeter -- greeter -n 3 0
	# valgrind starts slowly on a busy machine.
	wait_line --before-accept greeter '^listening on .+:[0-9]+$' 60
	PORT=${LINE##*:}
	local i
	for i in 1 2 3; do
		# A server under valgrind on a busy machine may take a while.
		IDLE_MS=20000 greet "client$i"
		IDLE_MS=20000 expect_greeted "client$i"
	done
	# A server that goes back to accept() after its third client waits for
	# a fourth that never comes: seen at once, not after wait_exit's 60 s.
	local pid
	pid=$(prog_pid greeter)
	if wait_until --while greeter 60 _waits_in_accept "$pid"; then
		fail_with "greeter waits in accept() for another client after serving three, instead of exiting" \
			"exit status 0 after the third client" "still running, waiting in accept()"
	fi
	wait_exit greeter 60
	expect_status greeter 0
	expect_valgrind_clean greeter
}

@test "a client that connects and closes at once does not stop the server" {
	hint "When a client goes away" \
		"A client may close before you greet it: the first send() still succeeds, a second would fail with EPIPE. Never exit on a client's error: warn, close that client and go on. Ignore SIGPIPE so a failed send cannot kill the server."
	start_server greeter -- "$BIN_DIR/greeter" 0
	greet early --close
	greet early2 --close
	paused greeter gone_clients --close 3
	greet client
	expect_greeted client
	is_running greeter || fail_with "the server died" "still running" "exited; stderr: $(err_text greeter)"
	expect_clean_stderr greeter
}

@test "a client that resets the connection does not stop the server" {
	hint "When a client goes away" \
		"After a reset, getpeername() fails with ENOTCONN and send() with ECONNRESET (later ones with EPIPE): warn, close that client and go on."
	start_server greeter -- "$BIN_DIR/greeter" 0
	local i
	for i in 1 2 3; do
		greet "reset$i" --reset
	done
	# Resets the server meets only after they happened: getpeername() or
	# send() fails for each, and each descriptor must still be closed (the
	# teardown's invariants count them).
	paused greeter gone_clients --reset 3
	greet client
	expect_greeted client
	is_running greeter || fail_with "the server died" "still running" "exited; stderr: $(err_text greeter)"
	expect_clean_stderr greeter
}

# unread_at_server PORT: a connection to the server on PORT has bytes in the
# server's receive queue (Recv-Q), accepted yet or not.
unread_at_server() {
	ss -Htn state established "( sport = :$1 )" | awk '$1 > 0 { found = 1 } END { exit !found }'
}

@test "a client that sends a line before the greeting gets the greeting and end of file, not a reset" {
	hint "Closing the connection" \
		"close() with unread input sends a reset (RST), not FIN: call close_client(cfd), which shuts down the sending side and reads what the client sent before closing."
	printf 'a line the greeter never asked for\n' >"$BATS_TEST_TMPDIR/line"
	start_server greeter -- "$BIN_DIR/greeter" 0
	# Stop the server before it accepts, so that the client's line is
	# surely waiting, unread, when the server greets and closes.
	kill -STOP "$(prog_pid greeter)"
	start client --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/line" --idle-ms 8000
	if ! wait_until --while client 10 unread_at_server "$PORT"; then
		kill -CONT "$(prog_pid greeter)"
		fail_with "the client's line never reached the server" \
			"bytes waiting at the server's side of the connection" "$(ss -tan | tail -n 5)"
		return 1
	fi
	kill -CONT "$(prog_pid greeter)"
	wait_exit client 20 || return 1
	LOCAL=$(sed -n 's/^local //p' "$(err client)")
	if [ "$STATUS" != 0 ]; then
		fail_with "the connection did not end with end of file" \
			"'hello, $LOCAL', then end of file (tcpeer exit 0)" \
			"exit $STATUS after '$(out_text client)': $(grep -av '^local ' "$(err client)" | _text)"
		return 1
	fi
	expect_greeted client
	expect_clean_stderr greeter
}

@test "an IPv6 address argument listens on IPv6 and logs [ADDR]:PORT" {
	hint "Filling in an address" \
		"inet_pton(AF_INET6, ...) fills a struct sockaddr_in6; print IPv6 peers as [ADDR]:PORT."
	start_server greeter -- "$BIN_DIR/greeter" 0 ::1
	[ "$LINE" = "listening on [::1]:$PORT" ] ||
		fail_with "the server does not say it listens on ::1" "listening on [::1]:$PORT" "$LINE"
	HOST=::1 greet client
	expect_greeted client
	expect_logged "$LOCAL"
}

@test "bound to ::, an IPv4 client is logged and greeted as its v4-mapped address [::ffff:127.0.0.1]:PORT" {
	hint "Filling in an address" \
		"A peer of an IPv6 socket is a struct sockaddr_in6, even an IPv4 one (::ffff:127.0.0.1, 16 characters): hold it in a sockaddr_storage and size the text with INET6_ADDRSTRLEN."
	need_dual_stack
	start_server greeter -- "$BIN_DIR/greeter" 0 ::
	[ "$LINE" = "listening on [::]:$PORT" ] ||
		fail_with "the server does not say it listens on ::" "listening on [::]:$PORT" "$LINE"
	greet client
	local me got
	me=$(mapped "$LOCAL")
	got=$(out_text client)
	[ "$got" = "hello, $me" ] ||
		fail_with "the IPv4 client of a server on :: got the wrong greeting" "hello, $me" "$got"
	expect_logged "$me"
}

@test "a client at a 39-character IPv6 address (private namespace) is logged and greeted whole" {
	hint "Filling in an address" \
		"An IPv6 address in text takes up to 45 characters (INET6_ADDRSTRLEN counts the NUL): size the buffer for it, and check inet_ntop()'s result."
	local long=fd00:1234:5678:9abc:def0:1234:5678:9abc
	private_net "$long"
	start_server greeter -- "${IN_NET[@]}" "$BIN_DIR/greeter" 0 "$long"
	[ "$LINE" = "listening on [$long]:$PORT" ] ||
		fail_with "the server does not say it listens on $long" "listening on [$long]:$PORT" "$LINE"
	run_bounded client --timeout 20 -- "${IN_NET[@]}" "$TOOLS_DIR/tcpeer" connect "$long" "$PORT" --idle-ms 5000
	LOCAL=$(sed -n 's/^local //p' "$(err client)")
	expect_greeted client
	expect_logged "$LOCAL"
}

@test "a port that is already taken is reported as 'greeter: bind ADDR:PORT: Address already in use', exit 1" {
	hint "When bind() fails" \
		"Check bind()'s result; report it with err(1, \"bind %s:%s\", address, port) so the reason (strerror) is part of the message."
	start_server holder -- "$TOOLS_DIR/tcpeer" serve
	run_bounded greeter -- "$BIN_DIR/greeter" "$PORT"
	expect_status greeter 1
	local want="greeter: bind 127.0.0.1:$PORT: Address already in use"
	[ "$(err_text greeter)" = "$want" ] ||
		fail_with "the error message is not in the expected form" "$want" "$(err_text greeter)"
	[ ! -s "$(out greeter)" ] ||
		fail_with "the server said it listens although bind failed" "nothing on stdout" "$(out_text greeter)"
}

@test "a bad port or count prints a usage line and exits 2" {
	hint "Your turn" "Bad arguments are a usage error: a 'usage:' line on stderr, exit status 2."
	local args
	for args in "" "http" "65536" "-1" "80x" "0 127.0.0.1 extra" "-n zero 0" "-n 0 0" "0 not-an-address"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded greeter -- "$BIN_DIR/greeter" $args
		expect_status greeter 2 "exit status for 'greeter $args'"
		expect_stderr_line greeter '^usage: ' "no usage line for 'greeter $args'"
		[ ! -s "$(out greeter)" ] ||
			fail_with "'greeter $args' started anyway" "nothing on stdout" "$(out_text greeter)"
	done
}

@test "an IPv4-mapped IPv6 address (::ffff:127.0.0.1), the longest form here, is listened on and logged whole" {
	hint "Telling the world where you listen" \
		"Size address text buffers with INET6_ADDRSTRLEN (46): '::ffff:127.0.0.1' needs 17 bytes, one more than INET_ADDRSTRLEN."
	start_server greeter -- "$BIN_DIR/greeter" 0 ::ffff:127.0.0.1
	[ "$LINE" = "listening on [::ffff:127.0.0.1]:$PORT" ] ||
		fail_with "the server does not say it listens on ::ffff:127.0.0.1" \
			"listening on [::ffff:127.0.0.1]:$PORT" "$LINE"
	# An IPv4 client reaches it; the IPv6 socket sees it as a mapped address.
	greet client
	local peer="[::ffff:${LOCAL%:*}]:${LOCAL##*:}"
	expect_status client 0
	[ "$(out_text client)" = "hello, $peer" ] ||
		fail_with "the client got the wrong greeting" "hello, $peer" "$(out_text client)"
	expect_logged "$peer"
	expect_clean_stderr greeter
}

@test "serving polite clients leaves nothing on the server's stderr" {
	hint "When a client goes away" \
		"stderr is for what went wrong: send_all returns 0 on success and -1 on failure; warn only on -1."
	start_server greeter -- "$BIN_DIR/greeter" 0
	local i
	for i in 1 2 3; do
		greet "client$i"
		expect_greeted "client$i"
	done
	[ ! -s "$(err greeter)" ] ||
		fail_with "the server wrote to stderr while every client was served well" \
			"nothing on stderr" "$(_tail "$(err greeter)")"
}

# survives_failing CALL ERRNO: with CALL failing once with ERRNO (the
# failing shim), the server greets the clients that come after: the failure
# cost one client at most, never the server.
survives_failing() {
	local call=$1 errno=$2
	failing "$call" "$errno"
	start_server greeter -- "${FAILING[@]}" "$PLAIN_DIR/greeter" 0
	greet first
	if ! is_running greeter; then
		local status=0
		wait "$(pid_of greeter)" 2>/dev/null || status=$?
		fail_with "the server ended when $call() failed for one client (errno $errno)" \
			"a warning, that client closed, the server still running" \
			"exit status $status (141 is death by SIGPIPE); stderr: $(_tail "$(err greeter)")"
		return 1
	fi
	greet second
	expect_greeted second
	expect_logged "$LOCAL"
}

@test "an accept() that fails with ECONNABORTED (a client gave up in the queue) does not stop the server" {
	hint "The accept loop" \
		"accept() fails with ECONNABORTED when a client gave up while it waited in the queue, and with EINTR after a signal: neither is the server's fault, so try again."
	survives_failing accept 103
}

@test "a getpeername() that fails for one client (ENOTCONN) does not stop the server" {
	hint "When a client goes away" \
		"getpeername() fails with ENOTCONN when the client reset the connection before you looked: warn(), close that client and accept the next. err() ends the whole server."
	survives_failing getpeername 107
}

@test "a greeting send() that fails with EPIPE does not stop the server (no err(), no SIGPIPE)" {
	hint "When a client goes away" \
		"A send to a client that has gone fails with EPIPE and raises SIGPIPE: ignore SIGPIPE (or pass MSG_NOSIGNAL), then warn(), close that client and accept the next."
	survives_failing send 32
}
