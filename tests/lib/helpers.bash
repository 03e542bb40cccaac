# tests/lib/helpers.bash - what every lesson's suite uses.
#
# Load it first in a suite:   load lib/helpers
#
# scripts/check sets, before bats starts:
#   BIN_DIR    the programs under test, built with ASan+UBSan
#   PLAIN_DIR  the same programs without sanitizers (valgrind, RSS figures)
#   TSAN_DIR   the same with ThreadSanitizer (only for lessons using threads)
#   TOOLS_DIR  the test peers from tests/lib/*.c (tcpeer, ...)
#   LESSON     the lesson's slug, e.g. 02-tcp-server
#   CHAPTER    the chapter's path, e.g. lessons/02-tcp-server/README.md
#
# The rules these helpers keep, so that no suite hangs or flakes:
#   - every process a test starts runs under `timeout -k`, in its own process
#     group, with bats' fd 3 closed, stdout and stderr in files;
#   - readiness is a line the program prints, waited for with a deadline,
#     never a sleep; a program that dies first fails the test at once;
#   - teardown kills and reaps every process the test started, even one that
#     ignores SIGTERM, forked, or left its process group.

# _load_bats_library NAME: what bats_load_library NAME does, without its
# cost: the libraries' load.bash run $(dirname ...) for each file they source,
# 16 processes in every test (bats reads a suite again for each test). Here
# the same files, in the same order, are sourced from the list in load.bash;
# a load.bash with any other kind of line is left to bats_load_library.
_load_bats_library() {
	local dir line files=()
	for dir in ${BATS_LIB_PATH//:/ }; do
		[ -f "$dir/$1/load.bash" ] || continue
		while IFS= read -r line; do
			# shellcheck disable=SC2016 # the text of the line, not an expansion
			case $line in
			'source "$(dirname "${BASH_SOURCE[0]}")/'*'.bash"')
				line=${line#*\)/} files+=("$dir/$1/${line%\"}") ;;
			'' | '#'*) ;;
			*) bats_load_library "$1"; return ;;
			esac
		done <"$dir/$1/load.bash"
		for line in "${files[@]}"; do
			# shellcheck source=/dev/null
			source "$line" || return 1
		done
		return 0
	done
	bats_load_library "$1"
}
_load_bats_library bats-support
_load_bats_library bats-assert


: "${BIN_DIR:?run the suites through 'make check LESSON=NN' (BIN_DIR is not set)}"
: "${TOOLS_DIR:?run the suites through 'make check LESSON=NN' (TOOLS_DIR is not set)}"
: "${CHAPTER:=lessons/$LESSON/README.md}"

# Seconds to wait for a line a program should print, and the hard limit on
# any process's life. Generous: a loaded machine and ASan are slow, and a
# passing program never waits this long.
T_LINE=${T_LINE:-10}
# A program under test that uses T_SPIN seconds of CPU while a test waits for
# its line or its exit spins: the wait ends there (see _spin_check).
T_SPIN=${T_SPIN:-3}
_CLK_TCK=
T_PROC=${T_PROC:-60}
# The largest file (KiB) a program under test (or a test peer) may write, its
# stdout and stderr included: the kernel refuses every byte past it, so a
# program that prints endlessly dies of SIGXFSZ there (or, ignoring the
# signal, gets EFBIG), and neither the disk nor the memory of the helpers that
# read the file grows with what it printed. This is the cap at the source:
# stdout and stderr stay files, not pipes, so a line a program flushed is in
# its file before the program's next move on the network (the tests rely on
# that order). 8 MiB: the largest stream a test reads is 4 MiB. A suite whose
# programs write bigger files (09, 10) raises it.
T_FSIZE=${T_FSIZE:-8192}

# ASan/UBSan/TSan: report to stderr, fail with a status the tests can see.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:exitcode=86:second_deadlock_stack=1}

# ---------------------------------------------------------------------------
# Hints: say what to read when a test fails.

# hint SECTION TEXT: if this test fails, end its report with TEXT and a pointer
# to the chapter section SECTION.
hint() {
	TEST_HINT_SECTION=$1
	TEST_HINT_TEXT=$2
}

print_hint() {
	local todo
	[ -n "${TEST_HINT_TEXT:-}" ] || return 0
	printf 'hint: %s\n' "$TEST_HINT_TEXT"
	printf 'read: %s, section "%s"\n' "$CHAPTER" "$TEST_HINT_SECTION"
	todo=$(todo_for_section "$TEST_HINT_SECTION")
	[ -z "$todo" ] || printf 'todo: %s\n' "$todo"
}

# todo_for_section SECTION: which TODO of the lesson's skeleton the hint is
# about, as "TODO 4 in greeter.c" (or "TODO 2 or 4 in greeter.c"): the TODO
# comments (lessons/$LESSON/*.c) that name SECTION in quotes, as every TODO
# names the sections that explain it. Nothing if none does. The skeleton is
# the map even when another copy is graded: its TODOs are what the student
# has in front of them. The mapping is tests/lib/todo-for-section.awk, which
# scripts/hint runs too.
todo_for_section() {
	local dir=$BATS_TEST_DIRNAME/../lessons/$LESSON
	[ -n "$1" ] && [ -d "$dir" ] || return 0
	awk -v section="$1" -f "$BATS_TEST_DIRNAME/lib/todo-for-section.awk" "$dir"/*.c 2>/dev/null
}

# fail_with SUMMARY EXPECTED GOT: fail the test, showing both sides. If a
# server of the test is no longer running, that comes first (what_happened).
fail_with() {
	local summary=$1 expected=$2 got=$3
	[ -n "$got" ] || got='(nothing)'
	# A report stays readable whatever the program printed.
	[ ${#expected} -le 4000 ] || expected="${expected:0:4000}... (${#expected} characters in all)"
	[ ${#got} -le 4000 ] || got="${got:0:4000}... (${#got} characters in all)"
	_collect_servers
	{
		what_happened
		batslib_print_kv_single_or_multi 8 expected "$expected" got "$got"
	} | batslib_decorate "$summary" | _text | fail
}

# _text: standard input as valid UTF-8 text (tests/lib/printable: control
# characters and bytes that are not UTF-8 become \xNN), for every report.
_text() {
	if [ -x "$TOOLS_DIR/printable" ]; then
		"$TOOLS_DIR/printable"
	else
		LC_ALL=C tr -c '\n\t -~' '?'
	fi
}

# out_text NAME, err_text NAME: NAME's stdout (stderr) as text for a report
# or a comparison with a line: valid UTF-8 (see _text), no NUL byte for bash
# to warn about, the trailing newline dropped as $(cat) does.
out_text() { _text <"$(out "$1")"; }
err_text() { _text <"$(err "$1")"; }

# describe_status STATUS: what an exit status (from wait, run_bounded or
# wait_exit: "timeout" or a number) says happened, in words.
describe_status() {
	local s=$1 sig
	case $s in
	timeout) printf 'was still running at its time limit (killed)' ;;
	abandoned | spins) printf 'was stopped before its time limit, since the outcome was known: %s' "$CLIENT_WHY" ;;
	0) printf 'exited with status 0' ;;
	86) printf 'exited with status 86 (a sanitizer report on its stderr)' ;;
	124) printf 'was still running at its time limit (killed, status 124)' ;;
	153) printf 'was killed by SIGXFSZ (status 153): it wrote more than the %s KiB a program may write here' "$T_FSIZE" ;;
	*)
		if [ "$s" -gt 128 ] 2>/dev/null && sig=$(kill -l $((s - 128)) 2>/dev/null); then
			printf 'was killed by SIG%s (status %s)' "$sig" "$s"
		else
			printf 'exited with status %s' "$s"
		fi ;;
	esac
}

# what_happened: for each program under test started in the background (a
# server) that is no longer running although the test did not end it, a line saying so with its exit status, and its stderr.
# Nothing when every server still runs: a failure report says first what
# happened to the program, before any expected/got or guess.
what_happened() {
	local name
	[ -f "$BATS_TEST_TMPDIR/.tested" ] || return 0
	while read -r name; do
		_is_ended "$name" && continue
		[ -f "$BATS_TEST_TMPDIR/$name.status" ] || continue
		printf 'first: %s is no longer running: it %s.\n' "$name" "$(describe_status "$(cat "$BATS_TEST_TMPDIR/$name.status")")"
		printf -- '--- stdout of %s:\n%s\n' "$name" "$(_tail "$(out "$name")")"
		printf -- '--- stderr of %s:\n%s\n' "$name" "$(_tail "$(err "$name")")"
	done <"$BATS_TEST_TMPDIR/.tested"
}

# _collect_status NAME: if NAME has ended, keep its exit status in
# $BATS_TEST_TMPDIR/NAME.status (once: a second wait would say 127). In the test's own
# shell, not in $(...): only the shell that started NAME can wait for it.
_collect_status() {
	local status=0
	[ -f "$BATS_TEST_TMPDIR/$1.status" ] && return 0
	is_running "$1" && return 0
	wait "$(pid_of "$1")" 2>/dev/null || status=$?
	printf '%s\n' "$status" >"$BATS_TEST_TMPDIR/$1.status"
}

# _collect_servers: _collect_status for every program under test that the
# test started in the background (start: it has a pid file) and did not end.
# (A server that exits at once after its listening line is never registered
# in .servers: this is why all of them are looked at.)
_collect_servers() {
	local name
	[ -f "$BATS_TEST_TMPDIR/.tested" ] || return 0
	while read -r name; do
		[ -f "$BATS_TEST_TMPDIR/$name.pid" ] || continue
		_is_ended "$name" || _collect_status "$name"
	done <"$BATS_TEST_TMPDIR/.tested"
	return 0
}

# server_exit_status NAME: the status kept by _collect_status.
server_exit_status() { cat "$BATS_TEST_TMPDIR/$1.status" 2>/dev/null || echo unknown; }

# ---------------------------------------------------------------------------
# Starting and stopping programs.

# _limit_file_size: lower this shell's file-size limit to T_FSIZE KiB. Never
# raises it: a grader may run the whole suite under a tighter limit.
# (The limit the suite started with is read once, here: $(ulimit -f) in every
# start would cost a fork each.)
_FSIZE_AT_START=$(ulimit -f)
_limit_file_size() {
	if [ "$_FSIZE_AT_START" = unlimited ] || [ "$_FSIZE_AT_START" -gt "$T_FSIZE" ]; then
		ulimit -f "$T_FSIZE"
	fi
}

# The test's own directory. The helpers write $BATS_TEST_TMPDIR itself: every
# $(...) forks the shell, which for a shell holding bats and these helpers
# is most of what a test costs. (The same goes for the functions below that
# read a file with read, not cat, and /proc, not ps or pgrep.)
_dir() { printf '%s\n' "$BATS_TEST_TMPDIR"; }

# start NAME [--stdin FILE] [--timeout S] [--] CMD ARGS...
# Run CMD in the background as NAME: stdout in $(out NAME), stderr in
# $(err NAME), stdin from FILE (default /dev/null), killed after S seconds.
start() {
	local name=$1 stdin=/dev/null limit=$T_PROC
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--stdin) stdin=$2; shift 2 ;;
		--timeout) limit=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	# timeout(1) makes itself a process group leader, so its pid names the
	# group of the program and of anything the program forks.
	(
		_limit_file_size
		WORKBOOK_TEST_MARK=$BATS_TEST_TMPDIR exec timeout -k 2 "$limit" "$@"
	) <"$stdin" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" 3>&- &
	printf '%s\n' $! >"$BATS_TEST_TMPDIR/$name.pid"
	printf '%s\n' $! >>"$BATS_TEST_TMPDIR/.pids"
	_now_ms >"$BATS_TEST_TMPDIR/$name.t0"
	_note_under_test "$name" "$@"
}

# busy_note NAME: the line of a wait that ended on a spin (_spin_note); else a
# line saying NAME spins, if it has used more than a second
# of CPU time (and 3% of the time since it started) while the test waited for
# it: a loop around a call that returns at once, such as poll() reporting
# POLLHUP that nobody handles. Nothing otherwise. (An absolute figure: on a
# loaded machine a spinning program gets only a small share of a CPU.)
busy_note() {
	local pid elapsed cpu_ms t0
	# A wait that ended on a spin (_spin_check) says so, with its figures.
	if [ -n "${SPIN_NAME:-}" ]; then
		_spin_note
		return 0
	fi
	pid=$(prog_pid "$1") && [ -n "$pid" ] || return 0
	_cpu_ticks "$pid" || return 0
	[ -n "$_CLK_TCK" ] || _CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
	t0=$((${EPOCHREALTIME/[.,]/} / 1000))
	{ read -r t0 <"$BATS_TEST_TMPDIR/$1.t0"; } 2>/dev/null
	elapsed=$(($((${EPOCHREALTIME/[.,]/} / 1000)) - t0))
	cpu_ms=$((TICKS * 1000 / _CLK_TCK))
	[ "$cpu_ms" -ge 1000 ] && [ $((cpu_ms * 100)) -ge $((elapsed * 3)) ] || return 0
	printf 'note: %s used %s.%s s of CPU in %s s while the test waited: if it had nothing to do, it spins in a loop (a call that returns at once, e.g. poll() reporting POLLHUP or an error that is not handled)\n' \
		"$1" $((cpu_ms / 1000)) $((cpu_ms % 1000 / 100)) $((elapsed / 1000))
}

# tcp_port_note PORT: what the kernel holds and counted, for a report where a
# connection to PORT failed while its server still ran (a refused or lost
# connection the test cannot explain by the program alone): every TCP socket
# on PORT with its state (ss), the listen-queue and reset counters of this
# network namespace (nstat), and the packets the machine's backlog dropped
# (loopback traffic goes through it: /proc/net/softnet_stat, second column).
tcp_port_note() {
	local port=$1 drops=0 _ d rest
	if command -v ss >/dev/null 2>&1; then
		printf -- '--- TCP sockets on port %s (ss -tan):\n' "$port"
		ss -tanH "( sport = :$port or dport = :$port )" 2>&1 | head -n 40
	fi
	if command -v nstat >/dev/null 2>&1; then
		printf -- '--- counters (nstat):\n'
		nstat -asz TcpExtListenOverflows TcpExtListenDrops TcpExtTCPTimeWaitOverflow \
			TcpExtTWRecycled TcpExtTCPAbortOnData TcpExtTCPAbortOnClose TcpOutRsts \
			TcpAttemptFails TcpExtTCPChallengeACK 2>&1 | grep -v '^#'
	fi
	while read -r _ d rest; do drops=$((drops + 16#$d)); done </proc/net/softnet_stat 2>/dev/null
	printf 'packets dropped by the backlog since boot (all namespaces): %s\n' "$drops"
}

# Spinning. A wait for a line or an exit ends at its deadline when the event
# never comes; for a program that spins (a loop around a call that returns at
# once) that costs the whole deadline, and a CPU all along. So a wait also
# ends once a program under test has used T_SPIN seconds of CPU since the
# wait began: a correct program waiting for input sleeps, and none of the
# lessons' programs needs that much CPU to print a line or to exit. Programs
# run by valgrind get three times as much: it is slow by design, and its
# start-up alone costs a second or two of CPU (a spinning server under
# valgrind used to hold a test for its whole 60-s wait). A wait calls _spin_reset as it begins and _spin_check in
# its loop; the first check notes where each program stands (so a wait that
# ends at its first look costs nothing), the next ones look twice a second.
_spin_reset() { _SPIN_T0= SPIN_NAME=; }
_spin_begin() {
	local name pid
	_SPIN_NAMES=() _SPIN_PIDS=() _SPIN_TICKS=() _SPIN_LIMITS=() _SPIN_T0=${EPOCHREALTIME/[.,]/} _SPIN_LAST=${EPOCHREALTIME/[.,]/}
	[ -n "$_CLK_TCK" ] || _CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
	[ -f "$BATS_TEST_TMPDIR/.tested" ] || return 0
	while IFS= read -r name; do
		pid=$(prog_pid "$name")
		[ -n "$pid" ] && _cpu_ticks "$pid" || continue
		_SPIN_NAMES+=("$name") _SPIN_PIDS+=("$pid") _SPIN_TICKS+=("$TICKS")
		# valgrind: three times the CPU (see above).
		if [ -e "$BATS_TEST_TMPDIR/$name.slow" ]; then
			_SPIN_LIMITS+=($((3 * T_SPIN * 1000)))
		else
			_SPIN_LIMITS+=($((T_SPIN * 1000)))
		fi
	done <"$BATS_TEST_TMPDIR/.tested"
}

# _task_state TASK: STATE, the one-letter state (S asleep, R running...) of
# the task or process whose /proc directory is TASK, by bash alone.
_task_state() {
	local stat
	{ read -r stat <"$1/stat"; } 2>/dev/null || return 1
	STATE=${stat##*) } STATE=${STATE%% *}
}

# _cpu_ticks PID: TICKS, the CPU time (user + system, every thread) PID has
# used, in clock ticks; read by bash alone. 1 if PID is gone.
_cpu_ticks() {
	local stat f
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -r -a f <<<"${stat##*) }"
	TICKS=$((f[11] + f[12]))
}

# _spin_check: 0 if a program noted by _spin_begin has used T_SPIN seconds
# of CPU since; SPIN_NAME, SPIN_CPU ("3.1") and SPIN_WALL (whole seconds)
# then say which, how much and in how long.
_spin_check() {
	local now=${EPOCHREALTIME/[.,]/} i ms
	[ -n "${_SPIN_T0:-}" ] || { _spin_begin; return 1; }
	[ $((now - _SPIN_LAST)) -ge 500000 ] || return 1
	_SPIN_LAST=$now
	for i in "${!_SPIN_PIDS[@]}"; do
		_cpu_ticks "${_SPIN_PIDS[i]}" || continue
		ms=$(((TICKS - _SPIN_TICKS[i]) * 1000 / _CLK_TCK))
		if [ "$ms" -ge "${_SPIN_LIMITS[i]}" ]; then
			SPIN_NAME=${_SPIN_NAMES[i]}
			SPIN_CPU=$((ms / 1000)).$((ms % 1000 / 100))
			SPIN_WALL=$(((now - _SPIN_T0) / 1000000))
			return 0
		fi
	done
	return 1
}

# _spin_note: the line a failure report gives when a wait ended on a spin.
_spin_note() {
	printf 'note: %s used %s s of CPU in the %s s the test waited: it spins in a loop (a call that returns at once, e.g. poll() reporting POLLHUP, or recv() returning 0 or an error, that is not handled), so the wait ended there\n' \
		"$SPIN_NAME" "$SPIN_CPU" "$SPIN_WALL"
}

out() { printf '%s/%s.out\n' "$BATS_TEST_TMPDIR" "$1"; }
err() { printf '%s/%s.err\n' "$BATS_TEST_TMPDIR" "$1"; }
pid_of() {
	local pid
	{ read -r pid <"$BATS_TEST_TMPDIR/$1.pid"; } 2>/dev/null || return 1
	printf '%s\n' "$pid"
}

# children PID: the pids of PID's children, from /proc (pgrep where the
# kernel does not list them there).
children() {
	local k
	_kids "$1" || { pgrep -P "$1"; return 0; }
	for k in $KIDS; do printf '%s\n' "$k"; done
}

# _kids PID: KIDS, the pids of PID's children on one line, from
# /proc/PID/task/*/children, by bash alone (no fork, for the polling
# proofs). Fails where the kernel does not list them.
_kids() {
	local f kids
	KIDS=''
	for f in /proc/"$1"/task/*/children; do
		[ -r "$f" ] || return 1
		kids=''
		# (The list has no newline at its end: read says "end of file".)
		{ read -r kids <"$f" || :; } 2>/dev/null
		KIDS+="$kids "
	done
}

# prog_pid NAME: the pid of the program itself (the child of timeout).
prog_pid() {
	local pid kids
	{ read -r pid <"$BATS_TEST_TMPDIR/$1.pid"; } 2>/dev/null || return 0
	kids=$(children "$pid")
	printf '%s\n' "${kids%%$'\n'*}"
}

is_running() {
	local pid
	{ read -r pid <"$BATS_TEST_TMPDIR/$1.pid"; } 2>/dev/null && kill -0 "$pid" 2>/dev/null
}

# _tail FILE: the last lines of FILE, for failure reports, as text (_text),
# after a line saying how much was written when that is more than is shown,
# and how much of it is not text.
_tail() {
	# Bounded: a file may be one endless line.
	if [ -s "$1" ]; then
		_capture_note "$1"
		tail -c 4096 "$1" | tail -n 15 | cut -c 1-300 | _text
	else
		printf '(empty)'
	fi
	# A stderr file shown whole here need not be shown again after the test.
	case $1 in
	*.err) [ -s "$1" ] && [ "$(wc -c <"$1")" -le 4096 ] && [ "$(wc -l <"$1")" -le 15 ] &&
		printf '%s\n' "$1" >>"$BATS_TEST_TMPDIR/.shown" ;;
	esac
	return 0
}

# _capture_note FILE: a line saying what FILE (a program's stdout or stderr)
# holds when it is more than a report shows: its size, whether it reached the
# T_FSIZE cap (the program was stopped there), and how much of it is not text.
_capture_note() {
	local size total bad what
	size=$(wc -c <"$1" 2>/dev/null) || return 0
	read -r total bad < <(head -c 1048576 "$1" | "$TOOLS_DIR/printable" --count 2>/dev/null)
	what="$(_size_words "$size")"
	[ "$size" -ge $((T_FSIZE * 1024)) ] &&
		what="at least $what (the cap: the kernel refused the rest)"
	if [ -n "$bad" ] && [ "$bad" -gt 0 ] && [ $((bad * 10)) -ge "$total" ]; then
		printf '(%s in all, not text: %s of its first %s are not printable; shown as \\xNN)\n' \
			"$what" "$bad" "$(_size_words "$total")"
	elif [ -n "$bad" ] && [ "$bad" -gt 0 ]; then
		printf '(%s in all, %s bytes of them not printable, shown as \\xNN)\n' "$what" "$bad"
	elif [ "$size" -gt 4096 ]; then
		printf '(%s in all; the end of it:)\n' "$what"
	fi
}

# _size_words BYTES: "N bytes", or "N.N MiB" / "N KiB" when large.
_size_words() {
	if [ "$1" -ge 1048576 ]; then
		printf '%s.%s MiB' $(($1 / 1048576)) $(($1 % 1048576 * 10 / 1048576))
	elif [ "$1" -ge 10240 ]; then
		printf '%s KiB' $(($1 / 1024))
	else
		printf '%s bytes' "$1"
	fi
}

# nap SECONDS: sleep without starting a process: a read, with a time limit,
# from a named pipe nobody writes to (the polling loops here wait this way
# dozens of times a test, and each sleep(1) is a fork and an exec).
nap() {
	local pipe=$BATS_TEST_TMPDIR/.nap
	[ -p "$pipe" ] || mkfifo "$pipe" 2>/dev/null || { sleep "$1"; return 0; }
	read -r -t "$1" _ <>"$pipe" || :
}

# poll_nap T0: the pause between two looks of a polling wait that began at
# T0 (microseconds, ${EPOCHREALTIME/[.,]/}): 20 ms for its first half
# second, when most lines and exits come, then longer as the wait goes on,
# up to 200 ms from 5 s. A look is a grep or a read of /proc and some bash:
# at 20 ms all along, a wait that runs to its deadline (a failing test) cost
# a tenth of a CPU second for every second it waited, and two thirds of a
# suite's CPU went to bash (docs/DECISIONS.md, "The fifth round").
poll_nap() {
	local ms=$(((${EPOCHREALTIME/[.,]/} - $1) / 25000))
	[ "$ms" -ge 20 ] || ms=20
	[ "$ms" -le 200 ] || ms=200
	printf -v ms '0.%03d' "$ms"
	nap "$ms"
}

# _now_ms: milliseconds since the epoch, from bash alone.
_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	printf '%s\n' $((t / 1000))
}

# wait_line [--before-accept] NAME REGEX [SECONDS]: wait until NAME's stdout
# has a line matching the extended REGEX; the line is left in $LINE. Fails at
# once if NAME exits first, and after SECONDS (default T_LINE) otherwise.
# --before-accept: the line comes before the program waits for its first
# client (the listening line), so a program found waiting in accept() without
# it will not print it (_accept_proof): the wait fails then, not at SECONDS.
wait_line() {
	local before_accept=
	[ "$1" != --before-accept ] || { before_accept=1; shift; }
	local name=$1 re=$2 secs=${3:-$T_LINE} file deadline t0=${EPOCHREALTIME/[.,]/}
	file=$(out "$name")
	deadline=$((t0 / 1000 + secs * 1000))
	_spin_reset
	_accept_proof_reset
	_deadlock_proof_reset
	while :; do
		if LINE=$(grep -m 1 -aE -- "$re" "$file"); then
			return 0
		fi
		if ! is_running "$name"; then
			# One more look: the line may have come just before the exit.
			LINE=$(grep -m 1 -aE -- "$re" "$file") && return 0
			_collect_status "$name"
			_fail_line "$name" "$re" "$name $(describe_status "$(server_exit_status "$name")") before printing it"
			return 1
		fi
		if [ "$((${EPOCHREALTIME/[.,]/} / 1000))" -ge "$deadline" ]; then
			_fail_line "$name" "$re" "no such line after ${secs}s"
			return 1
		fi
		if _spin_check; then
			LINE=$(grep -m 1 -aE -- "$re" "$file") && return 0
			_fail_line "$name" "$re" "no such line after ${SPIN_WALL}s, and $SPIN_NAME spins"
			return 1
		fi
		if _deadlock_proof "$t0"; then
			LINE=$(grep -m 1 -aE -- "$re" "$file") && return 0
			_fail_line "$name" "$re" "no such line after $(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms, and nothing can make one come: $DEADLOCK_WHY"
			return 1
		fi
		if [ -n "$before_accept" ] && _accept_proof "$name" "$t0"; then
			LINE=$(grep -m 1 -aE -- "$re" "$file") && return 0
			_fail_line "$name" "$re" "no such line after $(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms, and $name already waits in accept() for a client: it will print nothing more until one comes (a line printed to a file, not a terminal, stays in stdio's buffer until fflush(stdout))"
			return 1
		fi
		poll_nap "$t0"
	done
}

# Deadlocks. A suite whose programs set no timer of their own (no
# SO_RCVTIMEO, alarm() or timerfd: nothing /proc shows) sets DEADLOCK_PROOF=1,
# and its waits for a line or an exit then also end once the test is
# deadlocked (_deadlock_proof): every program the test started, helpers
# included, sleeps in a call with no timeout (_sleeps_for_good), no TCP
# bytes are in flight, and the test itself is waiting. Nothing can then
# happen: the chat that takes turns, each side waiting for the other, is
# the model. Four looks 0.25 s apart, from 0.5 s into the wait, with no CPU
# used in between, so that a program just woken (or data on its way through
# the loopback device) is not taken for a stuck one.
_deadlock_proof_reset() { _DEADLOCK_LOOKS=0 _DEADLOCK_LAST=0 _DEADLOCK_TICKS='' DEADLOCK_WHY=''; }
_deadlock_proof() {
	local now=${EPOCHREALTIME/[.,]/}
	[ "${DEADLOCK_PROOF:-}" = 1 ] || return 1
	[ $((now - $1)) -ge 500000 ] && [ $((now - _DEADLOCK_LAST)) -ge 250000 ] || return 1
	_DEADLOCK_LAST=$now
	if _all_sleep_for_good && _nothing_in_flight &&
		[ "$_DEADLOCK_CPU" = "${_DEADLOCK_TICKS:-$_DEADLOCK_CPU}" ]; then
		_DEADLOCK_LOOKS=$((_DEADLOCK_LOOKS + 1)) _DEADLOCK_TICKS=$_DEADLOCK_CPU
	else
		_DEADLOCK_LOOKS=0 _DEADLOCK_TICKS=''
	fi
	[ "$_DEADLOCK_LOOKS" -ge 4 ] || return 1
	DEADLOCK_WHY="every program of the test sleeps in a call with no timeout ($(_sleep_calls); the number is the descriptor), with no data in flight: each waits for another (a deadlock)"
}

# _all_sleep_for_good [NAME]: 0 if every program the test started and that
# still runs (the child of each timeout(1) wrapper, $BATS_TEST_TMPDIR/NAME.pid),
# but NAME, sleeps for good; 1 if one does not, 2 if none runs. _DEADLOCK_PIDS and _DEADLOCK_NAMES list them, and
# _DEADLOCK_CPU their CPU ticks, so that a caller can tell none ran in between.
_all_sleep_for_good() {
	local pidfile w k
	_DEADLOCK_PIDS=() _DEADLOCK_NAMES=() _DEADLOCK_CPU=''
	for pidfile in "$BATS_TEST_TMPDIR"/*.pid; do
		[ "$pidfile" != "$BATS_TEST_TMPDIR/${1:-}.pid" ] || continue
		{ read -r w <"$pidfile"; } 2>/dev/null && [ -d "/proc/$w" ] || continue
		_kids "$w" || return 1
		for k in $KIDS; do
			_sleeps_for_good "$k" && _cpu_ticks "$k" || return 1
			_DEADLOCK_CPU+="$TICKS "
			_DEADLOCK_PIDS+=("$k")
			pidfile=${pidfile##*/}
			_DEADLOCK_NAMES+=("${pidfile%.pid}")
		done
	done
	[ ${#_DEADLOCK_PIDS[@]} -gt 0 ] || return 2
}

# _sleeps_for_good PID: every thread of PID sleeps in a system call that has
# no timeout (_untimed_call, from /proc/PID/task/TID/syscall): only another
# program can wake it. Fails for anything else or unknown.
_sleeps_for_good() {
	local task nr a1 a2 a3 a4 a5 rest
	for task in /proc/"$1"/task/*; do
		_task_state "$task" && [ "$STATE" = S ] || return 1
		{ read -r nr a1 a2 a3 a4 a5 rest <"$task/syscall"; } 2>/dev/null || return 1
		_untimed_call "$nr" "$a2" "$a3" "$a4" "$a5" || return 1
	done
}

# _untimed_call NR ARG2 ARG3 ARG4 ARG5: system call NR (of this machine's
# architecture, x86_64 or aarch64), with these arguments as /proc prints
# them, waits with no timeout: a read, write, recv, send or accept
# (blocking), pause, wait, or a poll, select, epoll_wait or futex wait given
# no timeout. Sets CALL to its name. A sleep, a timed wait, or any other
# call fails.
_untimed_call() {
	CALL=
	case $HOSTTYPE:$1 in
	x86_64:0 | aarch64:63) CALL='read' ;;
	x86_64:1 | aarch64:64) CALL='write' ;;
	x86_64:19 | aarch64:65) CALL='readv' ;;
	x86_64:20 | aarch64:66) CALL='writev' ;;
	x86_64:34) CALL='pause' ;;
	x86_64:43 | aarch64:202) CALL='accept' ;;
	x86_64:288 | aarch64:242) CALL='accept4' ;;
	x86_64:44 | aarch64:206) CALL='sendto' ;;
	x86_64:45 | aarch64:207) CALL='recvfrom' ;;
	x86_64:46 | aarch64:211) CALL='sendmsg' ;;
	x86_64:47 | aarch64:212) CALL='recvmsg' ;;
	x86_64:61 | aarch64:260) CALL='wait4' ;;
	x86_64:247 | aarch64:95) CALL='waitid' ;;
	x86_64:130 | aarch64:133) CALL='sigsuspend' ;;
	x86_64:7) _negative_int "$3" && CALL='poll' ;;           # poll(fds, n, timeout)
	x86_64:23) [ "$5" = 0x0 ] && CALL='select' ;;             # no timeval
	x86_64:270 | aarch64:72) [ "$5" = 0x0 ] && CALL='pselect' ;;
	x86_64:271 | aarch64:73) [ "$3" = 0x0 ] && CALL='ppoll' ;; # no timespec
	x86_64:232) _negative_int "$4" && CALL='epoll_wait' ;;
	x86_64:281 | aarch64:22) _negative_int "$4" && CALL='epoll_pwait' ;;
	x86_64:441 | aarch64:441) [ "$4" = 0x0 ] && CALL='epoll_pwait2' ;;
	x86_64:202 | aarch64:98) _futex_untimed "$2" "$4" && CALL='futex' ;;
	esac
	[ -n "$CALL" ]
}
_negative_int() { [ $((16#${1#0x} & 0xffffffff)) -ge 2147483648 ]; }
# FUTEX_WAIT (0) or FUTEX_WAIT_BITSET (9), whatever the private flag, with
# no timeout: a mutex or a condition variable waited on for good.
_futex_untimed() {
	local op=$((16#${1#0x} & 127))
	{ [ "$op" = 0 ] || [ "$op" = 9 ]; } && [ "$2" = 0x0 ]
}

# _nothing_in_flight: no TCP socket of the programs in _DEADLOCK_PIDS holds
# bytes sent but not yet acknowledged (_tcp_table, matched by inode: the
# tests of one suite share a network namespace).
_nothing_in_flight() {
	local inodes i
	inodes=" $(find "${_DEADLOCK_PIDS[@]/#//proc/}" -maxdepth 2 -path '*/fd/*' -lname 'socket:*' -printf '%l ' 2>/dev/null) "
	_tcp_table
	for i in "${!TCP_INODE[@]}"; do
		[ "${TCP_SENDQ[i]}" -eq 0 ] || [[ $inodes != *" socket:[${TCP_INODE[i]}] "* ]] || return 1
	done
}

# _sleep_calls: where each program of the test sleeps, for the report
# ("left: read(0), right: poll"), from _DEADLOCK_PIDS.
_sleep_calls() {
	local i k task nr a1 a2 a3 a4 a5 rest out=''
	for i in "${!_DEADLOCK_PIDS[@]}"; do
		k=${_DEADLOCK_PIDS[i]}
		for task in /proc/"$k"/task/*; do
			{ read -r nr a1 a2 a3 a4 a5 rest <"$task/syscall"; } 2>/dev/null || continue
			_untimed_call "$nr" "$a2" "$a3" "$a4" "$a5" || CALL='?'
			case $CALL in read | readv | write | writev | recvfrom | recvmsg | sendto | sendmsg | accept | accept4)
				CALL+="($((16#${a1#0x})))" ;;
			esac
			out+="${out:+, }${_DEADLOCK_NAMES[i]}: $CALL"
		done
	done
	printf '%s' "$out"
}

# _accept_proof NAME T0: 0 once NAME's program, in a wait that began at T0
# (microseconds), is seen waiting in accept() (_waits_in_accept) on three looks
# at least 0.1 s apart, from 0.3 s into the wait on. Every thread asleep in
# accept() means nothing happens in the program until a client connects, and
# no client can before the program has announced its port. Three looks, not
# one, so that a program seen there just before a signal woke it is not
# taken for a stuck one. _accept_proof_reset begins a new wait.
_accept_proof_reset() { _ACCEPT_PID='' _ACCEPT_LOOKS=0 _ACCEPT_LAST=0; }
_accept_proof() {
	local now=${EPOCHREALTIME/[.,]/}
	[ $((now - $2)) -ge 300000 ] && [ $((now - _ACCEPT_LAST)) -ge 100000 ] || return 1
	_ACCEPT_LAST=$now
	[ -n "$_ACCEPT_PID" ] || _ACCEPT_PID=$(prog_pid "$1")
	if [ -n "$_ACCEPT_PID" ] && _waits_in_accept "$_ACCEPT_PID"; then
		_ACCEPT_LOOKS=$((_ACCEPT_LOOKS + 1))
	else
		_ACCEPT_LOOKS=0
	fi
	[ "$_ACCEPT_LOOKS" -ge 3 ]
}

_fail_line() {
	local name=$1 re=$2 why=$3
	{
		printf 'expected a line matching: %s\n' "$re"
		printf 'got: %s\n' "$why"
		printf -- '--- stdout of %s:\n%s\n' "$name" "$(_tail "$(out "$name")")"
		printf -- '--- stderr of %s:\n%s\n' "$name" "$(_tail "$(err "$name")")"
		busy_note "$name"
	} | batslib_decorate "$name did not print the line the test waits for" | _text | fail
}

# wait_listening NAME [SECONDS]: wait for "listening on ADDR:PORT"; sets
# LISTEN_ADDR and PORT from it. SECONDS as for wait_line (valgrind and TSan
# start slowly on a loaded machine).
wait_listening() {
	wait_line --before-accept "$1" '^listening on .+:[0-9]+$' "${2:-$T_LINE}" || return 1
	LISTEN_ADDR=${LINE#listening on }
	PORT=${LISTEN_ADDR##*:}
	LISTEN_ADDR=${LISTEN_ADDR%:*}
	_register_server "$1"
}

# start_server NAME [start options] [--] CMD ARGS...: start and wait for the
# listening line (PORT is set).
start_server() {
	start "$@"
	wait_listening "$1"
}

# listening_ports NAME: the TCP ports NAME's program listens on now, one a
# line (from its descriptors and /proc/PID/net/tcp{,6}); nothing if it is gone.
# For hints that guess a cause only from what is there to see.
listening_ports() {
	local pid inodes
	pid=$(prog_pid "$1") && [ -n "$pid" ] || return 0
	inodes=$(for fd in /proc/"$pid"/fd/*; do readlink "$fd" 2>/dev/null; done |
		sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	[ -n "$inodes" ] || return 0
	cat /proc/"$pid"/net/tcp /proc/"$pid"/net/tcp6 2>/dev/null |
		awk -v inodes=" $inodes" '$4 == "0A" && index(inodes, " " $10 " ") {
			n = split($2, a, ":"); print a[n] }' |
		while read -r hex; do printf '%s\n' $((16#$hex)); done | sort -un
}

# swapped_port PORT: PORT with its two bytes swapped, what bind() gets when
# htons() is missing on a little-endian machine.
swapped_port() { printf '%s\n' $((($1 & 255) << 8 | ($1 >> 8))); }

# need_dual_stack: skip the test unless an IPv6 socket bound to :: also takes
# IPv4 connections (as v4-mapped peers, ::ffff:127.0.0.1), the Linux default.
need_dual_stack() {
	[ "$(cat /proc/sys/net/ipv6/bindv6only 2>/dev/null)" = 0 ] ||
		skip "this machine's IPv6 sockets are IPv6-only (net.ipv6.bindv6only is not 0)"
}

# mapped ADDR:PORT: how a dual-stack server names an IPv4 peer,
# [::ffff:ADDR]:PORT.
mapped() {
	printf '[::ffff:%s]:%s\n' "${1%:*}" "${1##*:}"
}

# private_net ADDR...: make a private network namespace whose loopback also
# holds each IPv6 ADDR (long ones, such as a ULA, which the machine's own
# loopback lacks), held open by a process named "netns"; IN_NET is then the
# prefix that runs a command inside it: "${IN_NET[@]}" CMD ARGS. No packet
# can leave that namespace. Skips the test where the machine cannot make
# one (unprivileged user namespaces disabled).
private_net() {
	local script='ip link set lo up' addr
	for addr in "$@"; do
		script+=" && ip addr add $addr/128 dev lo nodad"
	done
	unshare -rn true 2>/dev/null || skip "no private network namespace here (unshare -rn fails)"
	start netns -- unshare -rn sh -c "$script && echo ready && exec sleep $T_PROC"
	wait_line netns '^ready$' || return 1
	# shellcheck disable=SC2034 # used by the suites
	IN_NET=(nsenter -t "$(prog_pid netns)" -U -n --preserve-credentials)
}

# random_port: a port from a range the kernel does not hand out on its own
# (Linux's ephemeral range starts at 32768), so clashes are rare.
# Never one whose two bytes are equal (0x5A5A, 23130): it reads the same
# in either byte order, and would hide a missing htons() or ntohs().
random_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 12000))
		[ $((port >> 8)) -ne $((port & 255)) ] && break
	done
	printf '%s\n' "$port"
}

# start_server_on_port NAME [start options] [--] CMD ARGS...
# Start a server on a chosen, non-zero port: every argument equal to @PORT@ is
# replaced by that port. Binding port 0 would hide a missing htons(), since
# htons(0) == 0. Retries with another port when the chosen one is taken.
# Sets PORT to the chosen port (not to what the server says: that is for the
# test to check).
start_server_on_port() {
	local name=$1 try port arg args
	shift
	for try in 1 2 3 4 5 6 7 8; do
		port=$(random_port)
		args=()
		for arg in "$@"; do
			[ "$arg" = @PORT@ ] && arg=$port
			args+=("$arg")
		done
		start "$name" "${args[@]}"
		if wait_line --before-accept "$name" '^listening on ' 2>/dev/null >/dev/null; then
			wait_listening "$name"
			PORT=$port
			return 0
		fi
		grep -q 'Address already in use' "$(err "$name")" || break
	done
	wait_listening "$name" # fails, with the server's stderr shown
}

# wait_until [--while NAME] [--idle SERVER] SECONDS CMD ARGS...: run CMD
# until it succeeds, polling; return 1 after SECONDS, or at once if NAME
# (with --while) has exited. With --idle, also give up (status 2) once every
# thread of SERVER sleeps in accept() on three looks in a row: for a caller
# whose clients have all ended, nothing is left that could make CMD succeed
# (a student's server that serves without logging ends the wait there, not
# at its deadline). The caller reports the failure: it knows what it waited for.
wait_until() {
	local name='' idle='' secs deadline quiet=0 t0=${EPOCHREALTIME/[.,]/}
	while :; do
		case $1 in
		--while) name=$2 ;;
		--idle) idle=$2 ;;
		*) break ;;
		esac
		shift 2
	done
	secs=$1
	shift
	deadline=$(($((${EPOCHREALTIME/[.,]/} / 1000)) + secs * 1000))
	until "$@"; do
		if [ -n "$name" ] && ! is_running "$name"; then
			"$@"
			return
		fi
		if [ -n "$idle" ] && is_running "$idle" && _waits_in_accept "$(prog_pid "$idle")"; then
			quiet=$((quiet + 1))
			if [ $quiet -ge 3 ]; then
				"$@" && return 0
				return 2
			fi
			nap 0.1
			continue
		fi
		quiet=0
		[ "$((${EPOCHREALTIME/[.,]/} / 1000))" -lt "$deadline" ] || return 1
		poll_nap "$t0"
	done
}

# wait_exit [--wakes MS] NAME [SECONDS]: wait for NAME to end; its exit
# status goes to $STATUS. Fails if it is still running after SECONDS
# (default T_LINE). --wakes MS: NAME was given a timeout, and must wake at
# least once every MS ms (the timeout, with room for a loaded machine); a
# program asleep that long without being run once has no timer that works,
# and the wait fails then (_asleep_ms).
wait_exit() {
	local wakes=''
	[ "$1" != --wakes ] || { wakes=$2; shift 2; }
	local name=$1 secs=${2:-$T_LINE} deadline pid t0=${EPOCHREALTIME/[.,]/} asleep=''
	pid=$(pid_of "$name")
	deadline=$((t0 / 1000 + secs * 1000))
	_spin_reset
	_deadlock_proof_reset
	_asleep_reset
	while is_running "$name"; do
		[ -z "$wakes" ] || ! _asleep_ms "$name" || [ "$ASLEEP_MS" -lt "$wakes" ] || asleep=$ASLEEP_MS
		if [ "$((${EPOCHREALTIME/[.,]/} / 1000))" -ge "$deadline" ] || _spin_check || _deadlock_proof "$t0" || [ -n "$asleep" ]; then
			{
				printf 'expected: %s to exit within %ss\n' "$name" "$secs"
				if [ -n "$SPIN_NAME" ]; then
					printf 'got: still running after %ss, and %s spins\n' "$SPIN_WALL" "$SPIN_NAME"
				elif [ -n "$DEADLOCK_WHY" ]; then
					printf 'got: still running, and nothing can make it exit: %s\n' "$DEADLOCK_WHY"
				elif [ -n "$asleep" ]; then
					printf 'got: still running, asleep for %s ms without waking once, though its timeout should wake it within %s ms: the timeout is not set, or not in the unit it should be\n' "$asleep" "$wakes"
				else
					printf 'got: still running\n'
				fi
				printf -- '--- stdout of %s:\n%s\n' "$name" "$(_tail "$(out "$name")")"
				printf -- '--- stderr of %s:\n%s\n' "$name" "$(_tail "$(err "$name")")"
				busy_note "$name"
			} | batslib_decorate "$name did not exit" | fail
			return 1
		fi
		poll_nap "$t0"
	done
	_reap "$name" "$pid"
}

# _reap NAME PID: NAME (PID, its timeout(1) wrapper) has ended: mark it so
# and put its exit status in STATUS, "timeout" if its time limit killed it.
_reap() {
	_mark_ended "$1"
	STATUS=0
	wait "$2" 2>/dev/null || STATUS=$?
	[ "$STATUS" -ne 124 ] || STATUS=timeout
}

# _asleep_ms NAME: ASLEEP_MS, how long NAME's program has been seen asleep
# (every thread in state S) without being run once in between, by the
# kernel's count of its runs (/proc/PID/task/TID/schedstat, third field):
# a timer that fires wakes the program, and the count moves. Fails while
# that cannot be read. _asleep_reset begins a new wait.
_asleep_reset() { _ASLEEP_PID='' _ASLEEP_RUNS='' _ASLEEP_SINCE=0 ASLEEP_MS=0; }
_asleep_ms() {
	local task line runs=0 now=${EPOCHREALTIME/[.,]/}
	[ -n "$_ASLEEP_PID" ] || _ASLEEP_PID=$(prog_pid "$1")
	[ -n "$_ASLEEP_PID" ] || return 1
	for task in /proc/"$_ASLEEP_PID"/task/*; do
		_task_state "$task" && { read -r line <"$task/schedstat"; } 2>/dev/null || return 1
		[ "$STATE" = S ] || runs=awake
		line=${line##* }
		[ "$runs" = awake ] || runs=$((runs + line))
	done
	if [ "$runs" = awake ] || [ "$runs" != "$_ASLEEP_RUNS" ]; then
		_ASLEEP_RUNS=$runs _ASLEEP_SINCE=$now
	fi
	ASLEEP_MS=$(((now - _ASLEEP_SINCE) / 1000))
}

# stop NAME: end NAME and everything it started, and reap it.
stop() {
	local pid
	pid=$(pid_of "$1") 2>/dev/null || return 0
	_mark_ended "$1"
	{
		kill -KILL -- "-$pid" || kill -KILL "$pid"
		wait "$pid" || true
	} 2>/dev/null
	return 0
}

# paused NAME CMD ARGS...: run CMD while NAME's program is stopped (SIGSTOP),
# then let it go on. Clients that connect and reset (or close) meanwhile are
# all gone before the server first looks at them: the server meets the
# errors of a departed client for certain, not by luck of timing.
paused() {
	local name=$1 pid rc=0
	shift
	pid=$(prog_pid "$name")
	if [ -z "$pid" ] || ! kill -STOP "$pid" 2>/dev/null; then
		fail_with "$name is not running, so the test cannot pause it" "$name running" \
			"it is gone; stderr: $(_tail "$(err "$name")")"
		return 1
	fi
	"$@" || rc=$?
	kill -CONT "$pid"
	return "$rc"
}

# gone_clients --reset|--close N [HOST]: N clients of the server on $PORT
# (at HOST, default 127.0.0.1) that connect and at once reset (SO_LINGER 0)
# or close, without waiting for anything. Run under `paused SERVER`, they
# wait in the accept queue already gone when the server gets to them.
gone_clients() {
	local how=$1 n=$2 host=${3:-127.0.0.1} i
	for i in $(seq "$n"); do
		run_bounded "gone$i" -- "$TOOLS_DIR/tcpeer" connect "$host" "$PORT" "$how"
	done
}

# failing CALL ERRNO [TIMES]: set FAILING to a command prefix under which
# CALL (a FAIL_CALL name of preload-fail.so: accept, getpeername, send...)
# fails with errno number ERRNO, TIMES times (default 1), then works again.
# Prefix a plain build: "${FAILING[@]}" "$PLAIN_DIR/PROG" ARGS. A per-client
# failure the kernel gives only when a race goes one way is then certain.
failing() {
	# shellcheck disable=SC2034 # used by the suites
	FAILING=(env LD_PRELOAD="$TOOLS_DIR/preload-fail.so" FAIL_CALL="$1" FAIL_ERRNO="$2"
		FAIL_TIMES="${3:-1}")
}

# run_bounded NAME [--stdin FILE] [--timeout S] [--] CMD ARGS...
# Run CMD in the foreground, bounded in time, stdout/stderr to files as for
# start; its status goes to $STATUS ("timeout" if it had to be killed).
run_bounded() {
	local name=$1 stdin=/dev/null limit=$T_LINE
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--stdin) stdin=$2; shift 2 ;;
		--timeout) limit=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	_note_under_test "$name" "$@"
	STATUS=0
	# (The braces keep bash's "File size limit exceeded" notice out of the report.)
	{
		(
			_limit_file_size
			WORKBOOK_TEST_MARK=$BATS_TEST_TMPDIR exec timeout -k 2 "$limit" "$@"
		) <"$stdin" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" 3>&-
	} 2>/dev/null || STATUS=$?
	case $STATUS in 124 | 137) STATUS=timeout ;; esac
}

# run_client NAME [--server SERVER] [--timeout S] [--] CMD ARGS...:
# run_bounded for a test tool that is a TCP client of SERVER on $PORT and
# prints "local ADDR:PORT" on stderr once connected (tcpeer does). Its wait
# also ends, before the tool's own idle bound, once the outcome is known:
# STATUS=spins when a program under test spins (_spin_check); with SERVER,
# STATUS=abandoned when SERVER is done with this client without closing its
# connection (_abandoned), when it spins after the client's end of file
# (_spins_after_eof), or, where the suite sets DEADLOCK_PROOF=1, when
# the connection waits in SERVER's accept queue while every other program
# sleeps for good (_never_accepted). CLIENT_WHY then says what was seen,
# and describe_status reports it.
run_client() {
	local name=$1 server='' limit=$T_LINE pid spid='' cport='' looks=0 last=0 now
	local t0=${EPOCHREALTIME/[.,]/}
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--server) server=$2; shift 2 ;;
		--timeout) limit=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	CLIENT_WHY='' _EOF_TICKS=''
	start "$name" --timeout "$limit" -- "$@"
	pid=$(pid_of "$name")
	_spin_reset
	while kill -0 "$pid" 2>/dev/null; do
		if _spin_check; then
			stop "$name"
			STATUS=spins
			CLIENT_WHY="$SPIN_NAME spins: it used $SPIN_CPU s of CPU in the $SPIN_WALL s this client waited (a call that returns at once, such as recv() returning 0, that is not handled)"
			return 0
		fi
		now=${EPOCHREALTIME/[.,]/}
		# A server that serves its client at once is not looked at.
		if [ -n "$server" ] && [ $((now - t0)) -ge 300000 ] && [ $((now - last)) -ge 100000 ]; then
			last=$now
			[ -n "$spid" ] || spid=$(prog_pid "$server")
			[ -n "$cport" ] || cport=$(sed -n 's/^local .*:\([0-9][0-9]*\)$/\1/p' "$(err "$name")")
			if [ -n "$spid" ] && [ -n "$cport" ] && _abandoned "$spid" "$PORT" "$cport"; then
				looks=$((looks + 1))
				CLIENT_WHY="$server went back to accept() and left this client's connection open: it will never end it"
			elif [ -n "$spid" ] && [ -n "$cport" ] && _spins_after_eof "$spid" "$PORT" "$cport"; then
				looks=$((looks + 1))
				CLIENT_WHY="$server spins after this client's end of file: it has read everything, has nothing left to send, and keeps using CPU with the connection in CLOSE-WAIT (recv() returning 0 means the client is done: end the conversation)"
			elif [ -n "$cport" ] && [ "${DEADLOCK_PROOF:-}" = 1 ] && _never_accepted "$PORT" "$cport" "$name"; then
				looks=$((looks + 1))
				CLIENT_WHY="$server never accepted this connection: it waits in the listening queue while every program sleeps with no timeout ($(_sleep_calls))"
			else
				looks=0
			fi
			# Three looks 0.1 s apart with the same finding, as for _accept_proof.
			if [ $looks -ge 3 ]; then
				stop "$name"
				STATUS=abandoned
				return 0
			fi
		fi
		poll_nap "$t0"
	done
	_reap "$name" "$pid"
}

# _spins_after_eof PID PORT CPORT: the server's end of the connection from
# CPORT is in CLOSE-WAIT (the client's FIN has come) with nothing left to
# read or to send, and PID has used at least 30 ms of CPU since the last
# look (0.1 s before, at run_client's pace): a server that has read end of
# file and has nothing to do, yet runs. (A correct one closes at once.)
_spins_after_eof() {
	local before=${_EOF_TICKS:-}
	_cpu_ticks "$1" || return 1
	_EOF_TICKS=$TICKS
	[ -n "$before" ] && [ $((TICKS - before)) -ge $((3 * ${_CLK_TCK:-100} / 100)) ] &&
		_server_end "$2" "$3" && [ "$CONN_STATE" = 08 ] && [ "$CONN_SENDQ" -eq 0 ] && [ "$CONN_RECVQ" -eq 0 ]
}

# _never_accepted PORT CPORT NAME: the server's end of the connection from
# CPORT has no socket inode yet (it waits in the listening socket's queue:
# accept() has not taken it) while every program of the test but the client
# NAME, whose idle bound is the wait itself, sleeps for good
# (_all_sleep_for_good).
_never_accepted() {
	_server_end "$1" "$2" && [ "$CONN_INODE" = 0 ] && _all_sleep_for_good "$3"
}

# _abandoned PID PORT CPORT: the server PID is done with the client whose
# connection goes from port CPORT to PORT, and has not closed it: every
# thread of PID sleeps in accept() (_waits_in_accept), PID has no child
# process (a forked child could be serving the client), and the server's end
# of the connection is still ESTABLISHED with nothing left to send. A server
# that closes (or shuts down) a client's socket moves that end to FIN-WAIT
# in close() itself, before it can be back in accept().
_abandoned() {
	_waits_in_accept "$1" && _kids "$1" && [ -z "${KIDS// /}" ] || return 1
	_server_end "$2" "$3" && [ "$CONN_STATE" = 01 ] && [ "$CONN_SENDQ" -eq 0 ]
}

# _server_end PORT CPORT: CONN_STATE (the kernel's state number in hex, 01 is
# ESTABLISHED, 08 CLOSE-WAIT), CONN_SENDQ (bytes not yet acknowledged),
# CONN_RECVQ (bytes not yet read) and CONN_INODE (0 while no process holds
# it: not yet accepted) of the socket at local port PORT connected to remote
# port CPORT (_tcp_table).
_server_end() {
	local lport rport i
	printf -v lport '%04X' "$1"
	printf -v rport '%04X' "$2"
	_tcp_table
	for i in "${!TCP_INODE[@]}"; do
		[ "${TCP_LPORT[i]}" = "$lport" ] && [ "${TCP_RPORT[i]}" = "$rport" ] || continue
		CONN_STATE=${TCP_STATE[i]} CONN_SENDQ=${TCP_SENDQ[i]}
		CONN_RECVQ=${TCP_RECVQ[i]} CONN_INODE=${TCP_INODE[i]}
		return 0
	done
	return 1
}

# _tcp_table: the TCP sockets of this network namespace, one index each
# in TCP_LPORT and TCP_RPORT (ports in hex, as the kernel prints them),
# TCP_STATE (hex), TCP_SENDQ, TCP_RECVQ (bytes) and TCP_INODE, from
# /proc/net/tcp and tcp6 by bash alone. Each check runs in a network
# namespace of its own (scripts/isolate), so the few sockets there are this
# suite's.
_tcp_table() {
	local f local_addr remote st queues inode rest
	TCP_LPORT=() TCP_RPORT=() TCP_STATE=() TCP_SENDQ=() TCP_RECVQ=() TCP_INODE=()
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		{
			read -r rest # the header
			while read -r _ local_addr remote st queues _ _ _ _ inode rest; do
				TCP_LPORT+=("${local_addr##*:}") TCP_RPORT+=("${remote##*:}") TCP_STATE+=("$st")
				TCP_SENDQ+=($((16#${queues%%:*}))) TCP_RECVQ+=($((16#${queues##*:}))) TCP_INODE+=("$inode")
			done
		} <"$f"
	done
}

# expect_status NAME WANT [WHAT]: $STATUS (from run_bounded or wait_exit) must
# be WANT; on failure show NAME's stderr.
expect_status() {
	local name=$1 want=$2
	local what=${3:-"exit status of $name"}
	[ "$STATUS" = "$want" ] && return 0
	{
		printf 'expected: exit status %s\n' "$want"
		if [ "$STATUS" = timeout ]; then
			printf 'got: still running when the time limit came (it was killed)\n'
		else
			printf 'got: it %s\n' "$(describe_status "$STATUS")"
		fi
		printf -- '--- stderr of %s:\n%s\n' "$name" "$(_tail "$(err "$name")")"
	} | batslib_decorate "wrong $what" | _text | fail
}

# expect_same_bytes WHAT EXPECTED_FILE GOT_FILE: byte-for-byte equality, with
# sizes and the first difference shown when they differ.
expect_same_bytes() {
	local what=$1 want=$2 got=$3 diff
	cmp -s -- "$want" "$got" && return 0
	diff=$(cmp -- "$want" "$got" 2>&1 | head -n 1)
	{
		printf 'expected: %s bytes (%s)\n' "$(wc -c <"$want")" "$(basename "$want")"
		printf 'got: %s bytes\n' "$(wc -c <"$got" 2>/dev/null || echo 0)"
		printf 'first difference: %s\n' "$diff"
		printf 'expected starts: %s\n' "$(head -c 48 "$want" | od -An -c | head -n 2 | tr -s ' ')"
		printf 'got starts:      %s\n' "$(head -c 48 "$got" 2>/dev/null | od -An -c | head -n 2 | tr -s ' ')"
	} | batslib_decorate "$what: the bytes differ" | fail
}

# expect_line NAME REGEX WHAT: NAME's stdout has a line matching REGEX now.
expect_line() {
	local name=$1 re=$2 what=$3
	grep -qaE -- "$re" "$(out "$name")" && return 0
	fail_with "$what" "a line matching: $re" "$(_tail "$(out "$name")")"
}

# expect_stderr_line NAME REGEX WHAT: the same, for stderr.
expect_stderr_line() {
	local name=$1 re=$2 what=$3
	grep -qaE -- "$re" "$(err "$name")" && return 0
	fail_with "$what" "a line on stderr matching: $re" "$(_tail "$(err "$name")")"
}

# expect_clean_stderr NAME: no sanitizer report on NAME's stderr.
expect_clean_stderr() {
	local name=$1 report
	report=$(sanitizer_report "$(err "$name")")
	[ -z "$report" ] && return 0
	hint "$(invariant_section sanitizer)" \
		"The sanitizer names the bad access and the line of your code: read the first frame in your own file."
	printf '%s\n' "$report" | batslib_decorate "the sanitizer found a bug in $name" | fail
}

# expect_no_sockcall LOG REGEX WHAT: no line of LOG (a preload-sockcalls log)
# matches the extended REGEX. For the extras a chapter rules out ("only X"):
# a call-order check says what must be there, this what must not.
expect_no_sockcall() {
	local log=$1 re=$2 what=$3 found
	found=$(grep -aE -- "$re" "$log") || return 0
	fail_with "$what" "no call matching: $re" "$found"
}

# ---------------------------------------------------------------------------
# Descriptors.

# socket_fds PID: how many sockets PID holds open now.
socket_fds() {
	local n=0 fd
	for fd in /proc/"$1"/fd/*; do
		case $(readlink "$fd" 2>/dev/null) in socket:*) n=$((n + 1)) ;; esac
	done
	printf '%s\n' "$n"
}

# valgrind_fds LOGFILE: print one line per descriptor the program left open at
# exit, other than those it inherited (0, 1, 2 and whatever the shell passed).
valgrind_fds() {
	awk '
		/ Open (file descriptor|AF_[A-Z0-9]+ socket) / { pending = $0; next }
		pending != "" {
			if ($0 !~ /inherited from parent/) { sub(/^==[0-9]+== /, "", pending); print pending }
			pending = ""
		}' "$1"
}

# start_valgrind NAME [start options] [--] PROGRAM ARGS...: like start, but runs
# the unsanitized build of PROGRAM under valgrind, tracking descriptors and
# memory. Check the result with expect_valgrind_clean after it exits.
start_valgrind() {
	local name=$1 opts=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--stdin | --timeout) opts+=("$1" "$2"); shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	local prog=$1
	shift
	start "$name" "${opts[@]}" -- valgrind -q --track-fds=yes --leak-check=full \
		--errors-for-leak-kinds=definite --error-exitcode=87 \
		--log-file="$BATS_TEST_TMPDIR/$name.vg" "$PLAIN_DIR/$prog" "$@"
}

# expect_valgrind_clean NAME: after NAME (started with start_valgrind) exited,
# no descriptor was left open and valgrind found no memory error or leak.
expect_valgrind_clean() {
	local name=$1 leaked
	leaked=$(valgrind_fds "$BATS_TEST_TMPDIR/$name.vg")
	if [ -n "$leaked" ]; then
		fail_with "$name left descriptors open at exit" "no descriptor open but 0, 1, 2" "$leaked"
		return 1
	fi
	if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|Invalid (read|write)' "$BATS_TEST_TMPDIR/$name.vg"; then
		fail_with "valgrind found a memory error or leak in $name" "a clean report" "$(head -n 40 "$BATS_TEST_TMPDIR/$name.vg")"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Server invariants, checked at the end of every test that started a server.
#
# A program under test (one run from BIN_DIR, PLAIN_DIR or TSAN_DIR, under
# valgrind or not) becomes a "server" when wait_listening sees its listening
# line; its descriptors are counted then (the baseline). When the test body
# has passed, teardown runs check_server_invariants: it first ends every
# other process the test started (the clients: a client killed there is one
# more that goes away), then requires of each server the test did not end
# itself (stop, wait_exit):
#   - it is still running;
#   - within T_SETTLE seconds its descriptor count is back to the baseline
#     (a descriptor kept per departed client, whatever way it left, shows);
#   - it has no zombie children.
# And of every program under test, servers or not, ended or not: no sanitizer
# report on its stderr. A test that starts a server that is meant to end on
# its own says so with skip_invariants NAME REASON (the sanitizer check
# stays).
T_SETTLE=${T_SETTLE:-10}

_is_under_test() {
	local arg
	for arg in "$@"; do
		case $arg in
		"$BIN_DIR"/* | "${PLAIN_DIR:-/nonexistent}"/* | "${TSAN_DIR:-/nonexistent}"/*) return 0 ;;
		esac
	done
	return 1
}

# _note_under_test NAME CMD...: remember NAME if CMD runs a program under test.
_note_under_test() {
	local name=$1
	shift
	_is_under_test "$@" || return 0
	_listed "$name" "$BATS_TEST_TMPDIR/.tested" || printf '%s\n' "$name" >>"$BATS_TEST_TMPDIR/.tested"
	# valgrind is slow by design: the spin check allows it three times the CPU
	# (_spin_begin).
	case ${1##*/} in valgrind*) : >"$BATS_TEST_TMPDIR/$name.slow" ;; esac
	# A server given -n COUNT may end on its own: its exit is the test's
	# business (wait_exit), not an invariant.
	[ ! -e "$BATS_TEST_TMPDIR/$name.counted" ] || rm -f "$BATS_TEST_TMPDIR/$name.counted"
	local arg
	for arg in "$@"; do
		[ "$arg" = -n ] && : >"$BATS_TEST_TMPDIR/$name.counted"
	done
	return 0
}

_mark_ended() { printf '%s\n' "$1" >>"$BATS_TEST_TMPDIR/.ended"; }
_is_ended() { _listed "$1" "$BATS_TEST_TMPDIR/.ended"; }

# _listed WORD FILE: FILE has a line that is WORD, or (with --first) a line
# whose first word is WORD. Read by bash itself: these lists are a few lines
# long, and a grep would cost a process each time.
_listed() {
	local first='' line
	[ "$1" = --first ] && { first=1; shift; }
	[ -f "$2" ] || return 1
	while IFS= read -r line; do
		[ -n "$first" ] && line=${line%% *}
		[ "$line" = "$1" ] && return 0
	done <"$2"
	return 1
}

# fd_list PID: "FD -> TARGET" for each descriptor PID holds open now.
# (One find for them all: a readlink per descriptor is a fork each.)
fd_list() {
	# A process that has just exited lists nothing: not an error here (the
	# test's own checks say that it is gone).
	find /proc/"$1"/fd -mindepth 1 -maxdepth 1 -printf '%f -> %l\n' 2>/dev/null || :
}

# fd_count PID: how many of them count for the invariants: all but anon_inode
# ones (epoll, eventfd, signalfd, timerfd), which a correct server may make
# once, lazily, after it announced itself.
# Told apart by bash alone: an anon_inode descriptor is the one kind whose
# target has no file type (not a file, directory, socket, pipe or device).
fd_count() {
	local fd n=0
	for fd in /proc/"$1"/fd/*; do
		if [ -f "$fd" ] || [ -S "$fd" ] || [ -p "$fd" ] || [ -c "$fd" ] || [ -d "$fd" ] || [ -b "$fd" ]; then
			n=$((n + 1))
		fi
	done
	printf '%s\n' "$n"
}

# zombie_children PID: the children of PID that exited and were never
# reaped, as "PID STATE COMM" lines.
zombie_children() {
	local kid stat comm state
	for kid in $(children "$1"); do
		{ read -r stat <"/proc/$kid/stat"; } 2>/dev/null || continue
		comm=${stat#*\(} comm=${comm%\)*}
		state=${stat##*) } state=${state%% *}
		[ "$state" = Z ] && printf '%s %s %s\n' "$kid" "$state" "$comm"
	done
	return 0
}

# _register_server NAME: NAME printed its listening line; note its baseline.
_register_server() {
	local name=$1 pid n prev i
	_listed "$name" "$BATS_TEST_TMPDIR/.tested" || return 0
	_listed --first "$name" "$BATS_TEST_TMPDIR/.servers" && return 0
	pid=$(prog_pid "$name")
	[ -n "$pid" ] || return 0
	# The count may still move for an instant after the line (a server that
	# opens its directory after announcing): take it once it holds still.
	prev=$(fd_count "$pid")
	for i in 1 2 3 4 5 6 7 8 9 10; do
		nap 0.05
		n=$(fd_count "$pid")
		[ "$n" = "$prev" ] && break
		prev=$n
	done
	# A server that exits right after its line has no baseline to keep; the
	# test's next look at it says that it is gone.
	[ -d "/proc/$pid/fd" ] || return 0
	fd_list "$pid" >"$BATS_TEST_TMPDIR/$name.fds0"
	printf '%s %s %s\n' "$name" "$pid" "$n" >>"$BATS_TEST_TMPDIR/.servers"
}

# _queue_empty PORT: no connection waits in the accept queue of the TCP
# listener on PORT (ss shows the queue's length as Recv-Q).
_queue_empty() {
	[ -z "$(ss -Hltn "( sport = :$1 )" 2>/dev/null | awk '$2 != 0')" ]
}

_caught_up() { _queue_empty "$2" && [ "$(fd_count "$1")" -le "$3" ]; }

# wait_settled NAME: wait (T_SETTLE) until server NAME has accepted every
# queued connection on $PORT and is back to its descriptor baseline, e.g.
# after `paused NAME gone_clients ...`, before the next client comes. Fails
# as the invariant check does.
wait_settled() {
	local name=$1 pid base
	read -r _ pid base < <(grep "^$name " "$BATS_TEST_TMPDIR/.servers")
	wait_until --while "$name" "$T_SETTLE" _caught_up "$pid" "$PORT" "$base" && return 0
	_server_invariants "$name" "$pid" "$base"
}

# skip_invariants NAME REASON: NAME is a program that listens but is meant to
# end on its own (the chat's listening side ends with its one peer): check
# only that it left no sanitizer report. REASON says why, for the reader.
skip_invariants() {
	printf '%s %s\n' "$1" "$2" >>"$BATS_TEST_TMPDIR/.skip"
}

_server_settled() {
	local pid=$1 base=$2
	[ "$(fd_count "$pid")" -le "$base" ] && [ -z "$(zombie_children "$pid")" ]
}

# _waits_in_accept PID: every thread of PID sleeps in the kernel's accept()
# (its wchan names it), so the listening queue is empty and nothing the
# server holds can change until a new client comes. Fails where the kernel
# hides wchan (it reads "0"): the caller then waits out its deadline.
_waits_in_accept() {
	local task wchan
	for task in /proc/"$1"/task/*; do
		_task_state "$task" && [ "$STATE" = S ] || return 1
		# (wchan has no newline at its end: read says "end of file".)
		wchan=
		read -r wchan <"$task/wchan" 2>/dev/null || [ -n "$wchan" ] || return 1
		case $wchan in *accept*) ;; *) return 1 ;; esac
	done
	return 0
}

# _leak_proven PID BASE: PID holds more than BASE descriptors while it waits
# in accept(), twice in a row with the same count: the leak is there to stay,
# and the test need not wait out T_SETTLE to prove it.
_leak_proven() {
	local pid=$1 base=$2 n
	_waits_in_accept "$pid" || return 1
	n=$(fd_count "$pid")
	[ "$n" -gt "$base" ] || return 1
	nap 0.1
	_waits_in_accept "$pid" && [ "$(fd_count "$pid")" = "$n" ]
}

_settled_or_leaking() { _server_settled "$@" || _leak_proven "$@"; }

# _end_clients: end every process the test started that is not a live server.
_end_clients() {
	local pid keep
	[ -f "$BATS_TEST_TMPDIR/.pids" ] || return 0
	keep=" "
	if [ -f "$BATS_TEST_TMPDIR/.servers" ]; then
		while read -r name _; do
			_is_ended "$name" || keep="$keep$(pid_of "$name") "
		done <"$BATS_TEST_TMPDIR/.servers"
	fi
	while read -r pid; do
		case $keep in *" $pid "*) continue ;; esac
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done <"$BATS_TEST_TMPDIR/.pids"
	return 0
}

# _server_invariants NAME PID BASELINE: the checks above, for one server.
_server_invariants() {
	local name=$1 pid=$2 base=$3 status now
	_is_ended "$name" && return 0
	_listed --first "$name" "$BATS_TEST_TMPDIR/.skip" && return 0
	if ! is_running "$name"; then
		[ -e "$BATS_TEST_TMPDIR/$name.counted" ] && return 0
		_collect_status "$name"
		status=$(server_exit_status "$name")
		hint "$(invariant_section died)" \
			"A server keeps serving whatever its clients do: check every call's result, and end only that client's conversation when one fails."
		# (fail_with says first, with its stderr, that it is gone.)
		fail_with "$name stopped running during the test (a server must outlive its clients)" \
			"$name still running after the test's clients came and went" \
			"it $(describe_status "$status")"
		return 1
	fi
	wait_until "$T_SETTLE" _settled_or_leaking "$pid" "$base"
	_server_settled "$pid" "$base" && return 0
	now=$(fd_list "$pid")
	if [ "$(fd_count "$pid")" -gt "$base" ]; then
		local when="${T_SETTLE}s after every client was gone"
		_waits_in_accept "$pid" && when="with every client gone and $name back in accept(), waiting for the next"
		hint "$(invariant_section fds)" \
			"Close a client's socket (and anything opened for it) on every path out of its conversation: end of file, a reset, a failed send or recv, an error reply."
		fail_with "$name kept descriptors open after its clients left (baseline: $base, as just after it started listening)" \
			"$base descriptors, as at the start:
$(cat "$BATS_TEST_TMPDIR/$name.fds0")" \
			"$(fd_count "$pid") descriptors $when:
$now"
		return 1
	fi
	hint "$(invariant_section zombies)" \
		"A child that exits stays a zombie until its parent calls waitpid(): reap every child."
	fail_with "$name left zombie children" "no zombie child" "$(zombie_children "$pid")"
}

# invariant_section KIND: the chapter section an invariant's hint names. KIND
# is died, fds, zombies or sanitizer; a suite sets INVARIANT_SECTION_DIED,
# _FDS, _ZOMBIES or _SANITIZER to the section that explains that invariant in
# its chapter, INVARIANT_SECTION for the rest (default "Common mistakes").
invariant_section() {
	local var=INVARIANT_SECTION_${1^^}
	printf '%s\n' "${!var:-${INVARIANT_SECTION:-Common mistakes}}"
}

# sanitizer_report FILE: the first sanitizer report in FILE, whole (its stack
# included), cut at 200 lines.
sanitizer_report() {
	awk '
		!on && /(ERROR|WARNING): (Address|Leak|Thread|UndefinedBehavior|Memory)Sanitizer|runtime error:/ { on = 1 }
		on { print; if (++n >= 200) { print "... (cut at 200 lines)"; exit } }' "$1" 2>/dev/null
}

# check_server_invariants: the invariants above for every server the test
# started, and the sanitizer check for every program under test. Run by the
# default teardown after a test body passed; a suite with its own teardown
# calls common_teardown, which runs it.
check_server_invariants() {
	local name pid base report
	_end_clients
	if [ -f "$BATS_TEST_TMPDIR/.servers" ]; then
		while read -r name pid base; do
			_server_invariants "$name" "$pid" "$base" || return 1
		done <"$BATS_TEST_TMPDIR/.servers"
	fi
	if [ -f "$BATS_TEST_TMPDIR/.tested" ]; then
		while read -r name; do
			report=$(sanitizer_report "$(err "$name")")
			[ -z "$report" ] && continue
			hint "$(invariant_section sanitizer)" \
				"The sanitizer names the bad access and the line of your code: read the first frame in your own file."
			printf '%s\n' "$report" | batslib_decorate "the sanitizer found a bug in $name" | fail
			return 1
		done <"$BATS_TEST_TMPDIR/.tested"
	fi
	return 0
}

# show_program_stderr: after a failure, what each program under test wrote on
# stderr (its last 200 lines), so no error message or report goes unseen.
show_program_stderr() {
	local name file lines
	[ -f "$BATS_TEST_TMPDIR/.tested" ] || return 0
	while read -r name; do
		file=$(err "$name")
		[ -s "$file" ] || continue
		_listed "$file" "$BATS_TEST_TMPDIR/.shown" && continue
		lines=$(wc -l <"$file")
		printf -- '--- stderr of %s (%s lines%s):\n' "$name" "$lines" \
			"$([ "$lines" -le 200 ] || echo ', the last 200')"
		_capture_note "$file"
		tail -c 65536 "$file" | tail -n 200 | cut -c 1-400 | _text
	done <"$BATS_TEST_TMPDIR/.tested"
}

# _trim_captures: empty the stdout and stderr files of the test that are
# over 1 MiB once the test is over (bats keeps every test's directory until
# the run ends, so a flood in each test would add up on the disk).
_trim_captures() {
	find "$BATS_TEST_TMPDIR" -maxdepth 1 -type f \( -name '*.out' -o -name '*.err' \) \
		-size +1024k -exec truncate -s 0 {} + 2>/dev/null
	return 0
}

# ---------------------------------------------------------------------------
# Teardown: no process outlives its test.

# The shell reports each killed background job ("line N: PID Killed ...") on
# its own stderr, not on wait's: silence the whole function, or that noise
# lands in the failure report.
kill_everything() {
	_kill_everything 2>/dev/null
}

_kill_everything() {
	local pid mark=$BATS_TEST_TMPDIR f
	if [ -f "$BATS_TEST_TMPDIR/.pids" ]; then
		while read -r pid; do
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		done <"$BATS_TEST_TMPDIR/.pids"
	fi
	# Anything that left its process group (setsid, double fork) still carries
	# the mark in its environment.
	# One grep over every process's environment: a grep per process costs a
	# fork each, seconds per test on a busy machine.
	while IFS= read -r f; do
		pid=${f#/proc/}
		kill -KILL "${pid%/environ}" 2>/dev/null
	done < <(grep -lzx -- "WORKBOOK_TEST_MARK=$mark" /proc/[0-9]*/environ 2>/dev/null)
	if [ -f "$BATS_TEST_TMPDIR/.pids" ]; then
		while read -r pid; do
			wait "$pid" || true
		done <"$BATS_TEST_TMPDIR/.pids"
		rm -f "$BATS_TEST_TMPDIR/.pids"
	fi
	return 0
}

# Suites that need their own teardown call this from it.
common_teardown() {
	local ok=1
	if [ -n "${BATS_TEST_COMPLETED:-}" ]; then
		check_server_invariants || ok=
	fi
	kill_everything
	if [ -z "${BATS_TEST_COMPLETED:-}" ] || [ -z "$ok" ]; then
		show_program_stderr
		print_hint
	fi
	_trim_captures
	[ -n "$ok" ]
}

# ---------------------------------------------------------------------------
# Setup: a cheaper trace.

# bats runs a DEBUG trap before every command of a test, these helpers' own
# included, to know which line failed: a function call of about 0.2 ms, which
# in the helpers' polling loops was most of what a test cost. common_setup
# keeps the trap for the commands of the test file itself and skips it
# elsewhere, so a failure is still reported at the line of the test that
# failed (the helpers' own reports say what went wrong inside them). Only
# bats' own trap, as bats 1.x sets it, is replaced: another version's, or a
# --trace run's, is left as it is.
_BATS_DEBUG_TRAP="trap -- 'bats_debug_trap \"\$BASH_SOURCE\"' DEBUG"
common_setup() {
	local now
	now=$(trap -p DEBUG)
	[ "$now" = "$_BATS_DEBUG_TRAP" ] && [ "${BATS_TRACE_LEVEL:-0}" = 0 ] && [ -n "${BATS_TEST_SOURCE:-}" ] || return 0
	# shellcheck disable=SC2016 # expanded when the trap runs
	trap '[[ ${BASH_SOURCE[0]} != "$BATS_TEST_SOURCE" ]] || bats_debug_trap "$BASH_SOURCE"' DEBUG
}

# Suites that need their own setup call common_setup from it, first.
setup() {
	common_setup
}

teardown() {
	common_teardown
}
