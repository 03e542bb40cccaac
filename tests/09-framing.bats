#!/usr/bin/env bats
# Lesson 09 - framing: length-prefixed messages on a TCP byte stream.
#
# The programs: `sender [-f] HOST PORT MESSAGE...` sends each message as a
# frame; `receiver [-n COUNT] [-o DIR] PORT` prints "frame N: LEN bytes" per
# frame and saves payloads as DIR/frame-N. Raw frames are built in bash
# (lib/frames) and sent or recorded with tcpeer, so each side is checked
# against the wire format itself, not only against the other side.

# The most a program may write to one file, in KiB (tests/lib/helpers.bash):
# more than the default, since the receiver saves frames of 16 MiB.
T_FSIZE=${T_FSIZE:-65536}
load lib/helpers
load lib/frames
load lib/shortio
load lib/serverargs

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="How we test you"
INVARIANT_SECTION_DIED="The receiver, walked through"
INVARIANT_SECTION_FDS="The receiver, walked through"

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/got"
}

# payload NAME SIZE: a file of SIZE random bytes, $D/NAME.
payload() {
	head -c "$2" /dev/urandom >"$D/$1"
}

# start_receiver [PROGRAM_PREFIX...]: start the receiver (ASan build unless a
# prefix and a path are given) for one client, saving into $D/got.
start_receiver() {
	if [ $# -eq 0 ]; then
		set -- "$BIN_DIR/receiver"
	fi
	start_server recv -- "$@" -n 1 -o "$D/got" 0
}

# expect_frames N SIZE...: the receiver reported N frames of these sizes,
# then a clean end, and exited 0.
expect_frames() {
	local secs=$1 i=1 size
	shift
	wait_line recv '^(end of stream|dropped)' "$secs" || return 1
	for size in "$@"; do
		expect_line recv "^frame $i: $size bytes\$" "frame $i was not received whole" || return 1
		i=$((i + 1))
	done
	expect_line recv "^end of stream after $# frames\$" "the frames did not come out as sent" || return 1
	wait_exit recv
	expect_status recv 0
	expect_clean_stderr recv
}

# expect_saved FILE...: $D/got/frame-1 is the first FILE, and so on.
expect_saved() {
	local i=1 f
	for f in "$@"; do
		[ -f "$D/got/frame-$i" ] ||
			fail_with "the receiver did not save frame $i" "a file $D/got/frame-$i" "no such file" || return 1
		expect_same_bytes "payload of frame $i" "$f" "$D/got/frame-$i" || return 1
		i=$((i + 1))
	done
}

# round_trip SECS FILE...: send FILEs with the ASan builds; check they arrive.
round_trip() {
	local secs=$1 f sizes=()
	shift
	for f in "$@"; do sizes+=("$(wc -c <"$f")"); done
	start_receiver
	run_bounded send --timeout "$secs" -- "$BIN_DIR/sender" -f 127.0.0.1 "$PORT" "$@"
	expect_status send 0
	expect_clean_stderr send
	expect_frames "$secs" "${sizes[@]}"
	expect_saved "$@"
}

@test "frames of 0, 1 and 1000 bytes arrive whole and in order" {
	hint "The length prefix" \
		"send_frame sends 4 length bytes then the payload; recv_frame reads exactly 4, then exactly that many."
	payload empty 0
	payload one 1
	payload thousand 1000
	round_trip 20 "$D/empty" "$D/one" "$D/thousand"
}

@test "a 1 MiB frame arrives intact" {
	hint "send_all and recv_all" \
		"A big payload comes in many pieces: recv_all must loop until every byte is in."
	payload mib 1048576
	round_trip 30 "$D/mib"
}

@test "a frame of exactly 16 MiB (the limit) arrives intact" {
	hint "Never trust a length" "16 MiB itself is allowed: refuse only lengths above FRAME_MAX."
	payload max 16777216
	round_trip 60 "$D/max"
}

@test "the sender puts a 4-byte big-endian length before each payload" {
	hint "Byte order on the wire" \
		"The length goes out with htonl(): 300 is the bytes 00 00 01 2c, whatever your CPU's order."
	payload p300 300
	printf 'hi' >"$D/hi"
	{ make_frame "$D/p300"; make_frame "$D/hi"; } >"$D/want"
	start_server peer -- "$TOOLS_DIR/tcpeer" serve --after-eof --record "$D/wire"
	run_bounded send -- "$BIN_DIR/sender" -f 127.0.0.1 "$PORT" "$D/p300" "$D/hi"
	expect_status send 0
	wait_line peer '^received [0-9]+ bytes'
	expect_same_bytes "the bytes on the wire" "$D/want" "$D/wire"
}

@test "three frames sent in one write are received as three" {
	hint "TCP is a byte stream" \
		"One recv() may return several messages glued together: read a header, then its payload, and go on."
	payload a 10
	payload b 0
	payload c 200
	{ make_frame "$D/a"; make_frame "$D/b"; make_frame "$D/c"; } >"$D/three"
	start_receiver
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/three" --shut-wr
	expect_frames "$T_LINE" 10 0 200
	expect_saved "$D/a" "$D/b" "$D/c"
}

@test "one frame sent one byte at a time is received as one" {
	hint "Partial reads and writes" \
		"recv() returns what has arrived, maybe 1 byte: loop in recv_all until you have all you asked for."
	printf 'one frame, sent byte by byte' >"$D/slow"
	make_frame "$D/slow" >"$D/slow.frame"
	start_receiver
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/slow.frame" \
		--chunk 1 --pause-ms 3 --shut-wr
	expect_frames 20 28
	expect_saved "$D/slow"
}

@test "under the short-I/O shim (a few bytes per call), frames still arrive intact" {
	hint "How we test you" \
		"With every send() and recv() cut short, only loops that count what moved get the bytes through."
	payload empty 0
	payload one 1
	payload thousand 1000
	payload big 60000
	start_receiver "${SHORTIO[@]}" "$PLAIN_DIR/receiver"
	run_bounded send --timeout 30 -- "${SHORTIO[@]}" "$PLAIN_DIR/sender" -f 127.0.0.1 "$PORT" \
		"$D/empty" "$D/one" "$D/thousand" "$D/big"
	expect_status send 0
	expect_frames 30 0 1 1000 60000
	expect_saved "$D/empty" "$D/one" "$D/thousand" "$D/big"
}

@test "send and receive go on after a call is interrupted (EINTR)" {
	hint "send_all and recv_all" \
		"A call a signal interrupts fails with EINTR having moved nothing: try it again, it is not an error."
	payload data 5000
	start_receiver "${SHORTIO_EINTR[@]}" "$PLAIN_DIR/receiver"
	run_bounded send --timeout 30 -- "${SHORTIO_EINTR[@]}" "$PLAIN_DIR/sender" -f 127.0.0.1 "$PORT" "$D/data"
	expect_status send 0
	expect_frames 30 5000
	expect_saved "$D/data"
}

@test "a NUL byte in a payload is data, in both directions" {
	hint "The length prefix" \
		"A payload is bytes with a length, not a C string: never strlen() it, never stop at a NUL."
	printf 'a\0b\0\0c\0' >"$D/nul"
	start_receiver
	run_bounded send -- "$BIN_DIR/sender" -f 127.0.0.1 "$PORT" "$D/nul"
	expect_status send 0
	expect_frames "$T_LINE" 7
	expect_saved "$D/nul"
}

@test "a length over 16 MiB is refused without allocating it, and the connection is closed" {
	hint "Never trust a length" \
		"Check the length against FRAME_MAX before malloc(), and close the connection: the stream is lost."
	frame_header $((16777216 + 1)) >"$D/huge"
	frame_header 4294967295 >"$D/huger"
	printf 'ok' >"$D/ok"
	# Plain build, and at most 256 MiB of address space: a receiver that
	# believed 4 GiB would fail to allocate rather than reject it.
	start_server recv -- bash -c 'ulimit -v 262144; exec "$@"' _ "$PLAIN_DIR/receiver" -n 3 -o "$D/got" 0
	# The header alone, then silence: the receiver must decide on the header.
	start peer1 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/huge" --idle-ms 15000
	wait_line recv '^dropped' || return 1
	expect_line recv '^dropped: frame too long$' "a 16 MiB + 1 length was not refused"
	wait_exit peer1 20
	[ "$STATUS" != 3 ] ||
		fail_with "the connection stayed open after the bad length" "the receiver closes it" "tcpeer waited 15 s for EOF"
	start peer2 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/huger" --idle-ms 15000
	wait_exit peer2 20
	[ "$(grep -c '^dropped: frame too long$' "$(out recv)")" -eq 2 ] ||
		fail_with "a 4 GiB length was not refused" "two lines 'dropped: frame too long'" "$(cat "$(out recv)")"
	[ "$STATUS" != 3 ] ||
		fail_with "the connection stayed open after the bad length" "the receiver closes it" "tcpeer waited 15 s for EOF"
	# And the receiver serves the next client as if nothing happened.
	run_bounded send -- "$PLAIN_DIR/sender" -f 127.0.0.1 "$PORT" "$D/ok"
	expect_status send 0
	wait_line recv '^end of stream after 1 frames$'
	wait_exit recv
	expect_status recv 0
}

@test "EOF before a header is a clean end of the stream" {
	hint "Clean EOF or truncation" \
		"recv_all returning 0 bytes of a header means the peer closed between frames: recv_frame returns 0."
	printf 'last' >"$D/last"
	make_frame "$D/last" >"$D/one.frame"
	start_receiver
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/one.frame" --shut-wr
	expect_frames "$T_LINE" 4
}

@test "EOF inside a header is an error, not a clean end" {
	hint "Clean EOF or truncation" \
		"1 to 3 header bytes and then EOF: the frame was cut short. Report it (EPROTO), do not call it a clean end."
	printf 'ok' >"$D/ok"
	{ make_frame "$D/ok"; frame_header 5 | head -c 2; } >"$D/cut"
	start_receiver
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/cut" --shut-wr
	wait_line recv '^(end of stream|dropped)' || return 1
	expect_line recv '^frame 1: 2 bytes$' "the whole frame before the cut was lost"
	expect_line recv '^dropped: connection closed inside a frame$' "a header cut short was not reported"
	wait_exit recv
	expect_status recv 0
}

@test "EOF inside a payload is an error, not a clean end" {
	hint "Clean EOF or truncation" \
		"A header promised 10 bytes and 4 came before EOF: recv_frame must fail (EPROTO), not return a short payload."
	{ frame_header 10; printf 'abcd'; } >"$D/cut"
	start_receiver
	start peer -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/cut" --shut-wr
	wait_line recv '^(end of stream|dropped|frame)' || return 1
	expect_line recv '^dropped: connection closed inside a frame$' "a payload cut short was not reported"
	! grep -q '^frame' "$(out recv)" ||
		fail_with "a truncated payload was passed on as a frame" "no frame line" "$(cat "$(out recv)")"
	wait_exit recv
	expect_status recv 0
}

@test "the sender refuses a file over 16 MiB with an error and exit 1" {
	hint "Never trust a length" "send_frame fails with EMSGSIZE for more than FRAME_MAX bytes; report it with err(3)."
	payload toobig $((16777216 + 1))
	start_server peer -- "$TOOLS_DIR/tcpeer" serve --after-eof --record "$D/wire"
	run_bounded send --timeout 30 -- "$BIN_DIR/sender" -f 127.0.0.1 "$PORT" "$D/toobig"
	expect_status send 1
	expect_stderr_line send '^sender: .*Message too long' "the error does not say why"
}

# serve_one_frame SERVER: one client sends one frame; the receiver reports it.
serve_one_frame() {
	run_bounded send -- "$BIN_DIR/sender" 127.0.0.1 "$PORT" hello
	expect_status send 0 || return 1
	wait_line "$1" '^end of stream after 1 frames$'
}

@test "receiver: a count of 0, -1 or over 1000000000, a bad port or an extra operand is bad usage: exit 2" {
	hint "Your turn" "parse_listen_args (common/net.h) refuses these; main then prints its usage line and exits 2."
	check_usage "$BIN_DIR/receiver"
	check_usage "$BIN_DIR/receiver" -o "$D/got"
}

@test "receiver: -n 1000000000, the largest count, is taken" {
	hint "Your turn" "COUNT may be 1 to 1000000000, in every server (common/net.h, SERVE_COUNT_MAX)."
	check_count_max "$BIN_DIR/receiver" -o "$D/got"
}

@test "receiver: -n 1 serves one client, then exits 0 by itself" {
	hint "Clean EOF or truncation" "A clean end after one frame: 'end of stream after 1 frames'; with -n 1 the receiver then exits 0."
	check_serves_one serve_one_frame "$BIN_DIR/receiver"
}

@test "receiver: out of descriptors (EMFILE), it waits and tries accept() again, then serves the client" {
	hint "The receiver, walked through" \
		"accept_retry (common/tcp.h) pauses 100 ms after EMFILE and tries again instead of failing."
	check_emfile_backoff serve_one_frame "$PLAIN_DIR/receiver"
}

@test "receiver -n 1 exits with no descriptor open and no leak (valgrind)" {
	hint "Your turn" "free() each payload recv_frame gives you; close each client and the listener."
	payload some 3000
	start_valgrind recv --timeout 60 -- receiver -n 1 -o "$D/got" 0
	wait_line --before-accept recv '^listening on .+:[0-9]+$' 30 || return 1
	PORT=${LINE##*:}
	run_bounded send -- "$BIN_DIR/sender" -f 127.0.0.1 "$PORT" "$D/some" "$D/some"
	expect_status send 0
	wait_exit recv 60
	expect_status recv 0
	# The frames arrived: a receiver that gives up on its one client at
	# once also exits 0 with nothing leaked, and the sender's two frames
	# often fit in the socket's buffer before it closes.
	expect_saved "$D/some" "$D/some"
	expect_valgrind_clean recv
}
