#!/usr/bin/env bats
# Lesson 10 - file-download: a threaded file server and an all-or-nothing
# download client.
#
# The programs: `file-server [-n COUNT] ROOT PORT` and
# `download HOST PORT NAME [DEST]`. The raw client tests/lib/filepeer.c reads
# the server's answer field by field (status, size, message), so the wire
# format is checked on its own, not only through the lesson's client.
# The client resolves names: `make test` also runs this suite with a stock
# /etc/hosts (::1 first) and an IPv4-only one (docs/CONTRIBUTING.md).
# bats file_tags=resolves-names

# The most a program may write to one file, in KiB (tests/lib/helpers.bash):
# more than the default, since its programs move files of 256 MiB.
T_FSIZE=${T_FSIZE:-1048576}
load lib/helpers
load lib/frames
load lib/serverargs
load lib/shortio

# The chapter sections that explain the server invariants teardown checks
# (see invariant_section in lib/helpers.bash).
# shellcheck disable=SC2034 # read by lib/helpers.bash
INVARIANT_SECTION="Check your work"
INVARIANT_SECTION_DIED="Threads per client"
INVARIANT_SECTION_FDS="Threads per client"

# Memory bound for server and client on the 256 MiB transfer (KiB, plain
# builds). Both need a few MiB; reading the file into memory needs 256.
RSS_LIMIT_KIB=32768

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	ROOT=$D/root
	mkdir -p "$ROOT" "$D/dl"
}

# random_file NAME SIZE: SIZE random bytes in the root.
random_file() {
	head -c "$2" /dev/urandom >"$ROOT/$1"
}

# serve [PROGRAM]: start the server (ASan build unless given) on $ROOT.
serve() {
	start_server srv -- "${1:-$BIN_DIR/file-server}" "$ROOT" 0
}

# no_output DEST: neither DEST nor a temporary file next to it is left.
no_output() {
	local left
	left=$(find "$(dirname "$1")" -name "$(basename "$1")*" -print 2>/dev/null)
	[ -z "$left" ] && return 0
	hint "The temporary file and rename" \
		"Write to a temporary file next to DEST, rename() it only when every byte arrived, and unlink() it on every failure path."
	fail_with "a file was left behind" "no $1, and no temporary file next to it" "$left"
}

# download_ok NAME [SECS]: download NAME with the ASan client; it must say
# "saved" and exit 0, and the copy must be byte-identical.
download_ok() {
	local name=$1 secs=${2:-$T_LINE}
	run_bounded dl --timeout "$secs" -- "$BIN_DIR/download" 127.0.0.1 "$PORT" "$name" "$D/dl/$name"
	expect_status dl 0 || return 1
	expect_clean_stderr dl || return 1
	expect_line dl "^saved $D/dl/$name \\($(wc -c <"$ROOT/$name") bytes\\)\$" "the client did not report the download" || return 1
	expect_same_digest "$name" "$ROOT/$name" "$D/dl/$name"
}

# expect_same_digest WHAT WANT GOT: equal SHA-256 digests (and the first
# difference shown if not).
expect_same_digest() {
	local want got
	want=$(sha256sum <"$2" | cut -d' ' -f1)
	got=$(sha256sum <"$3" 2>/dev/null | cut -d' ' -f1)
	[ "$want" = "$got" ] && return 0
	expect_same_bytes "$1" "$2" "$3"
}

# wait_started DEST SECS: wait until a download to DEST has written bytes
# (to a temporary file next to it, or to DEST itself).
bytes_arrived() {
	local f
	for f in "$1"*; do
		[ -s "$f" ] && return 0
	done
	return 1
}

wait_started() {
	local dest=$1 secs=${2:-$T_LINE} client=${3:-}
	wait_until ${client:+--while "$client"} "$secs" bytes_arrived "$dest" && return 0
	if [ -n "$client" ] && ! is_running "$client"; then
		_collect_status "$client"
		fail_with "the download did not start" "bytes arriving in $dest or a temporary file next to it" \
			"$client $(describe_status "$(server_exit_status "$client")") first; its stderr: $(_tail "$(err "$client")")"
		return 1
	fi
	fail_with "the download did not start" "bytes arriving in $dest or a temporary file next to it" "nothing after ${secs}s"
}

# wait_count NAME REGEX N SECS: wait until NAME has printed N lines matching
# REGEX; fails at once if NAME exits first, or once it is back in accept()
# without them (call it after the clients it counts have ended).
printed_count() { [ "$(grep -caE -- "$2" "$(out "$1")")" -ge "$3" ]; }

wait_count() {
	local name=$1 re=$2 n=$3 secs=$4 got=
	wait_until --while "$name" --idle "$name" "$secs" printed_count "$name" "$re" "$n"
	case $? in
	0) return 0 ;;
	2) got="$name went back to accept(), waiting for a new client, without printing it" ;;
	*) got="not after ${secs}s" ;;
	esac
	is_running "$name" || got="$name ended first"
	fail_with "$name did not print line $n matching $re" \
		"$n lines matching $re, $name still running" \
		"$got; $(_tail "$(out "$name")"; _tail "$(err "$name")")"
	return 1
}

# refuse_check NAME: filepeer gets status 2 and a message for NAME.
refuse_check() {
	run_bounded peer -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" "$1" --idle-ms 8000
	if ! grep -qx 'status 2' "$(out peer)" || ! grep -q '^message .' "$(out peer)"; then
		fail_with "the request for '$1' was not refused with status 2" \
			"status 2, then a message frame" "$(cat "$(out peer)" "$(err peer)")"
		return 1
	fi
}

@test "an empty file and a 1-byte file arrive byte-identical" {
	hint "The protocol" "Status 0, an 8-byte size, then exactly size bytes: 0 bytes is a size like any other."
	: >"$ROOT/empty"
	printf 'x' >"$ROOT/one"
	serve
	download_ok empty
	download_ok one
}

@test "downloads by name (localhost), whichever of its addresses comes first" {
	hint "Your turn" \
		"HOST may be a name: localhost may be ::1 first and the server on 127.0.0.1 only; connect with tcp_connect(), which tries each address."
	printf 'by name\n' >"$ROOT/named"
	serve
	run_bounded dl -- "$BIN_DIR/download" localhost "$PORT" named "$D/dl/named"
	expect_status dl 0
	expect_same_digest named "$ROOT/named" "$D/dl/named"
}

@test "a 10 MiB file arrives byte-identical" {
	hint "Streaming with a fixed buffer" \
		"recv() returns what has arrived: loop until exactly size bytes are written."
	random_file ten $((10 * 1024 * 1024))
	serve
	download_ok ten 30
}

@test "the answer is a status byte 0, an 8-byte big-endian size and exactly the file's bytes" {
	hint "The protocol" "Send the size most significant byte first, all 8 bytes, then the file, then close."
	random_file thousand 1000
	serve
	run_bounded peer -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" thousand --out "$D/raw"
	local want=$'status 0\nsize 1000\nreceived 1000 bytes\neof'
	[ "$(cat "$(out peer)")" = "$want" ] ||
		fail_with "the server's answer is not in the wire format" "$want" "$(cat "$(out peer)" "$(err peer)")"
	expect_same_bytes "the file's bytes" "$ROOT/thousand" "$D/raw"
}

@test "a missing file: status 1, the server's message on stderr, exit 1, no output file" {
	hint "The protocol" \
		"After status 1 comes one frame with a message: print it, exit 1, and create nothing."
	serve
	run_bounded peer -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" nothere
	grep -qx 'status 1' "$(out peer)" ||
		fail_with "a missing file did not get status 1" "status 1" "$(cat "$(out peer)" "$(err peer)")"
	local message
	message=$(sed -n 's/^message //p' "$(out peer)")
	[ -n "$message" ] || fail_with "no message frame after status 1" "message TEXT" "$(cat "$(out peer)")"
	run_bounded dl -- "$BIN_DIR/download" 127.0.0.1 "$PORT" nothere "$D/dl/nothere"
	expect_status dl 1
	expect_clean_stderr dl
	grep -qF -- "$message" "$(err dl)" ||
		fail_with "the server's message is not on the client's stderr" "a line with: $message" "$(cat "$(err dl)")"
	no_output "$D/dl/nothere"
}

@test "unsafe names and files that are not plain files in the root are refused with status 2" {
	hint "Path safety" \
		"Refuse '/', names starting with '.', links (O_NOFOLLOW), and anything fstat does not call a regular file."
	# Every one of these exists, so only the safety rules can refuse it.
	printf 'outside\n' >"$D/x"
	mkdir -p "$ROOT/a" "$ROOT/dir"
	printf 'nested\n' >"$ROOT/a/b"
	printf 'hidden\n' >"$ROOT/.hidden"
	ln -s /etc/passwd "$ROOT/link"
	mkfifo "$ROOT/fifo"
	serve
	local name
	for name in ../x /etc/passwd a/b .hidden link dir fifo .. .; do
		refuse_check "$name" || return 1
		run_bounded dl -- "$BIN_DIR/download" 127.0.0.1 "$PORT" "$name" "$D/dl/out"
		expect_status dl 1 "exit status of download for '$name'" || return 1
		no_output "$D/dl/out" || return 1
	done
}

@test "a name with a NUL byte is refused, and the server goes on" {
	hint "Path safety" "The name is bytes from the network: a NUL byte inside it would cut it short in open()."
	printf 'ok\n' >"$ROOT/ok"
	printf 'ok\0../x' >"$D/nulname"
	serve
	run_bounded peer -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" --name-file "$D/nulname"
	grep -qx 'status 2' "$(out peer)" ||
		fail_with "a name with a NUL byte was not refused" "status 2" "$(cat "$(out peer)" "$(err peer)")"
	download_ok ok
}

@test "a FIFO in the root is refused at once and never blocks the server" {
	hint "Path safety" \
		"open() on a FIFO waits for a writer: look with fstatat first, and open with O_NONBLOCK."
	mkfifo "$ROOT/fifo"
	printf 'after\n' >"$ROOT/after"
	serve
	run_bounded peer --timeout 10 -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" fifo --idle-ms 5000
	if [ "$STATUS" = 3 ] || [ "$STATUS" = timeout ]; then
		fail_with "the server hung on the FIFO" "status 2 at once" "no answer within 5 s"
		return 1
	fi
	grep -qx 'status 2' "$(out peer)" ||
		fail_with "the FIFO was not refused" "status 2" "$(cat "$(out peer)" "$(err peer)")"
	download_ok after
}

@test "a client killed mid-transfer does not stop the server from serving the next one" {
	hint "Threads per client" \
		"A send to a vanished client fails (EPIPE, ECONNRESET): end that client's thread, keep the server."
	# 64 MiB: more than the socket buffers hold, so the server is surely in
	# the middle of the file when the client, which stopped reading after
	# 64 KiB, is killed (its unread bytes make the kernel reset).
	random_file big $((64 * 1024 * 1024))
	printf 'next\n' >"$ROOT/next"
	serve
	start slow -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" big --stall-after 65536 --idle-ms 50000
	wait_line slow '^stalled after ' 20 || return 1
	stop slow
	hint "Threads per client" \
		"When a send fails, log 'aborted NAME: REASON', close the file and the connection, and end that client's thread."
	wait_line srv '^aborted big' 30 || return 1
	hint "Threads per client" \
		"A send to a vanished client fails (EPIPE, ECONNRESET): end that client's thread, keep the server."
	download_ok next
	is_running srv || fail_with "the server is gone" "still running" "exited"
}

@test "a client that hangs up right after asking does not kill the server (SIGPIPE)" {
	hint "Threads per client" \
		"Sending on a connection the client closed soon fails with EPIPE, and EPIPE raises SIGPIPE, which kills: ignore it, or send with MSG_NOSIGNAL."
	random_file big $((4 * 1024 * 1024))
	printf 'next\n' >"$ROOT/next"
	printf 'big' >"$D/name"
	make_frame "$D/name" >"$D/request"
	serve
	local i
	for i in 1 2 3; do
		run_bounded hangup -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/request" --close
		wait_count srv '^(aborted|sent) big' "$i" 20 || return 1
	done
	# And clients gone before the server reads their request: its recv
	# fails (a reset) or meets EOF; each connection must still be closed
	# (teardown counts the server's descriptors).
	paused srv gone_clients --reset 3
	paused srv gone_clients --close 2
	download_ok next
}

@test "a send that fails with EPIPE ends that transfer, not the server (SIGPIPE)" {
	hint "Threads per client" \
		"Sending on a connection the client closed fails with EPIPE, and EPIPE raises SIGPIPE, which kills the whole server: ignore it, or send with MSG_NOSIGNAL."
	# A client that hangs up makes the kernel answer with EPIPE (and
	# SIGPIPE) only when its reset beats the server's next send, which is a
	# race. The shim makes the server's first send of file data (1 KiB or
	# more, past the short header; by send, write, sendfile...) fail with
	# EPIPE and raise SIGPIPE as the kernel does, on every run.
	random_file big $((256 * 1024))
	printf 'next\n' >"$ROOT/next"
	failing send 32
	FAILING+=(FAIL_MIN_BYTES=1024)
	start_server srv -- "${FAILING[@]}" "$PLAIN_DIR/file-server" "$ROOT" 0
	run_bounded first -- "$BIN_DIR/download" 127.0.0.1 "$PORT" big "$D/dl/big"
	if ! is_running srv; then
		fail_with "the server died when a send failed with EPIPE" \
			"the server still running, that transfer ended" \
			"the server is gone (see above)"
		return 1
	fi
	download_ok next
}

# size_header N: print N as 8 bytes, most significant first.
size_header() {
	local i
	for i in 56 48 40 32 24 16 8 0; do
		# shellcheck disable=SC2059 # the format is built on purpose
		printf "\\$(printf %03o $((($1 >> i) & 255)))"
	done
}

@test "a client that sends a newline after its request still gets the whole file and end of file (no reset)" {
	hint "Threads per client" \
		"close() with unread input sends a reset, not FIN, and the end of the file is lost: shutdown(SHUT_WR), read and discard until the client closes (bounded), then close()."
	random_file big $((4 * 1024 * 1024))
	printf 'big' >"$D/name"
	{
		make_frame "$D/name"
		printf '\n'
	} >"$D/request"
	{
		printf '\0'
		size_header $((4 * 1024 * 1024))
		cat "$ROOT/big"
	} >"$D/want"
	serve
	# The request and the newline leave in one send: the newline is surely
	# in the server's receive buffer, unread, when it has sent the file.
	run_bounded peer --timeout 30 -- "$TOOLS_DIR/tcpeer" connect 127.0.0.1 "$PORT" --send "$D/request"
	if [ "$STATUS" != 0 ]; then
		fail_with "the connection did not end cleanly after the file" \
			"the whole answer, then end of file (tcpeer exit 0)" \
			"exit $STATUS after $(wc -c <"$(out peer)") of $(wc -c <"$D/want") bytes: $(_tail "$(err peer)")"
		return 1
	fi
	expect_same_bytes "the answer to a request followed by a newline" "$D/want" "$(out peer)"
	wait_line srv '^sent big ' || return 1
	expect_clean_stderr srv
}

@test "a name that is too long is refused with status 2 even when the server's log has stopped working" {
	hint "The protocol" \
		"Save errno right after the call that failed: printf and fflush (your log) may change it, even when they succeed, and here they fail (EPIPE)."
	head -c 1000 /dev/zero | tr '\0' a >"$D/longname"
	# The server's stdout is a pipe whose reader takes the listening line,
	# then closes its end: every later log line fails with EPIPE.
	start srv -- bash -c '"$@" | { head -n 1; exec 0<&-; echo "log reader gone"; }' _ \
		"$BIN_DIR/file-server" "$ROOT" 0
	wait_listening srv || return 1
	wait_line srv '^log reader gone$' || return 1
	run_bounded peer -- "$TOOLS_DIR/filepeer" 127.0.0.1 "$PORT" --name-file "$D/longname" --idle-ms 8000
	if ! grep -qx 'status 2' "$(out peer)" || ! grep -q '^message .' "$(out peer)"; then
		fail_with "a 1000-byte name was not refused once the log failed" \
			"status 2, then a message frame" "$(cat "$(out peer)" "$(err peer)")"
		return 1
	fi
	expect_clean_stderr srv
}

@test "a server killed mid-transfer leaves the client with exit 1 and no output file" {
	hint "The temporary file and rename" \
		"Write to a temporary file and rename() it only when every byte arrived; on failure, unlink it."
	# The test's own server, so the timing is the test's: it reads the
	# request, announces 128 MiB, sends 8 MiB of them and waits; the test
	# looks at the client's files, then kills that server (the kernel closes
	# its connection, as for any server that dies).
	printf 'big' >"$D/name"
	make_frame "$D/name" >"$D/request"
	{
		printf '\000\000\000\000\000\010\000\000\000'
		head -c $((8 * 1024 * 1024)) /dev/urandom
		printf 'never sent'
	} >"$D/answer"
	start_server srv -- "$TOOLS_DIR/tcpeer" serve --read-first "$(wc -c <"$D/request")" \
		--send "$D/answer" --chunk $((8 * 1024 * 1024 + 9)) --pause-ms 60000
	start slow -- "$BIN_DIR/download" 127.0.0.1 "$PORT" big "$D/dl/big"
	wait_started "$D/dl/big" 20 slow || return 1
	# Half-way, the bytes must be in a temporary file, not under the name.
	[ ! -e "$D/dl/big" ] ||
		fail_with "half-way through, the download writes straight to its final name" \
			"only a temporary file next to $D/dl/big until every byte arrived" "$(ls -la "$D/dl")"
	stop srv
	wait_exit slow 40
	expect_status slow 1
	[ -s "$(err slow)" ] || fail_with "the client said nothing" "an error line on stderr" "(empty)"
	no_output "$D/dl/big"
}

@test "8 concurrent downloads all arrive intact" {
	hint "Threads per client" \
		"One thread per client, nothing shared but the root descriptor: clients never wait for each other."
	local i server=$BIN_DIR/file-server
	[ -n "${TSAN_DIR:-}" ] && server=$TSAN_DIR/file-server
	for i in 1 2 3 4 5 6 7 8; do random_file "f$i" $((1024 * 1024 + i)); done
	serve "$server"
	for i in 1 2 3 4 5 6 7 8; do
		start "dl$i" -- "$BIN_DIR/download" 127.0.0.1 "$PORT" "f$i" "$D/dl/f$i"
	done
	for i in 1 2 3 4 5 6 7 8; do
		wait_exit "dl$i" 60 || return 1
		expect_status "dl$i" 0 || return 1
		expect_same_digest "f$i" "$ROOT/f$i" "$D/dl/f$i" || return 1
	done
	expect_clean_stderr srv
}

@test "a progress bar (bytes, total, rate, ETA) appears when stderr is a terminal" {
	hint "The progress bar" \
		"isatty(STDERR_FILENO): draw 'DONE / TOTAL  PCT%  RATE/s  ETA M:SS' with \\r, and end with a newline."
	random_file four $((4 * 1024 * 1024))
	serve
	run_bounded tty --timeout 30 -- script -qfec \
		"'$BIN_DIR/download' 127.0.0.1 $PORT four '$D/dl/four'" /dev/null
	expect_status tty 0
	local screen
	screen=$(tr '\r' '\n' <"$(out tty)")
	grep -qE '4\.0 MiB.*100%.*/s.*ETA' <<<"$screen" ||
		fail_with "no finished progress bar on the terminal" \
			"a line like '4.0 MiB / 4.0 MiB  100%  300.0 MiB/s  ETA 0:00'" "$screen"
	expect_same_digest four "$ROOT/four" "$D/dl/four"
}

@test "an empty file downloads with exit 0 when stderr is a terminal (the progress bar of a 0-byte total)" {
	hint "The progress bar" \
		"With a total of 0 bytes, a percentage or an ETA divides by zero: treat an empty file as done (100%) before you divide."
	: >"$ROOT/empty"
	serve
	run_bounded tty --timeout 30 -- script -qfec \
		"'$BIN_DIR/download' 127.0.0.1 $PORT empty '$D/dl/empty'" /dev/null
	local report
	report=$(sanitizer_report "$(out tty)")
	[ -z "$report" ] ||
		fail_with "the sanitizer found a bug in download (under a terminal, empty file)" "no report" "$report"
	expect_status tty 0 "exit status of download (empty file, stderr a terminal)"
	[ -f "$D/dl/empty" ] && [ ! -s "$D/dl/empty" ] ||
		fail_with "the empty file was not saved" "an empty $D/dl/empty" "$(ls -la "$D/dl")"
	grep -qa "saved $D/dl/empty (0 bytes)" "$(out tty)" ||
		fail_with "the client did not report the download" "saved $D/dl/empty (0 bytes)" "$(_tail "$(out tty)")"
}

@test "bound to ::, the server serves an IPv4 client (v4-mapped peer)" {
	hint "The protocol" \
		"A peer of an IPv6 socket is a struct sockaddr_in6, even an IPv4 one: accept() into a sockaddr_storage, and size address text with INET6_ADDRSTRLEN."
	need_dual_stack
	random_file mapped 100000
	start_server srv -- "$BIN_DIR/file-server" "$ROOT" 0 ::
	[ "$LISTEN_ADDR" = "[::]" ] ||
		fail_with "the server is not on ::" "listening on [::]:PORT" "$LINE"
	download_ok mapped
}

@test "no progress bar when stderr is a pipe" {
	hint "The progress bar" "Not a terminal (a pipe, a file, a test): print nothing but errors on stderr."
	random_file four $((4 * 1024 * 1024))
	serve
	run_bounded piped --timeout 30 -- bash -c '"$@" 2>&1 | cat' _ \
		"$BIN_DIR/download" 127.0.0.1 "$PORT" four "$D/dl/four"
	expect_status piped 0
	local want="saved $D/dl/four (4194304 bytes)"
	[ "$(cat "$(out piped)")" = "$want" ] ||
		fail_with "something besides the result was printed on a pipe" "$want" "$(cat "$(out piped)")"
}

@test "a 256 MiB file arrives intact while server and client memory stay flat" {
	hint "Streaming with a fixed buffer" \
		"Move the file through one fixed buffer (read, send_all; recv, write_all): never all of it in memory."
	random_file huge $((256 * 1024 * 1024))
	serve "$PLAIN_DIR/file-server"
	run_bounded dl --timeout 60 -- /usr/bin/time -f 'maxrss %M' \
		"$PLAIN_DIR/download" 127.0.0.1 "$PORT" huge "$D/dl/huge"
	expect_status dl 0
	expect_same_digest huge "$ROOT/huge" "$D/dl/huge"
	local client server
	client=$(sed -n 's/^maxrss //p' "$(err dl)")
	server=$(awk '/^VmHWM:/ { print $2 }' "/proc/$(prog_pid srv)/status")
	[ "${server:-0}" -gt 0 ] && [ "$server" -le $RSS_LIMIT_KIB ] ||
		fail_with "the server's memory grew with the file" "peak RSS at most $RSS_LIMIT_KIB KiB" "${server:-?} KiB"
	[ "${client:-0}" -gt 0 ] && [ "$client" -le $RSS_LIMIT_KIB ] ||
		fail_with "the client's memory grew with the file" "peak RSS at most $RSS_LIMIT_KIB KiB" "${client:-?} KiB"
}

@test "file-server -n 3 exits 0 with no descriptor left open (valgrind)" {
	hint "Threads per client" \
		"Close the file and the connection on every path, refusals included; with -n, wait for the threads."
	printf 'ok\n' >"$ROOT/ok"
	mkdir "$ROOT/dir"
	start_valgrind srv --timeout 60 -- file-server -n 3 "$ROOT" 0
	wait_line --before-accept srv '^listening on .+:[0-9]+$' 30 || return 1
	PORT=${LINE##*:}
	run_bounded dl --timeout 30 -- "$BIN_DIR/download" 127.0.0.1 "$PORT" ok "$D/dl/ok"
	expect_status dl 0
	run_bounded dl --timeout 30 -- "$BIN_DIR/download" 127.0.0.1 "$PORT" dir "$D/dl/dir"
	expect_status dl 1
	run_bounded dl --timeout 30 -- "$BIN_DIR/download" 127.0.0.1 "$PORT" nothere "$D/dl/x"
	expect_status dl 1
	wait_exit srv 60
	expect_status srv 0
	expect_valgrind_clean srv
}

@test "bad arguments print a usage line and exit 2" {
	hint "Your turn" "Wrong number of arguments or a bad port: a 'usage:' line on stderr, exit status 2."
	run_bounded dl -- "$BIN_DIR/download" 127.0.0.1
	expect_status dl 2
	expect_stderr_line dl '^usage: ' "no usage line from download"
	run_bounded fs -- "$BIN_DIR/file-server" "$ROOT"
	expect_status fs 2
	expect_stderr_line fs '^usage: ' "no usage line from file-server"
}

# serve_one_file SERVER: one client downloads one file, whole.
serve_one_file() {
	[ -f "$ROOT/one" ] || printf 'one file\n' >"$ROOT/one"
	download_ok one
}

@test "file-server: a count of 0, -1 or over 1000000000, a bad port or an extra operand is bad usage: exit 2" {
	hint "Your turn" "parse_listen_args (common/net.h) refuses these; main then prints its usage line and exits 2."
	check_usage "$BIN_DIR/file-server" "$ROOT"
}

@test "file-server: -n 1000000000, the largest count, is taken" {
	hint "Your turn" "COUNT may be 1 to 1000000000, in every server (common/net.h, SERVE_COUNT_MAX)."
	check_count_max "$BIN_DIR/file-server" "$ROOT"
}

@test "file-server: -n 1 serves one client, then exits 0 by itself" {
	hint "Threads per client" "After COUNT clients, stop accepting, wait for the last thread, and exit 0."
	check_serves_one serve_one_file "$BIN_DIR/file-server" "$ROOT"
}

@test "file-server: out of descriptors (EMFILE), it waits and tries accept() again, then serves the client" {
	hint "Threads per client" \
		"accept_retry (common/tcp.h) pauses 100 ms after EMFILE and tries again: the clients that finish free descriptors."
	check_emfile_backoff serve_one_file "$PLAIN_DIR/file-server" "$ROOT"
}

@test "an empty file under a terminal: the bar shows 100%, and the file arrives" {
	hint "The progress bar" \
		"With a total of 0 bytes the percentage is 0/0: show 100% (or no percentage), never divide by zero."
	: >"$ROOT/void"
	serve
	run_bounded tty --timeout 30 -- script -qfec \
		"'$BIN_DIR/download' 127.0.0.1 $PORT void '$D/dl/void'" /dev/null
	expect_status tty 0
	local screen
	screen=$(tr '\r' '\n' <"$(out tty)")
	grep -qE '100%' <<<"$screen" ||
		fail_with "no finished progress bar for the empty file" "a line with 0 B / 0 B  100%" "$screen"
	[ -f "$D/dl/void" ] && [ ! -s "$D/dl/void" ] ||
		fail_with "the empty file did not arrive" "an empty $D/dl/void" "$(ls -l "$D/dl" 2>&1)"
}
