#!/usr/bin/env bash
# tests/selftest.d/reports.sh - reports describe what happened, not a guess.
#
# Lesson 02 graded in two states a student meets:
#   - the skeleton with TODOs 1 and 2 done (tests/ladders/02-tcp-server),
#     the accept loop not yet written: the server announces and exits at once.
#     The failure report must say first that the server is no longer running,
#     with its exit status, and guess no cause (no byte order);
#   - the solution with htons() and ntohs() both left out: the line shows the
#     port given, the server runs and listens on the byte-swapped port. Only
#     there may the report speak of byte order, and it names the port seen.
# And lesson 07's chat with recv() returning 0 taken for "nothing yet"
# (tests/variants/07-chat-loop/chat-ignores-eof): it spins. Its failing
# tests must end on the spin check (tests/lib/helpers.bash, _spin_check),
# not on their deadlines, and say that the chat spins, with its CPU time.
# And two variants that hang in ways their own Caught-by tests do not show
# (lessons 05 and 11): each failure must end on the proof that the hang is
# for good (a count of datagrams that can grow no more, a server spinning
# under valgrind), not on a deadline. Variants whose Caught-by tests do
# show their proof say so with a Proven-by line, which make test checks.
# Prints "ok - NAME" or "not ok - NAME" with details on "#" lines, for
# scripts/selftest. Work files: build/selftest/reports.PID/.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"

selftest_work reports
work=$WORK

ok() { printf 'ok - %s\n' "$1"; }
not_ok() { # NAME [DETAIL-LINE...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '# %s\n' "$l"; done
}
details() { head -c 6000 "$1" | head -n 40 | cut -c 1-200 | sed 's/^/# /'; }

lesson_02() {
	local filter problems p
	filter='accepts connections on the port it announced|put in network byte order'

	# 1. Announces and exits: the accept loop is missing.
	mkdir -p "$work/noloop" && cp -R lessons/02-tcp-server "$work/noloop/"
	for p in tests/ladders/02-tcp-server/1-*.patch tests/ladders/02-tcp-server/2-*.patch; do
		patch -s -p1 -d "$work/noloop/02-tcp-server" <"$p" || not_ok "ladder patch $p applies"
	done
	TAP=1 FILTER=$filter OUT=$work/noloop-build scripts/check 02 "$work/noloop" >"$work/noloop.txt" 2>&1
	problems=()
	[ "$(grep -c '^not ok ' "$work/noloop.txt")" = 2 ] || problems+=("want 2 tests failed")
	[ "$(grep -c '^# first: greeter is no longer running: it exited with status 0\.$' "$work/noloop.txt")" = 2 ] ||
		problems+=("each failure does not say first that greeter exited with status 0")
	grep -qiE 'byte order\?|without htons|wrong byte order' "$work/noloop.txt" &&
		problems+=("a report guesses a byte-order mistake although the server had exited")
	grep -q 'connection failed: *$' "$work/noloop.txt" && problems+=("a report gives a connection failure with an empty reason")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "lesson 02 without the accept loop: the report says first that greeter exited (status 0), and guesses no byte order"
	else
		not_ok "lesson 02 without the accept loop: the report says first that greeter exited (status 0), and guesses no byte order" "${problems[@]}"
		details "$work/noloop.txt"
	fi

	# 2. Runs, but on the byte-swapped port.
	mkdir -p "$work/swapped" && cp -R solutions/02-tcp-server "$work/swapped/"
	sed -i 's/htons(port)/port/; s/ntohs(sin->sin_port)/sin->sin_port/' "$work/swapped/02-tcp-server/greeter.c"
	TAP=1 FILTER='put in network byte order' OUT=$work/swapped-build scripts/check 02 "$work/swapped" >"$work/swapped.txt" 2>&1
	if grep -q '^not ok ' "$work/swapped.txt" && ! grep -q '^# first: greeter is no longer running' "$work/swapped.txt" &&
		grep -qE 'greeter is running and listens on port [0-9]+, which is [0-9]+ with its two bytes swapped' "$work/swapped.txt"; then
		ok "lesson 02 without htons/ntohs: the report names the byte-swapped port the running server listens on"
	else
		not_ok "lesson 02 without htons/ntohs: the report names the byte-swapped port the running server listens on"
		details "$work/swapped.txt"
	fi
}

# 3. A chat that spins: each failing test ends on the spin check. The
# variant's own Caught-by tests, as make test checks it.
lesson_07_spin() {
	local patch=tests/variants/07-chat-loop/chat-ignores-eof.patch filter want failed problems
	filter=$(sed -n 's/^Caught-by: //p' "$patch" | head -n 1)
	mkdir -p "$work/spin" && cp -R solutions/07-chat-loop "$work/spin/"
	patch -s -p1 -d "$work/spin/07-chat-loop" <"$patch" || not_ok "variant patch $patch applies"
	TAP=1 FILTER=$filter OUT=$work/spin-build scripts/check 07 "$work/spin" >"$work/spin.txt" 2>&1
	problems=()
	failed=$(grep -c '^not ok ' "$work/spin.txt")
	[ "$failed" -ge 1 ] || problems+=("want at least 1 test failed, got $failed")
	want='^# note: [a-z]+ used [0-9]+\.[0-9] s of CPU in the [0-9]+ s the test waited: it spins in a loop .*, so the wait ended there$'
	[ "$(grep -cE "$want" "$work/spin.txt")" -ge "$failed" ] ||
		problems+=("want each of the $failed failures to end on the spin check ('note: NAME used N s of CPU ... so the wait ended there'), got $(grep -cE "$want" "$work/spin.txt")")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "lesson 07, a chat that spins on recv() returning 0: each failure ends on the spin check and says the chat spins"
	else
		not_ok "lesson 07, a chat that spins on recv() returning 0: each failure ends on the spin check and says the chat spins" "${problems[@]}"
		details "$work/spin.txt"
	fi
}

# 4. Hangs proven as they happen (tests/lib/helpers.bash: wait_lines
# --settled, the spin check under valgrind). Every test the variant fails
# under FILTER must end on the proof and say what it saw, not wait out its
# deadline (the proof failing to fire would still fail the test, only
# slowly: this is where that shows).
proof_case() { # SLUG VARIANT FILTER REGEX WHAT
	local slug=$1 v=$2 filter=$3 want=$4 what=$5 dir=$work/proof-$2 failed found problems=()
	mkdir -p "$dir" && cp -R "solutions/$slug" "$dir/"
	patch -s -p1 -d "$dir/$slug" <"tests/variants/$slug/$v.patch" || not_ok "variant patch $v applies"
	TAP=1 FILTER=$filter OUT=$dir-build scripts/check "$slug" "$dir" >"$dir.txt" 2>&1
	failed=$(grep -c '^not ok ' "$dir.txt")
	found=$(grep -cE -- "$want" "$dir.txt")
	[ "$failed" -ge 1 ] || problems+=("want at least 1 test failed, got $failed")
	[ "$found" -ge "$failed" ] || problems+=("want each of the $failed failures to say /$want/, $found do")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "$slug/$v ($what): each failure ends on the proof and says so"
	else
		not_ok "$slug/$v ($what): each failure ends on the proof and says so" "${problems[@]}"
		details "$dir.txt"
	fi
}

if lesson_wanted 02-tcp-server; then
	lesson_02
else
	printf 'skip - lesson 02 not run: LESSONS="%s" leaves it out\n' "$LESSONS"
fi
if lesson_wanted 05-udp-client; then
	proof_case 05-udp-client no-retry 'nobody answering' \
		'every program left sleeps with nothing to wake it: no more can come' "a client that never sends again"
else
	printf 'skip - lesson 05 not run: LESSONS="%s" leaves it out\n' "$LESSONS"
fi
if lesson_wanted 07-chat-loop; then
	lesson_07_spin
else
	printf 'skip - lesson 07 not run: LESSONS="%s" leaves it out\n' "$LESSONS"
fi
if lesson_wanted 11-events; then
	# T_SPIN=1: the same proof at a third of the CPU it burns by default.
	T_SPIN=1 proof_case 11-events pollhup-ignored '^poll: after -n COUNT clients' \
		'got: still running after [0-9]+s, and [a-z]+ spins' "a server under valgrind that spins on POLLHUP"
else
	printf 'skip - lesson 11 not run: LESSONS="%s" leaves it out\n' "$LESSONS"
fi
exit 0
