#!/usr/bin/env bash
# tests/bench/download.sh - how fast lesson 10 moves a big file, next to
# anchors measured in the same run.
#
# A file (BENCH_MIB MiB, read once first, so it comes from the page cache)
# goes over loopback into a file on the same file system, with:
#   ours      the reference file-server and download (plain builds)
#   sendfile  build/tools/sendfile-copy: sendfile() out, one 256 KiB buffer
#             in; no protocol at all, the machine's practical limit
#   socat     socat -b 262144 on both sides
#   nc        netcat-openbsd (nc -N -l sending, nc receiving)
# The four run in interleaved rounds (each round runs each once, starting
# with a different one), so that whatever else the machine does falls on
# all of them alike. For each: the median MiB/s and the spread (min-max)
# of the rounds, and the peak RSS; then our median's ratio to each anchor's.
# Nothing is asserted. Every process is bounded; the big files are removed.
#
# Environment: BENCH_MIB (default 1024) the file size, BENCH_ROUNDS (default
# 5, at least 5 unless BENCH_QUICK=1) the rounds.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-5}
[ "$ROUNDS" -ge 5 ] || [ -n "${BENCH_QUICK:-}" ] || ROUNDS=5
LIMIT=300 # seconds any one process may take

# OpenBSD's netcat by its own name: `nc` may be another netcat (nmap's ncat,
# netcat-traditional) whose flags and messages differ.
NC=nc.openbsd
command -v "$NC" >/dev/null || { echo "download: $NC (netcat-openbsd) is not installed (make deps); skipped"; exit 0; }
command -v socat >/dev/null || { echo "download: socat is not installed (make deps); skipped"; exit 0; }
copy=$ROOT/build/tools/sendfile-copy
[ -x "$copy" ] || { echo "download: $copy is missing (scripts/build-tools)"; exit 1; }
[ -x /usr/bin/time ] || { echo "download: /usr/bin/time is not installed; skipped"; exit 0; }

out=$ROOT/build/solutions/10-file-download
"$ROOT/scripts/build" "$ROOT/solutions/10-file-download" "$out" --strict || exit 1
server=$out/plain/file-server
client=$out/plain/download

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-download.XXXXXX") || exit 1
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Need room for the file and one copy at a time.
need_kib=$((MIB * 1024 * 2 + 65536))
free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt "$need_kib" ]; then
	echo "download: not enough free space in $work ($((free_kib / 1024)) MiB free, $((need_kib / 1024)) needed); skipped"
	exit 0
fi

mkdir -p "$work/root" "$work/dl"
big=$work/root/big
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$big" || exit 1
cat "$big" >/dev/null # into the page cache

now_ns() { date +%s%N; }

# wait_for_line FILE REGEX: up to 10 s for a line; prints it.
wait_for_line() {
	local i
	for i in $(seq 1 500); do
		grep -m 1 -E "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "download: no line matching '$2' in $1" >&2
	return 1
}

# rate BYTES NS: MiB/s with one decimal.
rate() {
	awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.1f", (b / 1048576) / (ns / 1e9) }'
}

bytes=$(wc -c <"$big")

# run_ours: one transfer with the reference programs; sets NS, SRV_RSS, CLI_RSS.
run_ours() {
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/server.rss" \
		"$server" -n 1 "$work/root" 0 >"$work/server.out" 2>"$work/server.err" &
	pids+=($!)
	line=$(wait_for_line "$work/server.out" '^listening on ') || return 1
	port=${line##*:}
	t0=$(now_ns)
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/client.rss" \
		"$client" 127.0.0.1 "$port" big "$work/dl/big" >/dev/null 2>"$work/client.err" ||
		{ echo "download: the reference client failed:"; cat "$work/client.err"; return 1; }
	t1=$(now_ns)
	wait "${pids[-1]}"
	cmp -s "$big" "$work/dl/big" || { echo "download: the copy differs from the original"; return 1; }
	rm -f "$work/dl/big"
	NS=$((t1 - t0)) SRV_RSS=$(tail -n 1 "$work/server.rss") CLI_RSS=$(tail -n 1 "$work/client.rss")
}

# run_nc: the same with nc; sets the same variables.
run_nc() {
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/nc-server.rss" \
		"$NC" -v -N -l 127.0.0.1 0 <"$big" >/dev/null 2>"$work/nc-server.err" &
	pids+=($!)
	line=$(wait_for_line "$work/nc-server.err" '^Listening on ') || return 1
	port=${line##* }
	t0=$(now_ns)
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/nc-client.rss" \
		"$NC" 127.0.0.1 "$port" </dev/null >"$work/dl/big" 2>"$work/nc-client.err" ||
		{ echo "download: nc failed (exit $?):"; cat "$work/nc-client.err" "$work/nc-server.err"; return 1; }
	t1=$(now_ns)
	wait "${pids[-1]}"
	cmp -s "$big" "$work/dl/big" || { echo "download: nc's copy differs from the original"; return 1; }
	rm -f "$work/dl/big"
	NS=$((t1 - t0)) SRV_RSS=$(tail -n 1 "$work/nc-server.rss") CLI_RSS=$(tail -n 1 "$work/nc-client.rss")
}

# run_sendfile: the same with sendfile-copy.
run_sendfile() {
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/sf-server.rss" \
		"$copy" serve "$big" >"$work/sf-server.out" 2>"$work/sf-server.err" &
	pids+=($!)
	line=$(wait_for_line "$work/sf-server.out" '^listening on ') || return 1
	port=${line##*:}
	t0=$(now_ns)
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/sf-client.rss" \
		"$copy" fetch 127.0.0.1 "$port" "$work/dl/big" 2>"$work/sf-client.err" ||
		{ echo "download: sendfile-copy failed:"; cat "$work/sf-client.err"; return 1; }
	t1=$(now_ns)
	wait "${pids[-1]}"
	cmp -s "$big" "$work/dl/big" || { echo "download: sendfile-copy's copy differs from the original"; return 1; }
	rm -f "$work/dl/big"
	NS=$((t1 - t0)) SRV_RSS=$(tail -n 1 "$work/sf-server.rss") CLI_RSS=$(tail -n 1 "$work/sf-client.rss")
}

# run_socat: the same with socat -b 262144 on both sides.
run_socat() {
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/socat-server.rss" \
		socat -d -d -b 262144 -u "OPEN:$big" TCP-LISTEN:0,bind=127.0.0.1 >/dev/null 2>"$work/socat-server.err" &
	pids+=($!)
	line=$(wait_for_line "$work/socat-server.err" ' listening on ') || return 1
	port=${line##*:}
	t0=$(now_ns)
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/socat-client.rss" \
		socat -b 262144 -u "TCP:127.0.0.1:$port" "CREATE:$work/dl/big" 2>"$work/socat-client.err" ||
		{ echo "download: socat failed:"; cat "$work/socat-client.err"; return 1; }
	t1=$(now_ns)
	wait "${pids[-1]}"
	cmp -s "$big" "$work/dl/big" || { echo "download: socat's copy differs from the original"; return 1; }
	rm -f "$work/dl/big"
	NS=$((t1 - t0)) SRV_RSS=$(tail -n 1 "$work/socat-server.rss") CLI_RSS=$(tail -n 1 "$work/socat-client.rss")
}

# stats FILE: "median min max" of the numbers in FILE, one a line.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}

names=(ours sendfile socat nc)
declare -A label=([ours]="file-server + download" [sendfile]="sendfile-copy (anchor)"
	[socat]="socat -b 262144" [nc]="nc -N -l + nc")
for n in "${names[@]}"; do : >"$work/rates.$n"; done
printf '%s MiB over loopback, from the page cache, to a file; %s interleaved rounds\n' "$MIB" "$ROUNDS"
for round in $(seq 1 "$ROUNDS"); do
	for i in 0 1 2 3; do
		n=${names[$(((round - 1 + i) % 4))]}
		# A transfer that fails is tried once more (a benchmark measures; a
		# stray failure on a loaded machine is not a result), then ends the run.
		if ! "run_$n" >"$work/run.log" 2>&1; then
			printf '  round %s  %-24s failed once, tried again: %s\n' "$round" "${label[$n]}" \
				"$(tr '\n' ' ' <"$work/run.log" | cut -c 1-200)"
			"run_$n" || exit 1
		fi
		r=$(rate "$bytes" "$NS")
		echo "$r" >>"$work/rates.$n"
		echo "$SRV_RSS $CLI_RSS" >>"$work/rss.$n"
		printf '  round %s  %-24s %9s MiB/s   peak RSS: server %6s KiB, client %6s KiB\n' \
			"$round" "${label[$n]}" "$r" "$SRV_RSS" "$CLI_RSS"
	done
done
echo
printf '  %-24s %15s   %-19s  %s\n' "" "median" "spread (min-max)" "peak RSS server/client (KiB, max)"
declare -A median=()
for n in "${names[@]}"; do
	read -r med lo hi < <(stats "$work/rates.$n")
	median[$n]=$med
	rss=$(awk '$1 > s { s = $1 } $2 > c { c = $2 } END { printf "%d / %d", s, c }' "$work/rss.$n")
	printf '  %-24s %15s   %-19s  %s\n' "${label[$n]}" "$med MiB/s" "$lo-$hi" "$rss"
done
for n in sendfile socat nc; do
	awk -v a="${median[ours]}" -v b="${median[$n]}" -v l="${label[$n]}" \
		'BEGIN { printf "  ratio of medians, ours / %s: %.2f\n", l, a / b }'
done
