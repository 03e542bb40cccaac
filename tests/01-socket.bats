#!/usr/bin/env bats
# Lesson 01 - sockets: creating sockets of each family and type, closing them.

load lib/helpers

# describe_line FAMILY TYPE AF SOCK: the line the program prints for one socket.
describe_line() {
	printf '%s %s -> fd 3 (a socket: family %s, type %s)' "$1" "$2" "$3" "$4"
}

# check_one FAMILY TYPE AF SOCK
check_one() {
	hint "Asking the kernel what you made" \
		"socket($3, $4, 0) makes it; fstat, getsockopt(SO_TYPE) and getsockname report it."
	run_bounded sockets -- "$BIN_DIR/sockets" "$1" "$2"
	expect_status sockets 0
	expect_clean_stderr sockets
	local want got
	want=$(describe_line "$@")
	got=$(cat "$(out sockets)")
	[ "$got" = "$want" ] || fail_with "wrong report for '$1 $2'" "$want" "$got"
}

@test "inet stream makes an IPv4 TCP socket (AF_INET, SOCK_STREAM)" {
	check_one inet stream AF_INET SOCK_STREAM
}

@test "inet dgram makes an IPv4 UDP socket (AF_INET, SOCK_DGRAM)" {
	check_one inet dgram AF_INET SOCK_DGRAM
}

@test "inet6 stream makes an IPv6 TCP socket (AF_INET6, SOCK_STREAM)" {
	check_one inet6 stream AF_INET6 SOCK_STREAM
}

@test "inet6 dgram makes an IPv6 UDP socket (AF_INET6, SOCK_DGRAM)" {
	check_one inet6 dgram AF_INET6 SOCK_DGRAM
}

@test "unix stream makes a UNIX-domain stream socket (AF_UNIX, SOCK_STREAM)" {
	check_one unix stream AF_UNIX SOCK_STREAM
}

@test "unix dgram makes a UNIX-domain datagram socket (AF_UNIX, SOCK_DGRAM)" {
	check_one unix dgram AF_UNIX SOCK_DGRAM
}

@test "with no arguments, all six kinds are made in order, each on fd 3" {
	hint "Closing a socket" \
		"Each socket must be closed before the next is made: then the kernel hands out fd 3 again."
	run_bounded sockets -- "$BIN_DIR/sockets"
	expect_status sockets 0
	expect_clean_stderr sockets
	local want
	want=$(
		describe_line inet stream AF_INET SOCK_STREAM; echo
		describe_line inet dgram AF_INET SOCK_DGRAM; echo
		describe_line inet6 stream AF_INET6 SOCK_STREAM; echo
		describe_line inet6 dgram AF_INET6 SOCK_DGRAM; echo
		describe_line unix stream AF_UNIX SOCK_STREAM; echo
		describe_line unix dgram AF_UNIX SOCK_DGRAM
	)
	[ "$(cat "$(out sockets)")" = "$want" ] ||
		fail_with "the tour of six sockets is not right" "$want" "$(cat "$(out sockets)")"
}

@test "no descriptor is left open at exit (valgrind --track-fds)" {
	hint "Closing a socket" "Every socket() needs its close(), on the error paths too."
	start_valgrind sockets -- sockets
	wait_exit sockets 30
	expect_status sockets 0
	expect_valgrind_clean sockets
}

@test "a failing socket() is reported as 'sockets: socket(inet6, stream): ...' with exit 1" {
	hint "When socket() fails" \
		"Check socket()'s result against -1 and report with err(3) or warn(3): they add strerror(errno)."
	# The shim lets the first two socket() calls succeed, then fails them
	# all with EMFILE, as when a process runs out of descriptors.
	run_bounded sockets -- env LD_PRELOAD="$TOOLS_DIR/preload-fail.so" \
		FAIL_CALL=socket FAIL_AFTER=2 FAIL_ERRNO=24 "$PLAIN_DIR/sockets"
	expect_status sockets 1
	local want='sockets: socket(inet6, stream): Too many open files'
	[ "$(cat "$(err sockets)")" = "$want" ] ||
		fail_with "the error message is not in the expected form" "$want" "$(cat "$(err sockets)")"
}

@test "a failing socket() stops the tour: the two sockets before it are described, nothing after" {
	hint "When socket() fails" \
		"When socket() returns -1, report it and return -1 at once: main stops the tour there, after the lines of the sockets made before."
	# As above: the third socket() fails with EMFILE.
	run_bounded sockets -- env LD_PRELOAD="$TOOLS_DIR/preload-fail.so" \
		FAIL_CALL=socket FAIL_AFTER=2 FAIL_ERRNO=24 "$PLAIN_DIR/sockets"
	expect_status sockets 1
	[ "$(wc -l <"$(out sockets)")" -eq 2 ] ||
		fail_with "the program went on after socket() failed" "the two lines before the failure, then nothing" "$(cat "$(out sockets)")"
}

@test "an unknown family or type prints a usage line and exits 2" {
	hint "Your turn" "Bad arguments are a usage error: a 'usage:' line on stderr, exit status 2."
	local args
	for args in "inet bogus" "ipx stream" "inet" "inet stream extra"; do
		# shellcheck disable=SC2086 # split the arguments on purpose
		run_bounded sockets -- "$BIN_DIR/sockets" $args
		expect_status sockets 2 "exit status for 'sockets $args'"
		expect_stderr_line sockets '^usage: ' "no usage line for 'sockets $args'"
		[ ! -s "$(out sockets)" ] ||
			fail_with "'sockets $args' printed a report" "nothing on stdout" "$(cat "$(out sockets)")"
	done
}
