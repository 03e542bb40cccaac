#!/usr/bin/env bash
# The facts: behaviour the chapters assert but no transcript shows, each
# demonstrated on this kernel by a small C program in tests/facts/ (built
# by scripts/build-tools into build/facts/, -Werror). Each program runs in a
# private network namespace, bounded in time, and prints one line per fact:
# "ok - fact: NN \"Section\": what holds" or "not ok - ...". This script
# also checks that every fact names a real section of its chapter, and
# that tests/facts and tests/demos are clang-formatted.
cd "$(dirname "$0")/../.." || exit 1
t0=$SECONDS
out=$(mktemp) || exit 1
trap 'rm -f "$out" "$out.all"' EXIT
if ! scripts/build-tools >/dev/null 2>"$out"; then
	echo "not ok - fact: the facts programs build with -Werror"
	sed 's/^/# /' "$out" | head -n 30
fi
# A private network namespace where the machine allows: nothing the facts do
# is seen by, or collides with, anything else (the facts use only loopback
# and ports the kernel picks, so they also run without one).
netns=(unshare -rn sh -c 'ip link set lo up && exec "$0"')
"${netns[@]}" true 2>/dev/null || netns=()
for src in tests/facts/*.c; do
	prog=build/facts/$(basename "$src" .c)
	[ -x "$prog" ] || continue
	timeout -k 5 60 "${netns[@]}" "$prog" >"$out" 2>&1
	status=$?
	cat "$out"
	if [ $status -ne 0 ] || ! grep -q '^ok - fact: \|^not ok - fact: ' "$out"; then
		echo "not ok - fact: $prog runs to its end (exit $status)"
		grep -v '^ok - \|^not ok - ' "$out" | sed 's/^/# /' | head -n 20
	fi
done >"$out.all"
cat "$out.all"

# Every fact names its chapter's section: NN "Heading" or appendix B "Heading".
python3 - "$out.all" <<'PY'
import glob, re, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "book")
from checks import headings, plain
bad, n = [], 0
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r'^(?:not )?ok - fact: (\d\d|appendix [A-Z]) "([^"]+)"', line)
    if not m:
        continue
    n += 1
    where, section = m.groups()
    if where.startswith("appendix"):
        files = [f for f in glob.glob("book/appendix-*.md")
                 if any(lvl == 1 and t.startswith("Appendix %s:" % where[-1]) for lvl, t in headings(f))]
    else:
        files = glob.glob("lessons/%s-*/README.md" % where)
    if not files or plain(section) not in {plain(t) for f in files for _, t in headings(f)}:
        bad.append('%s "%s": no such section in %s' % (where, section, files[0] if files else "any chapter"))
print(("ok" if n and not bad else "not ok") +
      " - every fact names a section of its chapter (%d facts)" % n)
for b in bad or ([] if n else ["no fact reported"]):
    print("# " + b)
PY

bad=()
for f in tests/facts/*.[ch] tests/demos/*.c; do
	[ -f "$f" ] || continue
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -eq 0 ]; then
	echo "ok - the facts programs and demos are clang-formatted"
else
	echo "not ok - the facts programs and demos are clang-formatted"
	echo "# fix with: clang-format -i ${bad[*]}"
fi
echo "# facts ran in $((SECONDS - t0))s"
