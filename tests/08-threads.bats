#!/usr/bin/env bats
# Lesson 08 - threads: a chat room with one thread per client, the client
# list shared under a mutex, slow and vanished clients dropped.

load lib/helpers
load lib/chat
load lib/room
load lib/serverargs

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"
INVARIANT_SECTION_DIED="SIGPIPE: the signal that kills servers"
INVARIANT_SECTION_FDS="Joining and leaving"

# The machine may be loaded by other suites running at once: be patient with
# lines a passing program prints (a failing one still fails in bounded time).
T_LINE=30

# thread_count PID: how many threads PID has now.
thread_count() {
	local task n=0
	for task in /proc/"$1"/task/*; do n=$((n + 1)); done
	printf '%s\n' "$n"
}

only_main_thread() { [ "$(thread_count "$1")" -eq 1 ]; }

@test "with 3 clients, each receives the others' lines, not its own, in each sender's order" {
	hint "Broadcasting a line" \
		"Send each line to every client in the list except the one who sent it, prefixed with '[ADDR:PORT] '."
	start_server server -- "$BIN_DIR/chat_server" 0
	crowd crowd 3 -c 3 -m 50
	expect_clean_stderr server
}

@test "joins and leaves are announced to the others" {
	hint "Joining and leaving" \
		"Announce '* ADDR:PORT joined' when a client is added, '* ADDR:PORT left' when it is removed."
	start_server server -- "$BIN_DIR/chat_server" 0
	start watcher -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '^joined 127\.0\.0\.1:[0-9]+ \(1 online\)$'
	printf 'hello, room\n' >"$BATS_TEST_TMPDIR/hello"
	run_bounded visitor -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/hello" --shut-wr --idle-ms $((T_STALL * 1000))
	expect_status visitor 0
	local me
	me=$(sed -n 's/^local //p' "$(err visitor)")
	wait_line watcher "^\* $me left\$"
	local want got
	want=$(printf '* %s joined\n[%s] hello, room\n* %s left' "$me" "$me" "$me")
	got=$(cat "$(out watcher)")
	[ "$got" = "$want" ] || fail_with "the watcher saw the wrong lines" "$want" "$got"
	wait_line server "^left $me \\(1 online\\)\$"
}

@test "bound to ::, IPv4 clients are named by their v4-mapped address [::ffff:127.0.0.1]:PORT" {
	hint "Joining and leaving" \
		"A peer of an IPv6 socket is a struct sockaddr_in6, even an IPv4 one: accept() into a sockaddr_storage and format it with INET6_ADDRSTRLEN room."
	need_dual_stack
	start_server server -- "$BIN_DIR/chat_server" 0 ::
	start watcher -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '^joined \[::ffff:127\.0\.0\.1\]:[0-9]+ \(1 online\)$'
	printf 'hello, room\n' >"$BATS_TEST_TMPDIR/hello"
	run_bounded visitor -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/hello" --shut-wr --idle-ms $((T_STALL * 1000))
	expect_status visitor 0
	local me
	me=$(mapped "$(sed -n 's/^local //p' "$(err visitor)")")
	wait_line watcher "^\\* \\$me left\$"
	local want got
	want=$(printf '* %s joined\n[%s] hello, room\n* %s left' "$me" "$me" "$me")
	got=$(cat "$(out watcher)")
	[ "$got" = "$want" ] || fail_with "the watcher saw the wrong lines" "$want" "$got"
}

@test "200 clients connected at once all receive a broadcast" {
	hint "One thread per client" \
		"Each accepted client gets its own thread, so no client waits for another; all share one list."
	start_server server -- "$BIN_DIR/chat_server" 0
	crowd crowd 200 -c 200 -s 1 -m 2
	wait_empty
	expect_clean_stderr server
}

@test "clients that reset mid-broadcast do not kill the server (SIGPIPE) and are dropped from the list" {
	hint "SIGPIPE: the signal that kills servers" \
		"After a reset, the first send fails with ECONNRESET and the next with EPIPE, which raises SIGPIPE and ends the process: use MSG_NOSIGNAL or ignore SIGPIPE."
	start_server server -- "$BIN_DIR/chat_server" 0
	# 10 clients talk while 30 others reset their connections.
	crowd crowd 40 -c 10 -m 30 --victims 30
	wait_empty
	# Clients gone before the server first looks at them (reset, closed):
	# each descriptor must still be closed.
	paused server gone_clients --reset 3
	paused server gone_clients --close 2
	wait_settled server
	# The room still works for newcomers.
	crowd again 2 -c 2 -m 3
	wait_empty
	expect_clean_stderr server
}

@test "a client that stops reading is dropped, and the room goes on" {
	hint "Slow clients and bounded sends" \
		"Never block on one client while holding the lock: send with MSG_DONTWAIT, and drop a client whose buffer is full."
	start_server server -- "$BIN_DIR/chat_server" 0
	# Three clients send 600 KB to each other; a fourth never reads. Once
	# the rounds are over, that fourth must find its connection closed by the
	# server (EOF or reset) within 10 s: the effect, not only the log line.
	crowd crowd 4 -c 3 -m 200 --size 1000 --stalled 1 --expect-drop 10000
	# The drop may be logged a moment later, by the dropped client's thread.
	wait_line server '^dropped 127\.0\.0\.1:[0-9]+ \(too slow\)$' ||
		fail_with "the server should drop the client that stopped reading" \
			"a line 'dropped ADDR:PORT (too slow)'" "$(_tail "$(out server)")"
	expect_clean_stderr server
}

@test "a log pipe nobody reads does not stop the room (no printf under the lock)" {
	hint "The mutex and what it protects" \
		"printf and fflush block when stdout is a full pipe: note what to log while you hold the lock, and print it after unlocking."
	log_pipe_unread chat_server
}

@test "the server is clean under ThreadSanitizer while clients join, talk and leave" {
	hint "The mutex and what it protects" \
		"Every use of the client list (add, remove, walk to broadcast) must hold the one mutex."
	[ -n "${TSAN_DIR:-}" ] && [ -x "$TSAN_DIR/chat_server" ] ||
		fail_with "no ThreadSanitizer build" "chat_server built with -fsanitize=thread" \
			"nothing in TSAN_DIR (does chat_server.c include <pthread.h>?)"
	local T_STALL=6 # ThreadSanitizer runs the server many times slower
	# 3 rounds of 6 talkers and 3 resetting clients: -n 27.
	start server --timeout 110 -- "$TSAN_DIR/chat_server" -n 27 0
	wait_listening server 60
	local round
	for round in 1 2 3; do
		crowd "round$round" 9 -c 6 -m 15 --victims 3
		wait_empty
	done
	wait_exit server 30
	expect_clean_stderr server
	expect_status server 0
}

@test "after -n COUNT clients have come and gone, the server exits 0 with nothing leaked (valgrind)" {
	hint "Ending the server" \
		"Each client thread closes its socket and frees its entry; main waits for the last thread, then returns."
	local T_STALL=6 # valgrind runs the server many times slower
	start_valgrind server --timeout 120 -- chat_server -n 6 0
	wait_listening server 60
	crowd crowd 6 -c 4 -m 5 --victims 2
	wait_exit server 60
	expect_status server 0
	expect_valgrind_clean server
}

@test "the threads of departed clients end, and only main's thread is left" {
	hint "Detach or join" \
		"Each client's thread must return once its client has left; detach it so that nothing is left behind."
	start_server server -- "$PLAIN_DIR/chat_server" 0
	local pid tasks=0 round task deadline
	pid=$(prog_pid server)
	for round in 1 2 3; do
		crowd "round$round" 10 -c 10 -m 2
		wait_empty
	done
	# The last thread logs its leaving a moment before it ends: give the
	# threads a few seconds to finish.
	wait_until 10 only_main_thread "$pid" || true
	tasks=$(thread_count "$pid")
	[ "$tasks" -eq 1 ] ||
		fail_with "threads are still running with nobody in the room" "1 thread (main)" "$tasks threads"
}

@test "bad arguments print a usage line and exit 2" {
	hint "Your turn" "Bad arguments: a 'usage:' line on stderr, exit status 2."
	local args
	for args in "" "-n" "-n 0 0" "notaport" "0 127.0.0.1 extra"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded server -- "$BIN_DIR/chat_server" $args
		expect_status server 2 "exit status for 'chat_server $args'"
		expect_stderr_line server '^usage: ' "no usage line for 'chat_server $args'"
	done
}

# serve_one_chat SERVER: one client joins, says a line and leaves (a server
# silent for T_STALL ends it, as for the suite's other visitors).
serve_one_chat() {
	printf 'hello\n' >"$BATS_TEST_TMPDIR/hello"
	run_bounded only -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/hello" --shut-wr --idle-ms $((T_STALL * 1000))
	expect_status only 0 || return 1
	wait_line "$1" '^left 127\.0\.0\.1:[0-9]+ \(0 online\)$'
}

@test "a count of 0, -1 or over 1000000000, a bad port or an extra operand is bad usage: exit 2" {
	hint "Your turn" "parse_listen_args (common/net.h) refuses these; main then prints its usage line and exits 2."
	check_usage "$BIN_DIR/chat_server"
}

@test "-n 1000000000, the largest count, is taken" {
	hint "Your turn" "COUNT may be 1 to 1000000000, in every server (common/net.h, SERVE_COUNT_MAX)."
	check_count_max "$BIN_DIR/chat_server"
}

@test "-n 1 serves one client, then exits 0 by itself" {
	hint "Ending the server" "After COUNT clients, stop accepting, wait until the last thread has ended, and return 0."
	check_serves_one serve_one_chat "$BIN_DIR/chat_server"
}

@test "out of descriptors (EMFILE), the server waits and tries accept() again, then serves the client" {
	hint "One thread per client" \
		"accept_retry (common/tcp.h) pauses 100 ms after EMFILE and tries again: the clients that leave free descriptors."
	check_emfile_backoff serve_one_chat "$PLAIN_DIR/chat_server"
}

@test "a line that arrives in pieces is broadcast whole, as one line" {
	hint "Broadcasting a line" \
		"recv() returns whatever has arrived, maybe half a line: keep the unfinished tail until its newline comes."
	start_server server -- "$BIN_DIR/chat_server" 0
	start watcher -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '^joined 127\.0\.0\.1:[0-9]+ \(1 online\)$'
	printf 'a line that arrives in small pieces\nand one more\n' >"$BATS_TEST_TMPDIR/pieces"
	# 4 bytes at a time with pauses: each recv() sees a piece of a line.
	run_bounded visitor -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" \
		--send "$BATS_TEST_TMPDIR/pieces" --chunk 4 --pause-ms 15 --shut-wr \
		--idle-ms $((T_STALL * 1000))
	expect_status visitor 0
	local me want got
	me=$(sed -n 's/^local //p' "$(err visitor)")
	wait_line watcher "^\* $me left\$"
	want=$(printf '* %s joined\n[%s] a line that arrives in small pieces\n[%s] and one more\n* %s left' \
		"$me" "$me" "$me" "$me")
	got=$(cat "$(out watcher)")
	[ "$got" = "$want" ] || fail_with "the watcher did not get the lines whole" "$want" "$got"
	expect_clean_stderr server
}

@test "a send that fails with EPIPE does not kill the server (SIGPIPE), whichever call raced it" {
	hint "SIGPIPE: the signal that kills servers" \
		"A send to a connection that is gone fails with EPIPE and raises SIGPIPE, which ends the process: use MSG_NOSIGNAL or ignore SIGPIPE."
	# A real reset makes the server's send fail with EPIPE only when the
	# client's own thread read the reset first, a race. The shim makes every
	# send fail with EPIPE and raise SIGPIPE as the kernel then does, so the
	# test does not depend on who wins.
	start_server server -- env LD_PRELOAD="$TOOLS_DIR/preload-fail.so" FAIL_CALL=send \
		FAIL_ERRNO=32 "$PLAIN_DIR/chat_server" 0
	start first -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	wait_line server '^joined .* \(1 online\)$'
	# The second join is announced to the first client: that send fails.
	start second -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 20000
	if ! wait_progress 20 grep -aq '^dropped .* (Broken pipe)$' "$(out server)"; then
		if is_running server; then
			fail_with "the server did not drop the client whose send failed" \
				"a line 'dropped ADDR:PORT (Broken pipe)'" "$(_tail "$(out server)")"
		else
			local status=0
			wait "$(pid_of server)" 2>/dev/null || status=$?
			fail_with "the server died when a send failed with EPIPE" \
				"still running, the client dropped" \
				"exit status $status (141 is death by SIGPIPE); stderr: $(_tail "$(err server)")"
		fi
		return 1
	fi
	is_running server || fail_with "the server died after a send failed with EPIPE" "still running" "exited"
}

# logged_count WHAT: the N of every "WHAT ADDR:PORT (N online)" line the
# server logged, sorted, on one line.
logged_counts() {
	sed -n "s/^$1 .* (\([0-9]*\) online)\$/\1/p" "$(out server)" | sort -n | tr '\n' ' '
}

joined_all() { [ "$(grep -c '^joined ' "$(out server)")" -ge "$1" ]; }

stop_clients() {
	local i
	for i in $(seq "$1"); do stop "c$i"; done
}

@test "the online count is kept under the lock while clients join and leave at once (ThreadSanitizer)" {
	hint "The mutex and what it protects" \
		"The count of clients online is shared like the list: change it and read it for the log only while you hold the lock (copy it into a local variable for the printf after unlocking)."
	[ -n "${TSAN_DIR:-}" ] && [ -x "$TSAN_DIR/chat_server" ] ||
		fail_with "no ThreadSanitizer build" "chat_server built with -fsanitize=thread" \
			"nothing in TSAN_DIR (does chat_server.c include <pthread.h>?)"
	# ThreadSanitizer sees a race only if two unordered accesses both happen
	# in the run; which do depends on the scheduler. The race shim makes the
	# unlucky order certain: the four client threads start together once
	# main has made them all, and a thread that unlocks waits a moment, so
	# another runs its next critical section first.
	local n=4 i T_STALL=10 # no join is logged until all four have connected (RACE_GATE)
	start server --timeout 110 -- env LD_PRELOAD="$TOOLS_DIR/preload-race.so" RACE_GATE=$n \
		RACE_UNLOCK_MS=20 "$TSAN_DIR/chat_server" -n $n 0
	wait_listening server 60
	for i in $(seq $n); do
		start "c$i" -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --idle-ms 60000
	done
	if ! wait_progress 40 joined_all $n; then
		fail_with "the server did not log $n joins" "$n lines 'joined ADDR:PORT (N online)'" \
			"$(_tail "$(out server)"); stderr: $(_tail "$(err server)")"
		return 1
	fi
	# All leave at once: they are gone before the server looks again.
	paused server stop_clients $n
	wait_exit server 60 || return 1
	expect_clean_stderr server
	expect_status server 0
	hint "Joining and leaving" \
		"Each join and each leave changes the count once, under the lock, and logs the value it made: the joins show 1 to $n once each, the leaves $((n - 1)) down to 0."
	local want_j want_l
	want_j=$(seq 1 $n | tr '\n' ' ')
	want_l=$(seq 0 $((n - 1)) | tr '\n' ' ')
	[ "$(logged_counts joined)" = "$want_j" ] ||
		fail_with "the joins did not count 1 to $n" "counts: $want_j" "counts: $(logged_counts joined)"
	[ "$(logged_counts left)" = "$want_l" ] ||
		fail_with "the leaves did not count down to 0" "counts: $want_l" "counts: $(logged_counts left)"
}
