#!/usr/bin/env bats
# Lesson 04 - udp-server: an upper-casing echo server over UDP.

load lib/helpers
load lib/udp

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"
INVARIANT_SECTION_DIED="Answering with sendto"

# talk NAME [udpeer talk options and steps...]: run the test client against
# the server started as "srv" (its port is $PORT), bounded.
talk() {
	local name=$1
	shift
	run_bounded "$name" --timeout 30 -- "$TOOLS_DIR/udpeer" talk 127.0.0.1 "$PORT" "$@"
}

# expect_reply WHAT SENT_FILE GOT_FILE: GOT is SENT upper-cased, byte for byte.
expect_reply() {
	upper "$2" >"$2.want"
	expect_same_bytes "$1" "$2.want" "$3"
}

@test "a datagram comes back upper-cased, from the port the server listens on" {
	hint "Answering with sendto" \
		"Send the reply with sendto() on the same socket, to the address recvfrom() filled in."
	start_server srv -- "$BIN_DIR/upcase" 0
	local msg
	msg=$(payload msg 'hello, udp 123')
	talk c send:0:"$msg" recv:0:"$msg.got"
	talk_ok c
	expect_reply "the reply" "$msg" "$msg.got"
	expect_line c "^socket 0 got [0-9]+ bytes from 127\.0\.0\.1:$PORT\$" \
		"the reply did not come from the server's own address and port"
	wait_lines srv '^14 bytes from 127\.0\.0\.1:[0-9]+$' 1
	expect_clean_stderr srv
}

@test "two clients on different ports each get their own reply and nothing else" {
	hint "Receiving with recvfrom" \
		"recvfrom() tells you who sent each datagram; answer that address, not the first or a saved one."
	start_server srv -- "$BIN_DIR/upcase" 0
	local a b
	a=$(payload a 'from the first client')
	b=$(payload b 'and this is the second one')
	# Sockets 0 and 1 are two clients on two ports. Each waits for its own
	# reply in turn; then a short quiet spell shows no stray datagram.
	talk c --sockets 2 send:0:"$a" recv:0:"$a.got" send:1:"$b" recv:1:"$b.got" drain:300
	talk_ok c "two clients, one after the other,"
	expect_reply "the first client's reply" "$a" "$a.got"
	expect_reply "the second client's reply" "$b" "$b.got"
	wait_lines srv ' bytes from 127\.0\.0\.1:[0-9]+$' 2
	local ports
	ports=$(sed -nE 's/^[0-9]+ bytes from 127\.0\.0\.1:([0-9]+)$/\1/p' "$(out srv)" | sort -u | wc -l)
	[ "$ports" -eq 2 ] ||
		fail_with "the server's log does not show two senders" \
			"two lines 'N bytes from 127.0.0.1:PORT' with different ports" "$(cat "$(out srv)")"
}

@test "three datagrams sent back-to-back come back as three replies, boundaries intact" {
	hint "Datagram boundaries" \
		"One recvfrom() returns exactly one datagram; answer each with exactly one sendto() of the same length."
	start_server srv -- "$BIN_DIR/upcase" 0
	local one two three f
	one=$(payload one 'one')
	two=$(payload two 'two two')
	three=$(payload three 'three three three')
	talk c send:0:"$one" send:0:"$two" send:0:"$three" \
		recv:0:"$one.r" recv:0:"$two.r" recv:0:"$three.r" drain:300
	talk_ok c "three datagrams in a row"
	# UDP does not promise order, so compare the replies as a set.
	local want got
	want=$(for f in "$one" "$two" "$three"; do upper "$f"; echo; done | sort)
	got=$(for f in "$one" "$two" "$three"; do cat "$f.r" 2>/dev/null; echo; done | sort)
	[ "$got" = "$want" ] ||
		fail_with "the three replies are not the three datagrams upper-cased" "$want" "$got"
}

@test "binary bytes, NUL included, come back intact: only a-z change" {
	hint "Datagram boundaries" \
		"A datagram is bytes, not a C string: use the length recvfrom() returned, never strlen()."
	start_server srv -- "$BIN_DIR/upcase" 0
	local bin=$BATS_TEST_TMPDIR/bin
	# Every byte value 0..255, NUL first, twice.
	for _ in 1 2; do
		printf "$(printf '\\%03o' $(seq 0 255))"
	done >"$bin"
	talk c send:0:"$bin" recv:0:"$bin.got"
	talk_ok c
	expect_reply "the reply to 512 binary bytes" "$bin" "$bin.got"
}

@test "the largest UDP datagram over IPv4 (65,507 bytes) comes back whole" {
	hint "How big a datagram can be" \
		"A datagram larger than your buffer is cut short without an error: make the buffer hold 65,507 bytes."
	start_server srv -- "$BIN_DIR/upcase" 0
	local big=$BATS_TEST_TMPDIR/big
	# Lower-case letters and other bytes, so a cut anywhere shows.
	yes 'abcdefghijklmnopqrstuvwxyz0123456789 ABC' | head -c 65507 >"$big"
	talk c send:0:"$big" recv:0:"$big.got"
	talk_ok c
	expect_reply "the reply to a 65,507-byte datagram" "$big" "$big.got"
}

@test "an empty datagram gets an empty reply" {
	hint "Datagram boundaries" \
		"A datagram of 0 bytes is still a datagram: recvfrom() returns 0, and you send 0 bytes back."
	start_server srv -- "$BIN_DIR/upcase" 0
	local empty=$BATS_TEST_TMPDIR/empty
	: >"$empty"
	talk c send:0:"$empty" recv:0:"$empty.got" drain:200
	talk_ok c "an empty datagram"
	expect_line c '^socket 0 got 0 bytes from ' "no empty reply came back"
	wait_lines srv '^0 bytes from 127\.0\.0\.1:[0-9]+$' 1
}

@test "the server binds the port it is given (byte order: htons)" {
	hint "Binding a UDP socket" \
		"sin_port is stored in network byte order: assign htons(port), not port."
	start_server_on_port srv -- "$BIN_DIR/upcase" @PORT@
	[ "$LINE" = "listening on 127.0.0.1:$PORT" ] ||
		fail_with "the server is not on the port it was given" \
			"listening on 127.0.0.1:$PORT" "$LINE"
	local msg
	msg=$(payload msg 'byte order')
	talk c send:0:"$msg" recv:0:"$msg.got"
	talk_ok c "an exchange on port $PORT"
	expect_reply "the reply" "$msg" "$msg.got"
}

@test "the server binds an IPv6 address when given one (::1)" {
	hint "Binding a UDP socket" \
		"Fill a struct sockaddr_in6 for an IPv6 address, and make the socket AF_INET6 to match."
	start_server srv -- "$BIN_DIR/upcase" 0 ::1
	[ "$LISTEN_ADDR" = "[::1]" ] ||
		fail_with "the server is not on ::1" "listening on [::1]:PORT" "$LINE"
	local msg
	msg=$(payload msg 'over ipv6')
	run_bounded c --timeout 30 -- "$TOOLS_DIR/udpeer" talk ::1 "$PORT" send:0:"$msg" recv:0:"$msg.got"
	talk_ok c
	expect_reply "the reply over IPv6" "$msg" "$msg.got"
}

@test "bound to ::, it answers an IPv4 client at its v4-mapped address (::ffff:127.0.0.1)" {
	hint "Binding a UDP socket" \
		"The sender of a datagram to an IPv6 socket is a struct sockaddr_in6, even an IPv4 one: receive into a sockaddr_storage, and give sendto() the length recvfrom() returned."
	need_dual_stack
	start_server srv -- "$BIN_DIR/upcase" 0 ::
	[ "$LISTEN_ADDR" = "[::]" ] ||
		fail_with "the server is not on ::" "listening on [::]:PORT" "$LINE"
	local msg
	msg=$(payload msg 'to a dual-stack server')
	talk c send:0:"$msg" recv:0:"$msg.got"
	talk_ok c "an exchange from 127.0.0.1 with a server on ::"
	expect_reply "the reply" "$msg" "$msg.got"
	wait_lines srv '^22 bytes from \[::ffff:127\.0\.0\.1\]:[0-9]+$' 1
}

@test "a client at a 39-character IPv6 address (private namespace) is answered and logged whole" {
	hint "Binding a UDP socket" \
		"An IPv6 address in text takes up to 45 characters (INET6_ADDRSTRLEN counts the NUL): size the buffer for it, and check inet_ntop()'s result."
	local long=fd00:1234:5678:9abc:def0:1234:5678:9abc
	private_net "$long"
	start_server srv -- "${IN_NET[@]}" "$BIN_DIR/upcase" 0 "$long"
	local msg
	msg=$(payload msg 'a long address')
	run_bounded c --timeout 30 -- "${IN_NET[@]}" "$TOOLS_DIR/udpeer" talk "$long" "$PORT" send:0:"$msg" recv:0:"$msg.got"
	talk_ok c "an exchange over $long"
	expect_reply "the reply" "$msg" "$msg.got"
	wait_lines srv "^14 bytes from \\[$long\\]:[0-9]+\$" 1
}

@test "a sender whose IPv6 address differs from the server's only in its last 8 bytes is answered at its own address" {
	hint "Receiving with recvfrom" \
		"recvfrom() writes the sender's address into the buffer you give it, cut to the length you say: an IPv6 address needs a struct sockaddr_in6 (28 bytes), so receive into a struct sockaddr_storage with its length set to sizeof(it)."
	# A buffer the size of a struct sockaddr_in (16 bytes) keeps only the
	# first 8 bytes of an IPv6 sender's address; the rest is whatever the
	# memory held, often the server's own address. From ::1 to ::1 that is
	# right by luck, so the sender here differs in exactly those bytes.
	local server=fd00:1234:5678:9abc::1 sender=fd00:1234:5678:9abc:def0:1234:5678:9abc msg
	private_net "$server" "$sender"
	start_server srv -- "${IN_NET[@]}" "$BIN_DIR/upcase" 0 "$server"
	msg=$(payload msg 'from the far end of the prefix')
	run_bounded c --timeout 30 -- "${IN_NET[@]}" "$TOOLS_DIR/udpeer" talk "$server" "$PORT" \
		--from "$sender" send:0:"$msg" recv:0:"$msg.got"
	talk_ok c "an exchange from $sender with a server on $server"
	expect_reply "the reply" "$msg" "$msg.got"
	wait_lines srv "^30 bytes from \\[$sender\\]:[0-9]+\$" 1
}

@test "-n COUNT: exits 0 after COUNT datagrams with every descriptor closed" {
	hint "Your turn" \
		"After COUNT datagrams, leave the loop, close the socket, and return 0 from main."
	start_valgrind srv -- upcase -n 2 0
	wait_line srv '^listening on ' 60
	wait_listening srv
	local msg
	msg=$(payload msg 'count me')
	talk c send:0:"$msg" recv:0:"$msg.got" send:0:"$msg" recv:0:"$msg.got2"
	talk_ok c
	wait_exit srv 60
	expect_status srv 0
	expect_valgrind_clean srv
}

@test "a port already in use: 'upcase: bind 127.0.0.1:PORT: Address already in use', exit 1" {
	hint "Binding a UDP socket" \
		"Check bind() and report it with err(1, \"bind %s:%s\", host, port): err adds strerror(errno)."
	start_server holder -- "$TOOLS_DIR/udpeer" serve
	run_bounded srv -- "$BIN_DIR/upcase" "$PORT"
	expect_status srv 1
	local want="upcase: bind 127.0.0.1:$PORT: Address already in use"
	[ "$(cat "$(err srv)")" = "$want" ] ||
		fail_with "the error is not in the expected form" "$want" "$(cat "$(err srv)")"
}

@test "bad arguments print a usage line and exit 2" {
	hint "Your turn" "A bad port, count or address is a usage error: a 'usage:' line on stderr, exit 2."
	local args
	for args in "" "70000" "-n 0 0" "-n x 0" "0 not-an-address" "0 127.0.0.1 extra"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded srv -- "$BIN_DIR/upcase" $args
		expect_status srv 2 "exit status for 'upcase $args'"
		expect_stderr_line srv '^usage: ' "no usage line for 'upcase $args'"
	done
}
