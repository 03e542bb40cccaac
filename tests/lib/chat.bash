# tests/lib/chat.bash - drive two interactive programs through their stdin.
#
# Load it after lib/helpers:   load lib/chat
#
# A test types into a program by holding the write end of a FIFO that is the
# program's standard input: a line written there is a line typed, closing it
# is Ctrl-D (end of input). The descriptor numbers are kept in TYPE_<NAME>.

# start_typed NAME [--close FD]... [--timeout S] -- CMD ARGS...: start CMD as
# NAME (killed after S seconds, as for start) with a
# FIFO for stdin and open its write end (kept in TYPE_NAME). Each --close FD
# is closed in the child, so one program does not hold another's keyboard
# open (it would never see end of input).
start_typed() {
	local name=$1 fifo fd closes=() limit=$T_PROC
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--close) closes+=("$2"); shift 2 ;;
		--timeout) limit=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	fifo=$BATS_TEST_TMPDIR/$name.in
	mkfifo "$fifo"
	# The child creates its output file only once the FIFO is open: make it
	# now, so that a wait_line right after this finds a file to read.
	: >"$BATS_TEST_TMPDIR/$name.out"
	# The child opens the FIFO for reading, which blocks until the test
	# opens it for writing just below; then both go on.
	_start_closing "${closes[*]}" "$name" --stdin "$fifo" --timeout "$limit" -- "$@"
	exec {fd}>"$fifo"
	printf -v "TYPE_$name" '%s' "$fd"
}

# _start_closing "FD..." START-ARGS...: start, with the listed fds closed.
_start_closing() {
	local fds=$1 fd
	shift
	if [ -z "$fds" ]; then
		start "$@"
		return
	fi
	fd=${fds%% *}
	fds=${fds#"$fd"}
	fds=${fds# }
	_start_closing "$fds" "$@" {fd}>&-
}

# type_line NAME TEXT: type TEXT and Enter into NAME. Fails (instead of killing
# the test with SIGPIPE) if NAME no longer reads its input.
type_line() {
	local var=TYPE_$1
	if ! (trap '' PIPE; printf '%s\n' "$2" >&"${!var}") 2>/dev/null; then
		fail_with "could not type into $1" "$1 reading its standard input" \
			"$1 has closed it (stderr: $(_tail "$(err "$1")"))"
	fi
}

# end_input NAME: close NAME's standard input, as Ctrl-D does.
end_input() {
	local var=TYPE_$1 fd
	fd=${!var}
	exec {fd}>&-
}
