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

# The runner has teeth: a throwaway chapter whose transcript is wrong must
# fail, naming the line, what it shows and what came; so must a placeholder
# used before any output binds it, and an illustrative block with no reason.
wrong=$(mktemp build/transcripts-wrong.XXXXXX) || exit 1
trap 'rm -f "$log" "$wrong" "$wrong.out"' EXIT
cat >"$wrong" <<'MD'
# Throwaway

```text
$ greeter 0 &
listening on 127.0.0.1:PORT
$ nc 127.0.0.1 PORT </dev/null
connection from 127.0.0.1:CLIENT_PORT
hello, 127.0.0.1:CLIENT_PORT2
```

```text
$ echo PORT
PORT
```

```{.text .illustrative}
$ true
```
MD
python3 book/transcripts.py "$wrong" >"$wrong.out" 2>&1
why=()
grep -q "^not ok - transcript: $wrong line 3\$" "$wrong.out" || why+=("the wrong transcript did not fail")
grep -q "^# $wrong line 8: the chapter shows: hello, 127.0.0.1:CLIENT_PORT2\$" "$wrong.out" ||
	why+=("the failure does not name line 8 and what it shows")
grep -q '^# came: .*hello, 127\.0\.0\.1:[0-9][0-9]*$' "$wrong.out" || why+=("the failure does not say what came")
grep -q "^not ok - transcript: $wrong line 11\$" "$wrong.out" ||
	why+=("a placeholder used before it is bound did not fail")
grep -q "^not ok - transcript: $wrong line 16 is illustrative" "$wrong.out" ||
	why+=("an illustrative block without a reason did not fail")
if [ ${#why[@]} -eq 0 ]; then
	echo "ok - transcript: a wrong transcript fails, naming its line, what it shows and what came"
else
	echo "not ok - transcript: a wrong transcript fails, naming its line, what it shows and what came"
	printf '# %s\n' "${why[@]}"
	sed 's/^/# | /' "$wrong.out" | head -n 30
fi

t0=$SECONDS
python3 book/transcripts.py
echo "# transcripts ran in $((SECONDS - t0))s"
