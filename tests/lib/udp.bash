# tests/lib/udp.bash - helpers for the UDP lessons' suites (04, 05).
#
# Load it after the common helpers:   load lib/helpers
#                                      load lib/udp
# The UDP test peer itself is tests/lib/udpeer.c (see its header comment).

# count_lines NAME REGEX: how many lines of NAME's stdout match REGEX.
count_lines() {
	grep -caE -- "$2" "$(out "$1")" || true
}

# wait_lines [--settled] NAME REGEX N [SECONDS]: wait until NAME's stdout has
# at least N lines matching REGEX (default limit T_LINE). Unlike wait_line,
# NAME may already have exited: the lines are what counts. --settled: the
# programs still running are test tools, with no timer /proc does not show
# (the client under test has exited): once each sleeps in a call with no
# timeout, three looks 0.1 s apart with no CPU used (_all_sleep_for_good),
# or none is left, no line can come any more, and the count is final.
wait_lines() {
	local settled=''
	[ "$1" != --settled ] || { settled=1; shift; }
	local name=$1 re=$2 want=$3 secs=${4:-$T_LINE} deadline got t0=${EPOCHREALTIME/[.,]/}
	local looks=0 last=0 cpu='' now rc why="within ${secs}s"
	deadline=$((t0 / 1000 + secs * 1000))
	while :; do
		got=$(count_lines "$name" "$re")
		[ "$got" -ge "$want" ] && return 0
		now=${EPOCHREALTIME/[.,]/}
		if [ -n "$settled" ] && [ $((now - last)) -ge 100000 ]; then
			last=$now
			rc=0
			_all_sleep_for_good || rc=$?
			if [ $rc != 1 ]; then
				[ "$_DEADLOCK_CPU" = "${cpu:-$_DEADLOCK_CPU}" ] && looks=$((looks + 1)) || looks=0
				cpu=$_DEADLOCK_CPU
			else
				looks=0 cpu=''
			fi
			if [ $looks -ge 3 ]; then
				got=$(count_lines "$name" "$re")
				[ "$got" -ge "$want" ] && return 0
				why="(every program left sleeps with nothing to wake it: no more can come)"
			fi
		fi
		if [ $looks -ge 3 ] || [ "$((now / 1000))" -ge "$deadline" ]; then
			fail_with "$name did not print $want lines matching '$re' $why" \
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
