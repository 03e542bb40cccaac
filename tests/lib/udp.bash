# tests/lib/udp.bash - helpers for the UDP lessons' suites (04, 05).
#
# Load it after the common helpers:   load lib/helpers
#                                      load lib/udp
# The UDP test peer itself is tests/lib/udpeer.c (see its header comment).

# count_lines NAME REGEX: how many lines of NAME's stdout match REGEX.
count_lines() {
	grep -caE -- "$2" "$(out "$1")" || true
}

# wait_lines NAME REGEX N [SECONDS]: wait until NAME's stdout has at least N
# lines matching REGEX (default limit T_LINE). Unlike wait_line, NAME may
# already have exited: the lines are what counts.
wait_lines() {
	local name=$1 re=$2 want=$3 secs=${4:-$T_LINE} deadline got t0=${EPOCHREALTIME/[.,]/}
	deadline=$((t0 / 1000 + secs * 1000))
	while :; do
		got=$(count_lines "$name" "$re")
		[ "$got" -ge "$want" ] && return 0
		if [ "$((${EPOCHREALTIME/[.,]/} / 1000))" -ge "$deadline" ]; then
			fail_with "$name did not print $want lines matching '$re' within ${secs}s" \
				"$want such lines" "$got; its stdout: $(_tail "$(out "$name")")"
			return 1
		fi
		poll_nap "$t0"
	done
}

# upper FILE: FILE with a-z turned into A-Z and every other byte kept.
upper() {
	LC_ALL=C tr 'a-z' 'A-Z' <"$1"
}

# payload NAME TEXT...: write the words TEXT into $BATS_TEST_TMPDIR/NAME with
# printf (escapes such as \000 work) and print the file's path.
payload() {
	local name=$1
	shift
	# shellcheck disable=SC2059 # the text is a printf format on purpose
	printf "$*" >"$BATS_TEST_TMPDIR/$name"
	printf '%s\n' "$BATS_TEST_TMPDIR/$name"
}

# talk_ok NAME: the udpeer talk run NAME (from run_bounded) ended well;
# otherwise fail showing its log.
talk_ok() {
	local name=$1 what=${2:-"the test client's exchange"}
	[ "$STATUS" = 0 ] && return 0
	local why
	case $STATUS in
	3) why="a reply never came" ;;
	4) why="a datagram came that nobody asked for" ;;
	timeout) why="the exchange did not finish in time" ;;
	*) why="exit status $STATUS: $(_tail "$(err "$name")")" ;;
	esac
	fail_with "$what went wrong: $why" "every reply, each to the socket that asked" \
		"$(cat "$(out "$name")")"
}
