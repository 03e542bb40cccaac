#!/usr/bin/env bats
# Lesson 03 - tcp-client: a mini netcat (getaddrinfo, connect, send and
# receive loops, shutdown).
# The client resolves names: `make test` also runs this suite with a stock
# /etc/hosts (::1 first) and an IPv4-only one (docs/CONTRIBUTING.md).
# bats file_tags=resolves-names

load lib/helpers
load lib/chat

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"

# minicat [--stdin FILE] [--] ARGS...: run the client, bounded, as "minicat".
minicat() {
	local opts=()
	if [ "${1:-}" = --stdin ]; then
		opts=(--stdin "$2")
		shift 2
	fi
	[ "${1:-}" = -- ] && shift
	run_bounded minicat "${opts[@]}" --timeout 30 -- "$BIN_DIR/minicat" "$@"
}

# serve NAME [tcpeer serve options]: start a test server; sets PORT. A
# client that goes silent without ending its side (no shutdown) is given up
# on after 5 s, as the one test that says so always did, not tcpeer's 10 s:
# a correct client is never silent that long, and a student's make check
# should not wait 10 s in each of four tests to say so.
serve() {
	local name=$1
	shift
	start_server "$name" -- "$TOOLS_DIR/tcpeer" serve --idle-ms 5000 "$@"
}

# minicat_with_hosts HOSTS_FILE ARGS...: run the client as "minicat" with
# HOSTS_FILE as its /etc/hosts, in a private mount namespace that nothing
# else sees.
minicat_with_hosts() {
	local hosts=$1
	shift
	# shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
	run_bounded minicat --timeout 30 -- unshare -rm \
		sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$BIN_DIR/minicat" "$@"
}

need_unshare() {
	unshare -rm true 2>/dev/null || skip "unshare -rm (private /etc/hosts) does not work here"
}

# text_file PATH LINES: a text file of numbered lines.
text_file() {
	local i
	for ((i = 1; i <= $2; i++)); do
		printf 'line %04d of a reply that comes in pieces\n' "$i"
	done >"$1"
}

# expect_output FILE WHAT: minicat exited 0 and printed exactly FILE.
expect_output() {
	expect_status minicat 0
	expect_clean_stderr minicat
	expect_same_bytes "$2" "$1" "$(out minicat)"
}

@test "prints a reply that arrives in many small pieces, until the server closes (recv loop)" {
	hint "Receiving until end of file" \
		"One recv() returns what has arrived so far, maybe a few bytes. Loop until recv() returns 0: that, and only that, is the end."
	text_file "$BATS_TEST_TMPDIR/reply" 60
	serve srv --send "$BATS_TEST_TMPDIR/reply" --chunk 100 --pause-ms 40
	minicat -- 127.0.0.1 "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed (the server sent 100 bytes at a time)"
}

@test "prints all of a 512 KiB reply, byte for byte" {
	hint "Receiving until end of file" \
		"Write exactly the bytes each recv() returned (a loop of write() until all are out), and keep receiving until recv() returns 0."
	head -c $((512 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/reply"
	serve srv --send "$BATS_TEST_TMPDIR/reply"
	minicat -- 127.0.0.1 "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed (the server sent 524288 bytes)"
}

@test "an empty standard input: ends its side at once and prints the reply" {
	hint "Half-closing: shutdown versus close" \
		"read() returning 0 at once is an empty input: send nothing, shutdown(SHUT_WR), and still print what the server answers."
	printf 'answer to nothing\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --after-eof --send "$BATS_TEST_TMPDIR/reply" --record "$BATS_TEST_TMPDIR/got"
	minicat --stdin /dev/null -- 127.0.0.1 "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed after sending nothing"
	wait_line srv '^received 0 bytes$'
}

@test "connects to a v4-mapped IPv6 address (::ffff:127.0.0.1)" {
	hint "Resolving names: getaddrinfo" \
		"Make the socket with the family getaddrinfo returned (AF_INET6 for ::ffff:127.0.0.1), and pass ai_addr and ai_addrlen to connect() as they are."
	need_dual_stack
	printf 'over a mapped address\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --send "$BATS_TEST_TMPDIR/reply"
	minicat -- ::ffff:127.0.0.1 "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed"
}

@test "sends all of a large standard input (4 MiB) before ending its side" {
	hint "Sending everything: the send loop" \
		"Read standard input in a loop until read() returns 0, and send every block you read: one read() gives at most one buffer."
	head -c 4194304 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	serve srv --after-eof --record "$BATS_TEST_TMPDIR/got"
	minicat --stdin "$BATS_TEST_TMPDIR/big" -- 127.0.0.1 "$PORT"
	expect_status minicat 0
	touch "$BATS_TEST_TMPDIR/got"
	expect_same_bytes "what the server received" "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/got"
}

@test "sends every byte even when send() takes only part of the buffer (send loop)" {
	hint "Sending everything: the send loop" \
		"send() returns how many bytes it took, which may be fewer than you asked: send the rest in a loop."
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/data"
	serve srv --after-eof --record "$BATS_TEST_TMPDIR/got"
	# The short-I/O shim makes each send() (and recv()) on the socket move
	# at most 1000 bytes, as a busy network may; it needs the build without
	# sanitizers.
	run_bounded minicat --stdin "$BATS_TEST_TMPDIR/data" --timeout 30 -- \
		env LD_PRELOAD="$TOOLS_DIR/preload-shortio.so" SHORTIO_MAX=1000 \
		"$PLAIN_DIR/minicat" 127.0.0.1 "$PORT"
	expect_status minicat 0
	touch "$BATS_TEST_TMPDIR/got"
	expect_same_bytes "what the server received (each send() took at most 1000 bytes)" \
		"$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/got"
}

@test "ends its side with shutdown(SHUT_WR), so a server that answers after end of file can reply" {
	hint "Half-closing: shutdown versus close" \
		"After the last send, call shutdown(fd, SHUT_WR): the server reads end of file, and your side can still receive its answer."
	printf 'a question the server answers only once it has all of it\n' >"$BATS_TEST_TMPDIR/q"
	# This server reads until end of file, then echoes; it gives up after
	# 5 s of silence, so a client that never ends its side gets nothing.
	serve srv --after-eof --echo --idle-ms 5000
	minicat --stdin "$BATS_TEST_TMPDIR/q" -- 127.0.0.1 "$PORT"
	expect_status minicat 0
	if [ ! -s "$(out minicat)" ]; then
		fail_with "the server never saw end of file, so it never answered" \
			"the echo of: $(cat "$BATS_TEST_TMPDIR/q")" \
			"nothing (the server waited 5 s for end of file, then gave up)"
	fi
	expect_output "$BATS_TEST_TMPDIR/q" "the echoed answer"
}

# in_close_wait PORT: a connection to port PORT is in CLOSE-WAIT (the peer's
# FIN has arrived; this end has not closed yet).
in_close_wait() {
	[ -n "$(ss -Htn state close-wait "( dport = :$1 )")" ]
}
left_close_wait() { ! in_close_wait "$1"; }

@test "prints a reply that arrived before its own send or shutdown failed (the server closed without reading)" {
	hint "When the server closes first" \
		"When send() or shutdown() fails with EPIPE, ECONNRESET or ENOTCONN, the server has closed: its answer is still in your receive buffer. Go on to the receive loop."
	printf 'hello, and goodbye: this server reads nothing\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --send "$BATS_TEST_TMPDIR/reply"
	start_typed minicat --timeout 30 -- "$BIN_DIR/minicat" 127.0.0.1 "$PORT"
	# The server sends its reply and closes without reading anything: once
	# it has exited and its FIN has reached minicat, a line typed now meets
	# a closed socket, whose kernel answers with a reset.
	wait_exit srv 20 || return 1
	wait_until --while minicat 10 in_close_wait "$PORT" ||
		fail_with "minicat's connection never saw the server's FIN" \
			"a connection to port $PORT in CLOSE-WAIT" "$(ss -tan | tail -n 5)"
	type_line minicat "a line the server never reads"
	# The reset has arrived when the connection leaves CLOSE-WAIT. Only then
	# comes end of input, so shutdown() surely meets the reset.
	wait_until --while minicat 10 left_close_wait "$PORT" || true
	end_input minicat
	wait_exit minicat 20 || return 1
	expect_clean_stderr minicat
	if [ "$STATUS" != 0 ] && [ "$STATUS" != 1 ]; then
		fail_with "wrong exit status of minicat" "0, or 1 after printing the reply" \
			"$STATUS (stderr: $(_tail "$(err minicat)"))"
	fi
	expect_same_bytes "what minicat printed (the server's reply, which arrived before the reset)" \
		"$BATS_TEST_TMPDIR/reply" "$(out minicat)"
}

@test "binary data with NUL bytes passes intact both ways" {
	hint "Bytes, not strings" \
		"The data is bytes with a length, not a C string: never strlen(), printf(\"%s\") or fputs() it; send and write exactly the n bytes you got."
	{
		printf 'before\0after\0\0\n\377\001'
		head -c 65536 /dev/urandom
		printf '\0'
	} >"$BATS_TEST_TMPDIR/bin"
	serve srv --echo --record "$BATS_TEST_TMPDIR/got"
	minicat --stdin "$BATS_TEST_TMPDIR/bin" -- 127.0.0.1 "$PORT"
	expect_status minicat 0
	touch "$BATS_TEST_TMPDIR/got"
	expect_same_bytes "what the server received" "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/got"
	expect_same_bytes "what minicat printed" "$BATS_TEST_TMPDIR/bin" "$(out minicat)"
}

@test "connects by name (localhost), whichever of its addresses comes first" {
	hint "Trying each address in turn" \
		"localhost may be ::1 first (a stock /etc/hosts) and the server on 127.0.0.1 only: try each address getaddrinfo returns."
	printf 'hello by name\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --send "$BATS_TEST_TMPDIR/reply"
	minicat -- localhost "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed"
}

@test "connects to an IPv6 address (::1)" {
	hint "Resolving names: getaddrinfo" \
		"Ask getaddrinfo() with hints.ai_family = AF_UNSPEC, and make each socket with the family of the address it returned."
	printf 'hello over IPv6\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --host ::1 --send "$BATS_TEST_TMPDIR/reply"
	minicat -- ::1 "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed"
}

@test "tries the next address when the first one refuses (name with ::1 first, server on IPv4 only)" {
	hint "Trying each address in turn" \
		"A name may resolve to several addresses. When connect() fails, close that socket and try the next address; give up only after the last."
	need_unshare
	printf '::1\tdual.test\n127.0.0.1\tdual.test\n' >"$BATS_TEST_TMPDIR/hosts"
	printf 'hello over IPv4\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --send "$BATS_TEST_TMPDIR/reply"
	minicat_with_hosts "$BATS_TEST_TMPDIR/hosts" dual.test "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed (dual.test is ::1, then 127.0.0.1)"
}

@test "finds a server on IPv6 only through a name with both IPv4 and IPv6 addresses" {
	hint "Resolving names: getaddrinfo" \
		"hints.ai_family = AF_UNSPEC asks for IPv6 and IPv4 addresses; AF_INET would hide the IPv6 one."
	need_unshare
	printf '127.0.0.1\tdual.test\n::1\tdual.test\n' >"$BATS_TEST_TMPDIR/hosts"
	printf 'hello over IPv6\n' >"$BATS_TEST_TMPDIR/reply"
	serve srv --host ::1 --send "$BATS_TEST_TMPDIR/reply"
	minicat_with_hosts "$BATS_TEST_TMPDIR/hosts" dual.test "$PORT"
	expect_output "$BATS_TEST_TMPDIR/reply" "what minicat printed (dual.test is 127.0.0.1 and ::1)"
}

@test "a refused connection is reported as 'minicat: connect to HOST:PORT: Connection refused', exit 1" {
	hint "When connect() fails" \
		"After the last address failed, report with err(1, \"connect to %s:%s\", host, port): err() adds strerror(errno)."
	start refuser -- "$TOOLS_DIR/refuser"
	wait_line refuser '^refusing on '
	PORT=${LINE##*:}
	minicat -- 127.0.0.1 "$PORT"
	expect_status minicat 1
	local want="minicat: connect to 127.0.0.1:$PORT: Connection refused"
	[ "$(err_text minicat)" = "$want" ] ||
		fail_with "the error message is not in the expected form" "$want" "$(err_text minicat)"
	[ ! -s "$(out minicat)" ] ||
		fail_with "minicat printed something although it never connected" "nothing on stdout" \
			"$(out_text minicat)"
}

@test "an unknown host is reported as 'minicat: HOST: <resolver's message>', exit 1" {
	hint "When the name does not resolve" \
		"getaddrinfo() returns its own error code, not errno: report it with errx(1, \"%s: %s\", host, gai_strerror(rc))."
	# .invalid is reserved: no such name exists anywhere (RFC 2606).
	minicat -- no-such-host.invalid 80
	expect_status minicat 1
	local got
	got=$(err_text minicat)
	if ! [[ $got =~ ^minicat:\ no-such-host\.invalid:\ [A-Z][^:]+$ ]] || [[ $got =~ Success|Unknown\ error ]]; then
		fail_with "the error message does not give the resolver's reason" \
			"minicat: no-such-host.invalid: Name or service not known   (the text of gai_strerror(rc))" "$got"
		return 1
	fi
	# The resolver's words depend on the machine ("Name or service not
	# known", or "Temporary failure in name resolution" where no name server
	# answers): ask it here, with every set of hints a client may pass, and
	# compare exactly. A stale errno's text (strerror) is none of them.
	run_bounded gai -- "$TOOLS_DIR/gai-says" no-such-host.invalid 80
	local said reason=${got#minicat: no-such-host.invalid: }
	said=$(grep -vx ok "$(out gai)")
	grep -qxF -- "$reason" <<<"$said" ||
		fail_with "the reason is not what getaddrinfo() said (is it strerror(errno) instead of gai_strerror(rc)?)" \
			"minicat: no-such-host.invalid: $(head -n 1 <<<"$said")   (gai_strerror(rc) here)" "$got"
}

@test "wrong arguments print a usage line and exit 2" {
	hint "Your turn" "minicat takes exactly HOST and PORT: anything else is a 'usage:' line on stderr and exit status 2."
	local args
	for args in "" "127.0.0.1" "127.0.0.1 80 extra"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		minicat -- $args
		expect_status minicat 2 "exit status for 'minicat $args'"
		expect_stderr_line minicat '^usage: ' "no usage line for 'minicat $args'"
	done
}
