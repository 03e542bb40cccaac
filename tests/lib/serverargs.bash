# tests/lib/serverargs.bash - what every server from lesson 07 on shares, so
# that each suite checks it the same way instead of with its own copy:
#   - the command line "[-n COUNT] PORT [ADDRESS]" (common/net.h,
#     parse_listen_args): COUNT is 1..1000000000, without -n the server serves
#     until killed, bad usage is a "usage:" line on stderr and exit status 2;
#   - accept_retry (common/tcp.h): accept() failing with EMFILE is waited out,
#     with a pause between tries, not a spin and not an exit.
#
# Load it after the common helpers:   load lib/helpers
#                                      load lib/serverargs
# Each check takes the server's program and its own operands before PORT
# (file-server's ROOT), as LEAD: check_* PROGRAM [LEAD...].

# The bad command lines, "OPTIONS|OPERANDS" around the server's LEAD: no
# PORT, -n without its value, counts 0, -1, 1000000001 and "1x", ports that
# are not ports, an operand too many, an option no server takes.
SERVERARGS_BAD=(
	"|"
	"-n|"
	"-n 0|0"
	"-n -1|0"
	"-n 1000000001|0"
	"-n 1x|0"
	"|notaport"
	"|65536"
	"|0 127.0.0.1 extra"
	"-Z|0"
)

# The largest COUNT, which every server takes (common/net.h, SERVE_COUNT_MAX).
SERVERARGS_COUNT_MAX=1000000000

# The pause accept_retry makes after EMFILE (common/tcp.h, ACCEPT_BACKOFF_MS),
# less a little for the clock's granularity: a retry sooner than this is a spin.
SERVERARGS_BACKOFF_MS=90

# check_usage PROGRAM [LEAD...]: each bad command line makes PROGRAM print a
# "usage:" line on stderr and exit 2, without listening.
check_usage() {
	local prog=$1 bad opts ops
	shift
	for bad in "${SERVERARGS_BAD[@]}"; do
		read -ra opts <<<"${bad%%|*}"
		read -ra ops <<<"${bad#*|}"
		local line=("$prog" "${opts[@]}" "$@" "${ops[@]}")
		run_bounded usage -- "${line[@]}"
		local shown="${line[*]##*/}"
		expect_status usage 2 "exit status for '$shown'" || return 1
		expect_stderr_line usage '^usage: ' "no usage line for '$shown'" || return 1
		if grep -qa '^listening on ' "$(out usage)"; then
			fail_with "'$shown' is bad usage, yet the server listened" \
				"a usage line and exit 2 before any socket" "$(_tail "$(out usage)")"
			return 1
		fi
	done
}

# check_count_max PROGRAM [LEAD...]: -n 1000000000 is a count PROGRAM takes
# (it listens), like every other server.
check_count_max() {
	local prog=$1
	shift
	start count_max -- "$prog" -n "$SERVERARGS_COUNT_MAX" "$@" 0
	wait_listening count_max || return 1
	stop count_max
}

# check_serves_one CLIENT PROGRAM [LEAD...]: with -n 1, PROGRAM serves one
# client and exits 0 by itself. CLIENT SERVER is the suite's function that
# runs one client against $PORT and checks it was served (SERVER names the
# server, for wait_line).
check_serves_one() {
	local client=$1 prog=$2
	shift 2
	start_server one -- "$prog" -n 1 "$@" 0 || return 1
	"$client" one || return 1
	wait_exit one 30 || return 1
	expect_status one 0 "exit status after its one client (-n 1)" || return 1
	expect_clean_stderr one
}

# check_emfile_backoff CLIENT PROGRAM [LEAD...]: PROGRAM (an unsanitized
# build: the shim must come first in the library list) meets accept()
# failing with EMFILE three times, as when it is out of descriptors, then
# succeeding. It must wait (at least SERVERARGS_BACKOFF_MS between tries),
# then serve the client as if nothing had happened, and exit 0 with -n 1.
check_emfile_backoff() {
	local client=$1 prog=$2 log=$BATS_TEST_TMPDIR/accept-failures
	shift 2
	failing accept 24 3 # EMFILE, three times (lib/helpers)
	start_server emfile -- "${FAILING[@]}" FAIL_LOG="$log" "$prog" -n 1 "$@" 0 || return 1
	"$client" emfile || return 1
	wait_exit emfile 30 || return 1
	expect_status emfile 0 "exit status after EMFILE passed and its one client (-n 1)" || return 1
	local times=() gaps="" prev="" t
	read -ra times <<<"$(awk '{ print $2 }' "$log" 2>/dev/null | tr '\n' ' ')"
	[ "${#times[@]}" -eq 3 ] ||
		fail_with "accept() was not tried again after EMFILE as often as expected" \
			"3 failed calls, then one that succeeds" "${#times[@]} failed calls" || return 1
	for t in "${times[@]}"; do
		[ -z "$prev" ] || gaps="$gaps $((t - prev))"
		prev=$t
	done
	for t in $gaps; do
		[ "$t" -ge "$SERVERARGS_BACKOFF_MS" ] ||
			fail_with "the server tried accept() again at once after EMFILE: it spins while out of descriptors" \
				"at least ${SERVERARGS_BACKOFF_MS} ms between tries" "gaps of${gaps} ms" || return 1
	done
}
