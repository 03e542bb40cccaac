#!/usr/bin/env bash
# tests/bench/download.sh - how fast lesson 10 moves a big file, next to nc.
#
# A 1 GiB file (read once first, so it comes from the page cache) goes over
# loopback twice in the same run: with the reference file-server and
# download (plain builds, no sanitizer), and with netcat-openbsd (`nc -N -l`
# sending, `nc` receiving into a file). Both receivers write to the same file
# system. Prints MiB/s for each, their ratio, and the peak RSS of each server
# and client. The goal is at least nc's throughput in flat memory; nothing is
# asserted. Every process is bounded; the big files are removed at the end.
#
# Environment: BENCH_MIB (default 1024) sets the file size, BENCH_ROUNDS
# (default 3) how many times each side runs; the best round of each counts.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
LIMIT=300 # seconds any one process may take

command -v nc >/dev/null || { echo "download: nc (netcat-openbsd) is not installed; skipped"; exit 0; }
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
		nc -v -N -l 127.0.0.1 0 <"$big" >/dev/null 2>"$work/nc-server.err" &
	pids+=($!)
	line=$(wait_for_line "$work/nc-server.err" '^Listening on ') || return 1
	port=${line##* }
	t0=$(now_ns)
	timeout -k 2 $LIMIT /usr/bin/time -f '%M' -o "$work/nc-client.rss" \
		nc 127.0.0.1 "$port" </dev/null >"$work/dl/big" 2>"$work/nc-client.err" ||
		{ echo "download: nc failed:"; cat "$work/nc-client.err"; return 1; }
	t1=$(now_ns)
	wait "${pids[-1]}"
	cmp -s "$big" "$work/dl/big" || { echo "download: nc's copy differs from the original"; return 1; }
	rm -f "$work/dl/big"
	NS=$((t1 - t0)) SRV_RSS=$(tail -n 1 "$work/nc-server.rss") CLI_RSS=$(tail -n 1 "$work/nc-client.rss")
}

# Alternate the two, ROUNDS times each, and keep each one's best round: the
# one least disturbed by whatever else the machine was doing.
best_ours=0 best_nc=0
printf '%s MiB over loopback, from the page cache, to a file; best of %s rounds\n' "$MIB" "$ROUNDS"
for round in $(seq 1 "$ROUNDS"); do
	run_ours || exit 1
	r=$(rate "$bytes" "$NS")
	printf '  round %s  file-server + download %9s MiB/s   peak RSS: server %6s KiB, client %6s KiB\n' \
		"$round" "$r" "$SRV_RSS" "$CLI_RSS"
	awk -v a="$r" -v b="$best_ours" 'BEGIN { exit !(a > b) }' && best_ours=$r
	run_nc || exit 1
	r=$(rate "$bytes" "$NS")
	printf '  round %s  nc -l + nc             %9s MiB/s   peak RSS: server %6s KiB, client %6s KiB\n' \
		"$round" "$r" "$SRV_RSS" "$CLI_RSS"
	awk -v a="$r" -v b="$best_nc" 'BEGIN { exit !(a > b) }' && best_nc=$r
done
printf '  best: file-server + download %s MiB/s, nc %s MiB/s\n' "$best_ours" "$best_nc"
awk -v a="$best_ours" -v b="$best_nc" 'BEGIN { printf "  ratio (ours / nc): %.2f\n", a / b }'
