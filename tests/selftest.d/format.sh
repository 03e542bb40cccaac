#!/usr/bin/env bash
# The house style: solutions/, common/ and tests/lib/ are formatted by the
# root .clang-format (STYLE.md). Fix a file with: clang-format -i FILE
cd "$(dirname "$0")/../.." || exit 1
if ! command -v clang-format >/dev/null; then
	echo "not ok - C sources in solutions/, common/ and tests/lib/ are clang-formatted"
	echo "# clang-format is not installed (make deps)"
	exit 0
fi
bad=()
for f in common/*.[ch] solutions/*/*.[ch] tests/lib/*.c; do
	[ -f "$f" ] || continue
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -eq 0 ]; then
	echo "ok - C sources in solutions/, common/ and tests/lib/ are clang-formatted"
else
	echo "not ok - C sources in solutions/, common/ and tests/lib/ are clang-formatted"
	echo "# not formatted: ${bad[*]}"
	echo "# fix with: clang-format -i ${bad[*]}"
fi
