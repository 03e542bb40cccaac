#!/usr/bin/env bash
# The book: it builds in all its formats, its code comes from the real
# files, every chapter has the fixed sections, the grader's hints point at
# real sections, no internal link is broken, the EPUB is valid, the fonts
# are the declared ones, and the multi-page HTML works in a browser.
# One "ok - ..." / "not ok - ..." line per check, details on "#" lines.
# docs/BOOK.md describes the book's build.
cd "$(dirname "$0")/../.." || exit 1
NAME=sockets-in-c
# A private directory: other runs of make test may share build/ meanwhile.
mkdir -p build
work=$(mktemp -d "$PWD/build/book-check.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
work=${work#"$PWD"/}
OUT=$work/book

# result OK NAME [DETAILS-FILE]
result() {
	if [ "$1" = 0 ]; then
		echo "ok - $2"
	else
		echo "not ok - $2"
		[ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/# /' "$3" | head -n 40
	fi
	return 0
}

# The book builds in the background while the sources are checked. The
# bound is against a hang only: the build takes some 80 s of CPU, but on a
# loaded machine (make test's five jobs with a make stress beside them) it
# ran past 600 s of wall time.
t0=$SECONDS
timeout -k 10 1800 scripts/book "$OUT" >"$work/build.log" 2>&1 &
book_pid=$!

# The filter fails loudly: a throwaway document asks for a region that is
# not there and for a file that is not there; the build must stop and name
# both the file and the region.
mkdir -p "$work/loud"
cat >"$work/loud/doc.md" <<'EOF'
# Throwaway

```{.c include="common/net.h" snippet="no_such_region_here"}
```

```{.c include="common/no-such-file.c" snippet="anything"}
```
EOF
BOOK_PARTS=$work/loud/doc.md BOOK_DIAGRAMS=$work/loud \
	pandoc --from markdown --to json --lua-filter book/filters/book.lua -o /dev/null \
	</dev/null >"$work/loud/log" 2>&1
status=$?
ok=0
[ $status -ne 0 ] || { ok=1; echo "pandoc exited 0" >>"$work/loud/why"; }
grep -q 'no_such_region_here.*common/net\.h\|common/net\.h.*no_such_region_here' "$work/loud/log" ||
	{ ok=1; echo "no message names region no_such_region_here and file common/net.h" >>"$work/loud/why"; }
grep -q 'common/no-such-file\.c' "$work/loud/log" ||
	{ ok=1; echo "no message names the missing file common/no-such-file.c" >>"$work/loud/why"; }
[ $ok -eq 0 ] || cat "$work/loud/log" >>"$work/loud/why"
result $ok "a missing snippet region or file stops the build, naming both" "$work/loud/why"

# Every include block resolves, and the chapters' copies match the code.
scripts/sync-snippets --check >"$work/sync.log" 2>&1
grep '^unresolved:' "$work/sync.log" >"$work/unresolved.log"
[ ! -s "$work/unresolved.log" ]
result $? "every snippet in the chapters resolves to a file and region" "$work/unresolved.log"
{ grep '^drifted:' "$work/sync.log" && echo "fix: scripts/sync-snippets"; } >"$work/drifted.log"
[ ! -s "$work/drifted.log" ]
result $? "the snippet copies in the chapters are in sync with the code" "$work/drifted.log"

python3 book/checks.py sections
python3 book/checks.py hints
python3 book/checks.py own-solution
python3 book/checks.py diagrams
python3 book/checks.py pasted
python3 book/checks.py css-fonts

# The book itself (started first, above; the checks of the sources ran meanwhile).
wait "$book_pid"
status=$?
result $status "the book builds (scripts/book, $((SECONDS - t0))s)" "$work/build.log"
for ext in html epub pdf; do
	[ -s "$OUT/$NAME.$ext" ]
	result $? "the book's ${ext^^} is written and not empty ($OUT/$NAME.$ext)" "$work/build.log"
done

# The multi-page HTML in headless Chromium (each run a few seconds), while
# the rest is checked: as a reader at a phone's width, and its search.
browser_pid=
if [ -s "$OUT/html/index.html" ]; then
	{
		python3 book/checks.py browser "$OUT/html"
		python3 book/checks.py search "$OUT/html"
	} >"$work/browser.log" 2>&1 &
	browser_pid=$!
fi


# epubcheck: Debian installs it as a jar that the kernel may not run directly.
# A short run: the JIT's first tier and one GC thread do it in 7 CPU s
# instead of 11, in the same wall time.
epubcheck_cmd() {
	local bin
	bin=$(readlink -f "$(command -v epubcheck)")
	case $bin in
	*.jar) java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$bin" "$@" ;;
	*) "$bin" "$@" ;;
	esac
}
# epubcheck (a Java program, slow to start) runs while the HTML is checked.
epub_pid=
if [ -s "$OUT/$NAME.epub" ]; then
	epubcheck_cmd "$OUT/$NAME.epub" >"$work/epubcheck.log" 2>&1 &
	epub_pid=$!
fi

if [ -s "$OUT/$NAME.html" ]; then
	python3 book/checks.py links "$OUT/$NAME.html"
	python3 book/checks.py markup "$OUT/$NAME.html"
else
	echo "not ok - no broken internal link in the HTML"
	echo "# there is no HTML: the book did not build"
fi

if [ -s "$OUT/$NAME.pdf" ] && command -v pdftotext >/dev/null; then
	# The PDF has a contents with page numbers and numbered pages.
	pdftotext -l 4 "$OUT/$NAME.pdf" "$work/pdf-start.txt" 2>"$work/pdf.log"
	grep -q 'Contents' "$work/pdf-start.txt" && grep -Eq '\.{5,} *[0-9]+|[^.]\.\.\.\. ?[0-9]' "$work/pdf-start.txt"
	status=$?
	[ $status -eq 0 ] || head -n 40 "$work/pdf-start.txt" >>"$work/pdf.log"
	result $status "the PDF opens with a contents that gives page numbers" "$work/pdf.log"
	python3 book/checks.py margins "$OUT/$NAME.pdf"
	python3 book/checks.py fonts "$OUT/$NAME.pdf"
fi

if [ -s "$OUT/html/index.html" ]; then
	python3 book/checks.py multipage "$OUT/html"
	wait "$browser_pid"
	cat "$work/browser.log"
else
	echo "not ok - the multi-page HTML book is there ($OUT/html)"
	echo "# there is no $OUT/html/index.html: the book did not build"
fi

if [ -s "$OUT/$NAME.epub" ]; then
	wait "$epub_pid"
	status=$?
	grep -E '^(ERROR|FATAL|WARNING)' "$work/epubcheck.log" >"$work/epubcheck-errors.log"
	[ -s "$work/epubcheck-errors.log" ] || cp "$work/epubcheck.log" "$work/epubcheck-errors.log"
	result $status "the EPUB passes epubcheck" "$work/epubcheck-errors.log"
	python3 book/checks.py epub-fonts "$OUT/$NAME.epub"
else
	echo "not ok - the EPUB passes epubcheck"
	echo "# there is no EPUB: the book did not build"
fi
exit 0
