#!/usr/bin/env bats
# Lesson 05 - udp-client: a receive timeout, bounded retries, and ignoring
# datagrams that do not come from the server.
# The client resolves names: `make test` also runs this suite with a stock
# /etc/hosts (::1 first) and an IPv4-only one (docs/CONTRIBUTING.md).
# bats file_tags=resolves-names

load lib/helpers
load lib/udp

# The test server (udpeer serve) logs one "got N bytes from ..." line per
# datagram it receives.
GOT='^got [0-9]+ bytes from '

# ask NAME BOUND ARGS...: run the client, bounded by BOUND seconds; the time
# it took goes to $ELAPSED_MS.
ask() {
	local name=$1 bound=$2 t0 ms=1000 prev=''
	shift 2
	# Each try waits -t MS (the lesson's default: 1000): a client asleep
	# twice that and 2 s more without waking once has no timeout that works
	# (wait_exit --wakes), and the test need not wait out BOUND to see it.
	local arg
	for arg in "$@"; do
		[ "$prev" != -t ] || ms=$arg
		prev=$arg
	done
	t0=$((${EPOCHREALTIME/[.,]/} / 1000))
	start "$name" --timeout "$bound" -- "$BIN_DIR/ask" "$@"
	wait_exit --wakes $((2 * ms + 2000)) "$name" $((bound + 5)) || return 1
	ELAPSED_MS=$(($((${EPOCHREALTIME/[.,]/} / 1000)) - t0))
}

# ask_with_hosts HOSTS_FILE [--prefer-ipv4] ARGS...: run the client as "c"
# with HOSTS_FILE as its /etc/hosts, in a private mount namespace that
# nothing else sees. getaddrinfo sorts a name's addresses (RFC 6724: ::1
# before 127.0.0.1, whatever the file's order); --prefer-ipv4 also gives it
# a gai.conf that puts IPv4 first, as some machines are set up.
ask_with_hosts() {
	local hosts=$1 gai=/dev/null
	shift
	unshare -rm true 2>/dev/null || skip "unshare -rm (a private /etc/hosts) does not work here"
	if [ "$1" = --prefer-ipv4 ]; then
		shift
		[ -f /etc/gai.conf ] || skip "no /etc/gai.conf to replace here"
		gai=$BATS_TEST_TMPDIR/gai.conf
		printf 'precedence ::ffff:0:0/96 100\n' >"$gai"
	fi
	# shellcheck disable=SC2016 # $0, $1 and $@ belong to the inner shell
	run_bounded c --timeout 30 -- unshare -rm sh -c \
		'mount --bind "$0" /etc/hosts && { [ "$1" = /dev/null ] || mount --bind "$1" /etc/gai.conf; } && shift && exec "$@"' \
		"$hosts" "$gai" "$BIN_DIR/ask" "$@"
}

# expect_output NAME TEXT: NAME printed exactly TEXT (no newline added).
expect_output() {
	local want=$BATS_TEST_TMPDIR/want.txt
	printf '%s' "$2" >"$want"
	expect_same_bytes "what $1 printed" "$want" "$(out "$1")"
}

# expect_datagrams SERVER N WHAT: SERVER received exactly N datagrams. Called
# once the client has exited: the count is final as soon as the test server
# sleeps with nothing left to read (wait_lines --settled).
expect_datagrams() {
	wait_lines --settled "$1" "$GOT" "$2" || return 1
	local got
	got=$(count_lines "$1" "$GOT")
	[ "$got" -eq "$2" ] ||
		fail_with "$3" "$2 datagrams at the server" "$got: $(cat "$(out "$1")")"
}

@test "sends the message as one datagram and prints the reply, exit 0" {
	hint "Who may answer" \
		"Connect the socket to the address getaddrinfo gave (without it send() fails: Destination address required), send() the message, recv() the reply, write its bytes to stdout."
	start_server srv -- "$TOOLS_DIR/udpeer" serve
	ask c 30 -t 5000 127.0.0.1 "$PORT" 'hello over udp'
	expect_status c 0
	expect_output c 'hello over udp'
	expect_datagrams srv 1 "the client sent more than the one datagram it needed"
	expect_clean_stderr c
}

@test "with nobody answering, it gives up after -n 3 tries of -t 300 ms: exit 1, clear message" {
	hint "Timeouts" \
		"Set SO_RCVTIMEO before recvfrom(): it then fails with EAGAIN when the time is up, instead of waiting forever."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --silent
	ask c 15 -t 300 -n 3 127.0.0.1 "$PORT" 'anyone there?'
	expect_status c 1
	expect_stderr_line c '^ask: no reply from 127\.0\.0\.1 .*3 tries' \
		"the client did not say clearly that no reply came"
	expect_datagrams srv 3 "the client did not send exactly 3 times"
	# 3 tries of 300 ms cannot take less than 900 ms; load only makes it longer.
	[ "$ELAPSED_MS" -ge 850 ] ||
		fail_with "the client gave up too soon" "at least 3 x 300 ms" "${ELAPSED_MS} ms"
	[ ! -s "$(out c)" ] || fail_with "it printed a reply that never came" "nothing on stdout" "$(cat "$(out c)")"
}

@test "with no server on the port at all, it exits 1 with a message, in bounded time" {
	hint "Timeouts" \
		"Nobody may be there: after the tries (or on ECONNREFUSED, if you connect() the socket) report it and exit 1."
	# Find a free port: take one, then let it go.
	start_server gone -- "$TOOLS_DIR/udpeer" serve
	stop gone
	ask c 15 -t 200 -n 2 127.0.0.1 "$PORT" 'hello?'
	expect_status c 1
	expect_stderr_line c '^ask: ' "the client did not say why it failed"
	[ ! -s "$(out c)" ] || fail_with "it printed a reply that never came" "nothing on stdout" "$(cat "$(out c)")"
}

@test "-n 1 sends exactly once and gives up after one timeout" {
	hint "Retries" "TRIES counts every datagram sent, the first one included."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --silent
	ask c 15 -t 200 -n 1 127.0.0.1 "$PORT" 'once'
	expect_status c 1
	expect_datagrams srv 1 "-n 1 should send exactly one datagram"
}

@test "with no options it still gives up on its own (a default timeout and a few tries)" {
	hint "Timeouts" \
		"Without -t and -n, use defaults (say 1000 ms and 3 tries): a client must never wait forever."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --silent
	ask c 30 127.0.0.1 "$PORT" 'defaults'
	expect_status c 1
	local got
	got=$(count_lines srv "$GOT")
	[ "$got" -ge 2 ] ||
		fail_with "by default the client should try more than once" "2 or more datagrams" "$got"
}

@test "a server that drops the first datagram is answered by the retry" {
	hint "Retries" \
		"When recvfrom() times out (EAGAIN), send the datagram again, up to TRIES times in all."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --drop 1
	ask c 15 -t 300 -n 3 127.0.0.1 "$PORT" 'second time lucky'
	expect_status c 0
	expect_output c 'second time lucky'
	wait_lines srv '^dropped$' 1
	wait_lines srv "$GOT" 2
}

@test "a datagram from another port on the server's host, arriving first, is ignored" {
	hint "Who may answer" \
		"An unconnected UDP socket takes datagrams from anyone: compare recvfrom()'s address and port with the server's, or connect() the socket."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --spoof-from 127.0.0.1
	ask c 30 -t 3000 -n 3 127.0.0.1 "$PORT" 'the real answer'
	expect_status c 0
	wait_lines srv '^spoofed from 127\.0\.0\.1:' 1
	expect_output c 'the real answer'
}

@test "a datagram from the server's port on another address (127.0.0.2), arriving first, is ignored" {
	hint "Who may answer" \
		"Check the sender's address as well as its port: the same port on another host is not the server."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --spoof-from 127.0.0.2
	ask c 30 -t 3000 -n 3 127.0.0.1 "$PORT" 'the real answer'
	expect_status c 0
	wait_lines srv "^spoofed from 127\\.0\\.0\\.2:$PORT\$" 1
	expect_output c 'the real answer'
}

@test "a host name works (localhost)" {
	hint "One name, several addresses" \
		"Resolve HOST and PORT with getaddrinfo (ai_socktype SOCK_DGRAM) and ask each address it returns in turn: localhost may be ::1 first."
	start_server srv -- "$TOOLS_DIR/udpeer" serve
	ask c 30 -t 5000 localhost "$PORT" 'by name'
	expect_status c 0
	expect_output c 'by name'
}

@test "asks the next address when the first one refuses (a name that is ::1, then 127.0.0.1)" {
	hint "One name, several addresses" \
		"When an address refuses (ECONNREFUSED on a connected socket) or stays silent after the tries, ask the next one; give up only after the last."
	printf '::1\tdual.test\n127.0.0.1\tdual.test\n' >"$BATS_TEST_TMPDIR/hosts"
	start_server srv -- "$TOOLS_DIR/udpeer" serve
	ask_with_hosts "$BATS_TEST_TMPDIR/hosts" -t 1000 -n 2 dual.test "$PORT" 'second address'
	expect_status c 0
	expect_output c 'second address'
}

@test "finds a server on ::1 only through a name that is 127.0.0.1, then ::1 (IPv4 preferred)" {
	hint "One name, several addresses" \
		"Every address getaddrinfo returns is a candidate, whatever its family: make each socket with that address's family."
	printf '127.0.0.1\tdual.test\n::1\tdual.test\n' >"$BATS_TEST_TMPDIR/hosts"
	start_server srv -- "$TOOLS_DIR/udpeer" serve --host ::1
	ask_with_hosts "$BATS_TEST_TMPDIR/hosts" --prefer-ipv4 -t 1000 -n 2 dual.test "$PORT" 'over ipv6 by name'
	expect_status c 0
	expect_output c 'over ipv6 by name'
}

@test "IPv6 works (::1)" {
	hint "Resolving the server" \
		"Make the socket with the family getaddrinfo returned (AF_INET6 here) and connect it to that address (or, unconnected, compare replies as sockaddr_in6)."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --host ::1
	ask c 30 -t 5000 ::1 "$PORT" 'over ipv6'
	expect_status c 0
	expect_output c 'over ipv6'
}

@test "over IPv6, a datagram from another port on the server's host, arriving first, is ignored" {
	hint "Who may answer" \
		"Compare the sender as the family it is: for AF_INET6, sin6_addr (all 16 bytes) and sin6_port of a struct sockaddr_in6, not a struct sockaddr_in."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --host ::1 --spoof-from ::1
	ask c 30 -t 3000 -n 3 ::1 "$PORT" 'the real answer'
	expect_status c 0
	wait_lines srv '^spoofed from \[::1\]:' 1
	expect_output c 'the real answer'
}

@test "over IPv6, a datagram from the server's port on another address, arriving first, is ignored" {
	hint "Who may answer" \
		"Compare all 16 bytes of sin6_addr in a struct sockaddr_in6: read as a struct sockaddr_in, two IPv6 addresses look the same."
	# Two addresses that differ only in their last bytes, in a private
	# network namespace (the machine's loopback has only ::1).
	local server=fd00:1234:5678:9abc:def0:1234:5678:1 other=fd00:1234:5678:9abc:def0:1234:5678:2
	private_net "$server" "$other"
	start_server srv -- "${IN_NET[@]}" "$TOOLS_DIR/udpeer" serve --host "$server" --spoof-from "$other"
	run_bounded c --timeout 30 -- "${IN_NET[@]}" "$BIN_DIR/ask" -t 3000 -n 3 "$server" "$PORT" 'the real answer'
	expect_status c 0
	wait_lines srv "^spoofed from \\[$other\\]:$PORT\$" 1
	expect_output c 'the real answer'
}

@test "a v4-mapped IPv6 address works (::ffff:127.0.0.1)" {
	hint "Resolving the server" \
		"Make the socket with the family getaddrinfo returned (AF_INET6 for ::ffff:127.0.0.1); the reply then comes from a sockaddr_in6 too."
	need_dual_stack
	start_server srv -- "$TOOLS_DIR/udpeer" serve
	ask c 30 -t 5000 ::ffff:127.0.0.1 "$PORT" 'over a mapped address'
	expect_status c 0
	expect_output c 'over a mapped address'
}

@test "a reply of the largest size (65,507 bytes) is printed whole" {
	hint "Receiving the whole reply" \
		"A datagram longer than the buffer is cut short, silently: receive into a buffer of at least 65,507 bytes."
	local big=$BATS_TEST_TMPDIR/big
	yes 'the largest datagram UDP over IPv4 can carry. ' | head -c 65507 >"$big"
	start_server srv -- "$TOOLS_DIR/udpeer" serve --reply-file "$big"
	ask c 30 -t 5000 127.0.0.1 "$PORT" 'send me the big one'
	expect_status c 0
	expect_same_bytes "the 65,507-byte reply" "$big" "$(out c)"
}

@test "bad arguments print a usage line and exit 2" {
	hint "Your turn" "A bad option or a missing argument is a usage error: a 'usage:' line on stderr, exit 2."
	local args
	for args in "" "127.0.0.1 9" "-t 0 127.0.0.1 9 hi" "-n 0 127.0.0.1 9 hi" "-t x 127.0.0.1 9 hi" \
		"-x 127.0.0.1 9 hi" "127.0.0.1 9 hi extra"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded c -- "$BIN_DIR/ask" $args
		expect_status c 2 "exit status for 'ask $args'"
		expect_stderr_line c '^usage: ' "no usage line for 'ask $args'"
	done
}

@test "a reply holding NUL and other non-text bytes is printed byte for byte" {
	hint "Receiving the whole reply" \
		"A datagram is bytes, not a C string: write exactly the length recvfrom() returned (write_all or fwrite), not printf(\"%s\")."
	local bin=$BATS_TEST_TMPDIR/binary
	printf 'before\000after\377\001\n\000end' >"$bin"
	start_server srv -- "$TOOLS_DIR/udpeer" serve --reply-file "$bin"
	ask c 30 -t 5000 127.0.0.1 "$PORT" 'send me bytes'
	expect_status c 0
	expect_same_bytes "the binary reply" "$bin" "$(out c)"
}

@test "over IPv6, a datagram from another port on ::1, arriving first, is ignored" {
	hint "Who may answer" \
		"Compare the sender with the server for IPv6 too: sin6_port and all 16 bytes of sin6_addr must both match."
	start_server srv -- "$TOOLS_DIR/udpeer" serve --host ::1 --spoof-from ::1
	ask c 30 -t 3000 -n 3 ::1 "$PORT" 'the real answer'
	expect_status c 0
	wait_lines srv '^spoofed from \[?::1\]?:' 1
	expect_output c 'the real answer'
}

@test "a reply that cannot be written (stdout is /dev/full) is an error: exit 1 and a message" {
	hint "Receiving the whole reply" \
		"Check what write() (or fwrite and fflush) returned: a reply that did not reach stdout is a failure, exit 1."
	start_server srv -- "$TOOLS_DIR/udpeer" serve
	run_bounded c --timeout 30 -- bash -c '"$@" >/dev/full' _ \
		"$BIN_DIR/ask" -t 5000 127.0.0.1 "$PORT" 'nowhere to go'
	expect_status c 1
	# The reason is the write's own (ENOSPC), not a failure to get the reply.
	expect_stderr_line c '^ask: .*No space left on device' \
		"the client did not say that writing the reply failed"
}
