#!/usr/bin/env bats
# Lesson 06 - reuse-address: restart a server at once on the same port
# (SO_REUSEADDR and TIME-WAIT), and fail clearly when the port is really
# taken.

load lib/helpers

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"

GREETING='^hello 127\.0\.0\.1:[0-9]+, this is process [0-9]+$'

# greet NAME: be one client of the server on $PORT; its greeting goes to
# $(out NAME). The server must close the connection itself.
greet() {
	run_bounded "$1" --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT"
	if [ "$STATUS" = 3 ]; then
		fail_with "the server did not close the connection after its greeting" \
			"the greeting, then end of file" "$(cat "$(out "$1")")"
		return 1
	fi
	expect_status "$1" 0 "exit status of the test client"
}

# time_wait_entries PORT: the lines `ss -tan` shows in TIME-WAIT with local
# port PORT.
time_wait_entries() {
	ss -tanH state time-wait "( sport = :$1 )" 2>/dev/null
}

# wait_time_wait PORT: wait (bounded) until a TIME-WAIT entry for local port
# PORT shows; it appears as soon as the client's own close arrives.
has_time_wait() { [ -n "$(time_wait_entries "$1")" ]; }

wait_time_wait() {
	if ! wait_until "$T_LINE" has_time_wait "$1"; then
		fail_with "no TIME-WAIT entry for port $1 after the server closed its connection" \
			"a line from: ss -tan state time-wait '( sport = :$1 )'" \
			"$(ss -tan "( sport = :$1 )" 2>&1)"
		return 1
	fi
	TIME_WAIT_LINE=$(time_wait_entries "$1" | head -n 1 | awk '{ print "local " $3 ", peer " $4 }')
}

@test "greets a client, closes the connection first, and logs 'served ADDR:PORT'" {
	hint "How a TCP connection ends" \
		"Send the greeting, then close the client's socket yourself; then print 'served ADDR:PORT' and flush."
	start_server srv -- "$BIN_DIR/restartable" -n 1 0
	greet c
	grep -qaE "$GREETING" "$(out c)" ||
		fail_with "the greeting is not right" "a line like 'hello 127.0.0.1:PORT, this is process PID'" "$(cat "$(out c)")"
	wait_exit srv
	expect_status srv 0
	expect_line srv '^served 127\.0\.0\.1:[0-9]+$' "the server did not log the client it served"
	expect_clean_stderr srv
}

# unread_at_server PORT: a connection to the server on PORT has bytes in the
# server's receive queue (Recv-Q), accepted yet or not.
unread_at_server() {
	ss -Htn state established "( sport = :$1 )" | awk '$1 > 0 { found = 1 } END { exit !found }'
}

@test "a client that sends a line before the greeting still gets end of file, not a reset" {
	hint "How a TCP connection ends" \
		"close() with unread input sends a reset: end the connection with tcp_close_drained(cfd) (common/tcp.h), as lesson 02's close_client does."
	printf 'a line nobody asked for\n' >"$BATS_TEST_TMPDIR/line"
	start_server srv -- "$BIN_DIR/restartable" -n 1 0
	# Stopped before accept(), the server surely finds the line unread.
	kill -STOP "$(prog_pid srv)"
	start c --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/line" --idle-ms 8000
	wait_until --while c 10 unread_at_server "$PORT" || true
	kill -CONT "$(prog_pid srv)"
	wait_exit c 20 || return 1
	if [ "$STATUS" != 0 ]; then
		fail_with "the connection did not end with end of file" \
			"the greeting, then end of file (tcpeer exit 0)" \
			"exit $STATUS after '$(cat "$(out c)")': $(grep -v '^local ' "$(err c)")"
		return 1
	fi
	grep -qaE "$GREETING" "$(out c)" ||
		fail_with "the greeting is not right" "a line like 'hello 127.0.0.1:PORT, this is process PID'" "$(cat "$(out c)")"
	wait_exit srv
	expect_status srv 0
	expect_clean_stderr srv
}

@test "restarted at once on the same port, it binds while the old connection is in TIME-WAIT" {
	hint "SO_REUSEADDR" \
		"Set SO_REUSEADDR to 1 on the listening socket, before bind(): then TIME-WAIT entries do not block the port."
	# First run on a chosen port: serve one client, closing first, and exit.
	start_server_on_port first -- "$BIN_DIR/restartable" -n 1 @PORT@
	greet c1
	wait_exit first
	expect_status first 0
	# The first run's side of that connection now waits in TIME-WAIT.
	wait_time_wait "$PORT"
	# Second run, at once, on the same port.
	start second -- "$BIN_DIR/restartable" -n 1 "$PORT"
	if ! wait_line --before-accept second '^listening on ' 2>/dev/null >/dev/null; then
		fail_with "the restarted server could not bind port $PORT, held only by a connection in TIME-WAIT ($TIME_WAIT_LINE)" \
			"listening on 127.0.0.1:$PORT" "$(_tail "$(err second)")"
	fi
	[ "$LINE" = "listening on 127.0.0.1:$PORT" ] ||
		fail_with "the restarted server is not on the same port" "listening on 127.0.0.1:$PORT" "$LINE"
	greet c2
	grep -qaE "$GREETING" "$(out c2)" ||
		fail_with "the restarted server's greeting is not right" "hello ..." "$(cat "$(out c2)")"
	wait_exit second
	expect_status second 0
}

@test "while another program listens on the port: 'restartable: bind 127.0.0.1:PORT: Address already in use', exit 1" {
	hint "What SO_REUSEADDR does not allow" \
		"A live listener still owns its port: report bind's error with err(1, \"bind %s:%s\", host, port) and exit; never move to another port."
	start_server holder -- "$TOOLS_DIR/tcpeer" serve
	run_bounded srv --timeout 10 -- "$BIN_DIR/restartable" -n 1 "$PORT"
	local want="restartable: bind 127.0.0.1:$PORT: Address already in use"
	[ "$STATUS" = 1 ] && [ "$(cat "$(err srv)")" = "$want" ] && [ ! -s "$(out srv)" ] && return 0
	fail_with "the server did not fail at once with the bind error" \
		"exit status 1, nothing on stdout, and on stderr: $want" \
		"exit status $STATUS; stdout: $(_tail "$(out srv)"); stderr: $(_tail "$(err srv)")"
}

@test "SO_REUSEADDR is set to 1 at level SOL_SOCKET on the listening socket, before bind()" {
	hint "SO_REUSEADDR" \
		"setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) between socket() and bind(): after bind() it is too late."
	local log=$BATS_TEST_TMPDIR/calls.log
	start_server srv -- env LD_PRELOAD="$TOOLS_DIR/preload-sockcalls.so" SOCKCALLS_LOG="$log" \
		"$PLAIN_DIR/restartable" -n 1 0
	greet c
	wait_exit srv
	expect_status srv 0
	# The socket that listened, and whether the option came before its bind.
	local verdict
	verdict=$(awk '
		/^listen fd=/ && / rc=0$/ { split($2, f, "="); lfd = f[2] }
		{ calls[NR] = $0 }
		END {
			if (lfd == "") { print "no successful listen()"; exit }
			for (i = 1; i <= NR; i++) {
				line = calls[i]
				if (line ~ "^setsockopt fd=" lfd " level=SOL_SOCKET name=SO_REUSEADDR value=[1-9][0-9]* rc=0$")
					set = 1
				if (line ~ "^bind fd=" lfd " ") {
					print set ? "ok" : "bind() came before SO_REUSEADDR was set on it"
					exit
				}
			}
			print "no bind() of the listening socket"
		}' "$log")
	[ "$verdict" = ok ] ||
		fail_with "SO_REUSEADDR was not set as it should be: $verdict" \
			"setsockopt fd=N level=SOL_SOCKET name=SO_REUSEADDR value=1, then bind fd=N" \
			"$(cat "$log")"
	hint "What SO_REUSEADDR does not allow" \
		"SO_REUSEPORT is a different option: it lets a second server listen on the same port. Set SO_REUSEADDR only."
	expect_no_sockcall "$log" '^setsockopt .*name=SO_REUSEPORT value=[1-9]' \
		"SO_REUSEPORT was set as well: this lesson's server sets SO_REUSEADDR only"
}

@test "a second copy of the server on the same port fails with 'Address already in use' (no SO_REUSEPORT)" {
	hint "What SO_REUSEADDR does not allow" \
		"Two servers must not share a port: SO_REUSEADDR does not allow it, SO_REUSEPORT does. Set SO_REUSEADDR only."
	start_server_on_port first -- "$BIN_DIR/restartable" @PORT@
	run_bounded second --timeout 10 -- "$BIN_DIR/restartable" -n 1 "$PORT"
	local want="restartable: bind 127.0.0.1:$PORT: Address already in use"
	[ "$STATUS" = 1 ] && [ "$(cat "$(err second)")" = "$want" ] && [ ! -s "$(out second)" ] && return 0
	fail_with "a second server could take the port the first one listens on" \
		"exit status 1, nothing on stdout, and on stderr: $want" \
		"exit status $STATUS; stdout: $(_tail "$(out second)"); stderr: $(_tail "$(err second)")"
}

@test "bound to ::, an IPv4 client is greeted and logged as [::ffff:127.0.0.1]:PORT" {
	hint "How a TCP connection ends" \
		"A peer of an IPv6 socket is a struct sockaddr_in6, even an IPv4 one: hold it in a sockaddr_storage and format it with INET6_ADDRSTRLEN room."
	need_dual_stack
	start_server srv -- "$BIN_DIR/restartable" -n 1 0 ::
	greet c
	grep -qaE '^hello \[::ffff:127\.0\.0\.1\]:[0-9]+, this is process [0-9]+$' "$(out c)" ||
		fail_with "the greeting does not name the v4-mapped client" \
			"hello [::ffff:127.0.0.1]:PORT, this is process PID" "$(cat "$(out c)")"
	wait_exit srv
	expect_status srv 0
	expect_line srv '^served \[::ffff:127\.0\.0\.1\]:[0-9]+$' "the server did not log the v4-mapped client it served"
}

@test "clients that reset or close before they are served do not stop the server" {
	hint "How a TCP connection ends" \
		"A client may be gone before you greet it: send() fails (EPIPE, ECONNRESET). Warn, close that client's socket, and go on."
	start_server srv -- "$BIN_DIR/restartable" 0
	paused srv gone_clients --reset 3
	paused srv gone_clients --close 2
	greet c
	grep -qaE "$GREETING" "$(out c)" ||
		fail_with "the server did not greet the next client" "hello ..." "$(cat "$(out c)")"
}

@test "-n COUNT: exits 0 after COUNT clients with every descriptor closed" {
	hint "Your turn" \
		"After COUNT clients, leave the loop, close the listening socket, and return 0 from main."
	start_valgrind srv -- restartable -n 2 0
	wait_line --before-accept srv '^listening on ' 60
	wait_listening srv
	greet c1
	greet c2
	wait_exit srv 60
	expect_status srv 0
	expect_valgrind_clean srv
}

@test "bad arguments print a usage line and exit 2" {
	hint "Your turn" "A bad port or count is a usage error: a 'usage:' line on stderr, exit 2."
	local args
	for args in "" "70000" "-n 0 0" "-n x 0" "0 127.0.0.1 extra" "-x 0"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded srv -- "$BIN_DIR/restartable" $args
		expect_status srv 2 "exit status for 'restartable $args'"
		expect_stderr_line srv '^usage: ' "no usage line for 'restartable $args'"
	done
}
