#!/usr/bin/env bash
# The chapters' transcripts: every block that shows commands and their output
# is run against the reference solutions and compared, or marked
# illustrative with a reason (book/transcripts.py says how). One line
# "ok - transcript: FILE line N" or "not ok - ..." per transcript, the
# details on "#" lines; LESSONS="02 05" limits the chapters.
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build
log=$(mktemp build/transcripts-build.XXXXXX) || exit 1
trap 'rm -f "$log"' EXIT
# The reference programs the transcripts run (up to date: nothing to do).
# All of them, whatever LESSONS says: a chapter may run an earlier lesson's.
for dir in solutions/[0-9][0-9]-*/; do
	slug=$(basename "$dir")
	if ! scripts/build "$dir" "build/solutions/$slug" --strict >/dev/null 2>"$log"; then
		echo "not ok - transcript: the reference solution $slug builds"
		sed 's/^/# /' "$log" | head -n 20
	fi
done
scripts/build-tools >/dev/null || echo "not ok - transcript: the test tools and demos build"
t0=$SECONDS
python3 book/transcripts.py
echo "# transcripts ran in $((SECONDS - t0))s"
