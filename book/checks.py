#!/usr/bin/env python3
"""book/checks.py - the book's checks, for tests/selftest.d/book.sh.

Usage: python3 book/checks.py CHECK [ARGS]   (run from the repository root)

Each check prints TAP-style lines, "ok - NAME" or "not ok - NAME" with the
details on "#" lines under it, and always exits 0 (the caller counts lines):

  sections          every lesson has a chapter with the fixed sections
  hints             every `hint "SECTION"` in tests/NN-*.bats names a heading
                    of lesson NN's chapter
  own-solution      no chapter includes its own lesson's solution
  diagrams          where messages flow (TCP calls, UDP, chat, framing,
                    download) a chapter shows a sequence diagram
  pasted            no chapter pastes project code by hand in a C block
  links HTML        every href="#id" in the one-page HTML has its id, no link
                    leads to a file, every image is embedded
  markup HTML       no raw Markdown or snippet marker reached the HTML
  margins PDF       no word of the PDF runs into its side margins (code
                    wraps or fits); needs pdftotext (poppler-utils)
"""
import glob
import os
import re
import sys
from html.parser import HTMLParser

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blocks import fenced_blocks, prose_lines, read_lines  # noqa: E402  (the one parser)

FIXED = ["What you will build", "Your turn", "Check your work", "Common mistakes",
         "Going further"]
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def report(ok, name, details=()):
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        for d in list(details)[:40]:
            print("# " + d)


def lessons():
    """Every lesson slug that has a skeleton, a solution or a suite."""
    slugs = set()
    for pattern in ("lessons/[0-9][0-9]-*/", "solutions/[0-9][0-9]-*/"):
        slugs.update(os.path.basename(d.rstrip("/")) for d in glob.glob(pattern))
    for suite in glob.glob("tests/[0-9][0-9]-*.bats"):
        slugs.add(os.path.basename(suite)[:-5])
    return sorted(slugs)


def code_blocks(lines):
    """(info, body lines, line of the opening fence) for every fenced block."""
    return [(b.info.strip(), b.body, b.line) for b in fenced_blocks(lines)]


def headings(path):
    """(level, text) of every ATX heading outside fenced blocks."""
    found = []
    for _, line in prose_lines(read_lines(path)):
        h = HEADING.match(line)
        if h:
            text = re.sub(r"\s*\{[^}]*\}\s*$", "", h.group(2))  # {#id .class}
            text = re.sub(r"\s+#+$", "", text)
            found.append((len(h.group(1)), text))
    return found


def plain(text):
    """A heading or hint as words: no code ticks, no emphasis."""
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", text)).strip()


def check_sections():
    for slug in lessons():
        chapter = "lessons/%s/README.md" % slug
        name = "%s has the sections every chapter has" % chapter
        if not os.path.isfile(chapter):
            report(False, name, ["the chapter is missing: lessons/%s/ has no README.md" % slug])
            continue
        hs = headings(chapter)
        problems = []
        h1 = [t for lvl, t in hs if lvl == 1]
        if len(h1) != 1 or not re.match(r"^Lesson %s: " % slug[:2], h1[0]):
            problems.append('one level-1 heading "Lesson %s: Title" is wanted; found: %s'
                            % (slug[:2], h1 or "none"))
        h2 = [t for lvl, t in hs if lvl == 2]
        for want in FIXED:
            if want not in h2:
                near = [t for t in h2 if t.lower() == want.lower()]
                problems.append('no level-2 heading "## %s"%s' % (
                    want, " (found %r: the text must be exact)" % near[0] if near else ""))
        if not [t for t in h2 if t not in FIXED]:
            problems.append("no level-2 section besides the fixed ones (the concepts, the walk-through)")
        order = [t for t in h2 if t in FIXED]
        if not problems and order != FIXED:
            problems.append("the fixed sections are out of order: %s" % ", ".join(order))
        report(not problems, name, problems)


def check_hints():
    for suite in sorted(glob.glob("tests/[0-9][0-9]-*.bats")):
        slug = os.path.basename(suite)[:-5]
        chapter = "lessons/%s/README.md" % slug
        name = "%s: every hint names a section of %s" % (suite, chapter)
        with open(suite, encoding="utf-8") as f:
            text = f.read()
        wanted = []
        for n, line in enumerate(text.split("\n"), 1):
            for m in re.finditer(r"""(?:^|[\s;&|(])hint\s+(["'])(.*?)\1""", line):
                wanted.append((n, m.group(2)))
        if not os.path.isfile(chapter):
            report(False, name, ["the chapter is missing, so no hint can point into it"])
            continue
        have = {plain(t) for _, t in headings(chapter)}
        bad = ["line %d: no heading \"%s\" in the chapter" % (n, s)
               for n, s in wanted if plain(s) not in have]
        if bad:
            bad.append("headings: " + "; ".join(sorted(have)))
        report(not bad, name, bad)


def chapter_files():
    return sorted(glob.glob("lessons/[0-9][0-9]-*/README.md")) + sorted(glob.glob("book/*.md"))


def check_own_solution():
    bad = []
    for chapter in sorted(glob.glob("lessons/[0-9][0-9]-*/README.md")):
        slug = chapter.split("/")[1]
        with open(chapter, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for info, _, n in code_blocks(lines):
            m = re.search(r'include="([^"]*)"', info)
            if m and os.path.normpath(m.group(1)).startswith("solutions/%s/" % slug):
                bad.append("%s:%d shows %s (the book has an appendix for solutions)"
                           % (chapter, n, m.group(1)))
    report(not bad, "no chapter shows its own lesson's solution", bad)


# Where messages flow, one chapter of each group shows a sequence diagram.
DIAGRAM_GROUPS = [("the TCP call sequence", ["02", "03"]), ("the UDP exchange", ["04", "05"]),
                  ("the chat", ["07", "08"]), ("framing", ["09"]), ("the download", ["10"]),
                  ("one turn of the event loop", ["11"])]


def check_diagrams():
    chapters = {c.split("/")[1][:2]: c for c in glob.glob("lessons/[0-9][0-9]-*/README.md")}
    image = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.(?:msc|dot))\)")
    for what, group in DIAGRAM_GROUPS:
        present = [chapters[n] for n in group if n in chapters]
        if not present:
            continue  # not written yet: the sections check says so
        shown = []
        for c in present:
            with open(c, encoding="utf-8") as f:
                shown += image.findall(f.read())
        name = "a sequence diagram shows %s (lesson %s)" % (what, " or ".join(group))
        if shown or len(present) < len(group):
            # Found, or it may still come in a chapter of the group not written yet.
            report(True, name + (": %s" % ", ".join(shown) if shown else ": chapter to come"))
        else:
            report(False, name, ["none of %s shows a ![Caption](NAME.msc) image" % ", ".join(present),
                                 "write NAME.msc next to the chapter (docs/BOOK.md)"])


def norm(line):
    return re.sub(r"\s+", " ", line).strip()


def check_pasted():
    sources = {}
    for pattern in ("common/*.[ch]", "lessons/*/*.[ch]", "solutions/*/*.[ch]", "tests/lib/*.c",
                    "tests/demos/*.c", "tests/facts/*.[ch]"):
        for path in glob.glob(pattern):
            with open(path, encoding="utf-8", errors="replace") as f:
                sources[path] = [norm(l) for l in f if norm(l)]
    index = {}
    for path, lines in sources.items():
        for k, line in enumerate(lines):
            index.setdefault(line, []).append((path, k))
    bad = []
    for chapter in chapter_files():
        with open(chapter, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for info, body, n in code_blocks(lines):
            if "include=" in info or not re.match(r"^\{?\s*\.?c\b", info):
                continue
            block = [norm(l) for l in body if norm(l)]
            best, where = 0, None
            for i, line in enumerate(block):
                for path, k in index.get(line, ()):
                    run = 0
                    while (i + run < len(block) and k + run < len(sources[path])
                           and block[i + run] == sources[path][k + run]):
                        run += 1
                    if run > best:
                        best, where = run, path
            if best >= 4:
                bad.append("%s:%d: %d lines in a row are copied from %s; show them with "
                           '```{.c include="%s" snippet="NAME"}' % (chapter, n, best, where, where))
    report(not bad, "no chapter pastes project code by hand (C blocks use include=)", bad)


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.images = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"] or "")
        if tag in ("img", "image"):
            self.images.append(a.get("src") or a.get("href") or a.get("xlink:href") or "")


def check_links(html):
    page = Page()
    with open(html, encoding="utf-8") as f:
        page.feed(f.read())
    bad = []
    for href in page.links:
        if href.startswith("#"):
            if href[1:] not in page.ids:
                bad.append("href=\"%s\": no element has that id" % href)
        elif not re.match(r"^(https?|mailto):", href):
            bad.append("href=\"%s\": a link to a file, not into the book" % href)
    report(not bad, "no broken internal link in the HTML (%d links)" % len(page.links),
           sorted(set(bad)))
    missing = [s[:80] for s in page.images if not s.startswith("data:")]
    report(not missing, "every image in the HTML is embedded (%d images)" % len(page.images),
           ["not embedded: " + s for s in missing])


def check_markup(html):
    with open(html, encoding="utf-8") as f:
        text = f.read()
    body = re.sub(r"(?s)<style>.*?</style>", "", text)
    body = re.sub(r'(?s)src="data:[^"]*"', "", body)
    bad = []
    for pattern, what in ((r"```", "a code fence"), (r"include=&quot;|include=\"", "an include attribute"),
                          (r"\[snippet [\w.-]+\]", "a snippet marker"),
                          (r"\[end [\w.-]+\]", "an end marker"),
                          (r"\]\([^)\s]*\.(md|msc|dot)\b", "a Markdown link")):
        for m in re.finditer(pattern, body):
            bad.append("%s: ...%s..." % (what, body[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")))
    report(not bad, "no raw Markdown or snippet marker in the HTML", bad)


def check_margins(pdf):
    import subprocess
    name = "no text runs off the PDF's pages (code wraps or fits)"
    try:
        out = subprocess.run(["pdftotext", "-bbox", pdf, "-"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        report(False, name, ["pdftotext -bbox failed: %s" % e])
        return
    # print.css: 18 mm side margins (51 pt); a word may reach 6 pt into one.
    slack = 45.0
    bad = []
    for n, page in enumerate(re.split(r"<page ", out)[1:], 1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', page):
            x0, x1 = float(m.group(1)), float(m.group(2))
            if x1 > width - slack or x0 < slack:
                bad.append("page %d: \"%s\" reaches x=%.0f..%.0f of %.0f pt" % (n, m.group(3), x0, x1, width))
    report(not bad, name, bad)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    check, args = argv[0], argv[1:]
    {"sections": check_sections, "hints": check_hints, "own-solution": check_own_solution,
     "diagrams": check_diagrams,
     "pasted": check_pasted, "links": check_links, "markup": check_markup, "margins": check_margins}[check](*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
