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
  fonts PDF         the PDF's fonts are exactly the declared ones
                    (`scripts/ensure-tools fonts`), all embedded (pdffonts)
  epub-fonts EPUB   the EPUB embeds each declared font that is not a
                    collection (.ttc), with an @font-face rule for it
  css-fonts         the stylesheets name no font but the declared ones
  multipage DIR     the multi-page HTML in DIR: every internal link reaches
                    a file and an id, every heading has its ¶ link, the
                    sidebar marks the page, previous/next chain the pages,
                    nothing is loaded from the network
  browser DIR       in headless Chromium: no page of DIR is wider than a
                    phone (390 px), no diagram's text runs past its label,
                    box or picture (the fonts as a reader gets them)
  search DIR        in headless Chromium: DIR/index.html#search=SO_REUSEADDR
                    lists lesson 06
"""
import glob
import html
import json
import os
import re
import sys
from html.parser import HTMLParser

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blocks import fenced_blocks, prose_lines, read_lines  # noqa: E402  (the one parser)
import lessons as registry  # noqa: E402  (lessons/LESSONS)

FIXED = ["What you will build", "Your turn", "Check your work", "Common mistakes",
         "Going further"]
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def report(ok, name, details=()):
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        for d in list(details)[:40]:
            print("# " + d)


def lessons():
    """Every lesson slug in lessons/LESSONS, in order."""
    return registry.slugs()


def chapters():
    """The chapter of every registered lesson that has one."""
    return [c for c in ("lessons/%s/README.md" % s for s in lessons()) if os.path.isfile(c)]


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
    for slug in lessons():
        suite = "tests/%s.bats" % slug
        if not os.path.isfile(suite):
            continue
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
    return chapters() + sorted(glob.glob("book/*.md"))


def check_own_solution():
    bad = []
    for chapter in chapters():
        slug = chapter.split("/")[1]
        with open(chapter, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for info, _, n in code_blocks(lines):
            m = re.search(r'include="([^"]*)"', info)
            if m and os.path.normpath(m.group(1)).startswith("solutions/%s/" % slug):
                bad.append("%s:%d shows %s (the book has an appendix for solutions)"
                           % (chapter, n, m.group(1)))
    report(not bad, "no chapter shows its own lesson's solution", bad)


def check_diagrams():
    """Where messages flow, one chapter of each diagram group (the diagram
    field of lessons/LESSONS) shows a sequence diagram."""
    written = {c.split("/")[1][:2]: c for c in chapters()}
    image = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.(?:msc|dot))\)")
    for what, group in registry.diagram_groups():
        present = [written[n] for n in group if n in written]
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


def declared_fonts():
    import subprocess
    out = subprocess.run(["scripts/ensure-tools", "fonts"], check=True, capture_output=True,
                         text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


# A face's name in a PDF is its family's with "-" for spaces, and a style.
STYLE_WORDS = {"Regular", "Book", "Bold", "Italic", "Oblique", "Medium", "Light", "Semibold",
               "BoldItalic", "BoldOblique"}


def check_fonts(pdf):
    import subprocess
    name = "the PDF's fonts are exactly the declared ones, embedded (pdffonts)"
    try:
        declared = declared_fonts()
        out = subprocess.run(["pdffonts", pdf], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        report(False, name, ["pdffonts or scripts/ensure-tools fonts failed: %s" % e])
        return
    used, bad = set(), []
    for line in out.splitlines()[2:]:
        cols = line.split()
        if not cols:
            continue
        face = re.sub(r"^[A-Z]{6}\+", "", cols[0])
        emb = cols[-5] if len(cols) >= 6 else "?"
        family = None
        for d in sorted(declared, key=len, reverse=True):
            stem = d.replace(" ", "-")
            rest = face[len(stem):].lstrip("-")
            if face.startswith(stem) and (rest == "" or set(rest.split("-")) <= STYLE_WORDS):
                family = d
                break
        if family is None:
            bad.append("%s is used but not declared (a font the machine happened to have: "
                       "a glyph no declared font has, or a font name in the CSS)" % face)
            continue
        used.add(family)
        if emb != "yes":
            bad.append("%s is not embedded" % face)
    for d in declared:
        if d not in used:
            bad.append('"%s" is declared but the PDF does not use it (its package missing? '
                       "fc-list '%s' shows nothing?); or drop it from scripts/ensure-tools" % (d, d))
    if bad:
        bad.append("declared (scripts/ensure-tools fonts): %s" % ", ".join(declared))
    report(not bad, name + " (%s)" % ", ".join(sorted(used)), bad)


def check_epub_fonts(epub):
    import subprocess
    import zipfile
    name = "the EPUB embeds the declared fonts, each with its @font-face rule"
    try:
        declared = declared_fonts()
        z = zipfile.ZipFile(epub)
    except (OSError, subprocess.CalledProcessError, zipfile.BadZipFile) as e:
        report(False, name, ["cannot read %s or the declared fonts: %s" % (epub, e)])
        return
    files = {os.path.basename(n) for n in z.namelist() if n.startswith("EPUB/fonts/")}
    css = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".css"))
    faces = re.findall(r'@font-face\s*\{[^}]*font-family:\s*"([^"]+)"[^}]*url\("\.\./fonts/([^"]+)"\)', css)
    bad, shown = [], set()
    for family in declared:
        out = subprocess.run(["fc-list", "-f", "%{file}\n", family], capture_output=True, text=True).stdout
        if out.strip() and all(f.endswith(".ttc") for f in out.split()):
            continue  # a collection: named, not carried (docs/BOOK.md, "Fonts")
        got = [f for fam, f in faces if fam == family]
        if not got:
            bad.append('"%s": no @font-face rule in the EPUB\'s stylesheets' % family)
        kinds = {(w, st) for fam, w, st in re.findall(
            r'@font-face\s*\{[^}]*font-family:\s*"([^"]+)";\s*font-weight:\s*(\w+);\s*font-style:\s*(\w+)', css)
            if fam == family}
        missing = {("normal", "normal"), ("bold", "normal"), ("normal", "italic"), ("bold", "italic")} - kinds
        if got and missing:
            bad.append('"%s": no %s face (its package missing? the reader would get a faked one)'
                       % (family, ", ".join(sorted("%s %s" % m for m in missing))))
        for f in got:
            if f not in files:
                bad.append('"%s": its rule names fonts/%s, which the EPUB does not carry' % (family, f))
        shown.add(family)
    report(not bad, name + " (%s; %d files)" % (", ".join(sorted(shown)), len(files)), bad)


def check_css_fonts():
    declared = set(declared_fonts())
    bad = []
    for css in sorted(glob.glob("book/*.css")):
        with open(css, encoding="utf-8") as f:
            text = re.sub(r"(?s)/\*.*?\*/", "", f.read())
        for n, m in enumerate(re.finditer(r"(?:font-family|\bfont)\s*:\s*([^;}]*)", text)):
            value = m.group(1)
            if m.group(0).startswith("font:"):  # the shorthand: the family list comes last
                value = re.sub(r"^.*?\d[\d.]*(pt|px|em|rem|%)(/[\d.]+\w*)?\s*", "", value)
            for fam in (f.strip().strip('"\'') for f in value.split(",")):
                if fam and fam not in declared and fam != "inherit":
                    line = text[:m.start()].count("\n") + 1
                    bad.append('%s:%d names "%s", which no declared package installs' % (css, line, fam))
    report(not bad, "the stylesheets name only the declared fonts (%s)" % ", ".join(sorted(declared)), bad)


class Site(HTMLParser):
    """The parts of a multi-page book page that the checks look at."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.resources = set(), [], []
        self.headings, self.current, self.rel = [], [], {}
        self._heading = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"] or "")
            if self._heading is not None and "anchor" in (a.get("class") or "").split():
                self._heading[1] = a["href"]
            if a.get("aria-current") == "page":
                self.current.append(a["href"])
        if tag in ("link", "script", "img", "iframe", "source") and (a.get("src") or a.get("href")):
            self.resources.append(a.get("src") or a.get("href"))
        if tag == "link" and a.get("rel") in ("prev", "next"):
            self.rel[a["rel"]] = a.get("href")
        if re.match(r"^h[1-6]$", tag):
            self._heading = [tag, None, ""]

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[2] += data

    def handle_endtag(self, tag):
        if self._heading is not None and tag == self._heading[0]:
            self.headings.append(tuple(self._heading))
            self._heading = None


def check_multipage(site):
    pages = {}
    for path in sorted(glob.glob(os.path.join(site, "*.html"))):
        p = Site()
        with open(path, encoding="utf-8") as f:
            p.feed(f.read())
        pages[os.path.basename(path)] = p
    if "index.html" not in pages or len(pages) < 2:
        report(False, "the multi-page HTML book is there (%s)" % site,
               ["found: %s" % (", ".join(pages) or "nothing")])
        return
    report(True, "the multi-page HTML book is there: an index and %d pages (%s)" % (len(pages) - 1, site))
    broken, count = [], 0
    for name, p in pages.items():
        for href in p.links:
            if re.match(r"^(https?|mailto):", href):
                continue
            count += 1
            target, _, frag = href.partition("#")
            target = target or name
            if target not in pages:
                if not os.path.isfile(os.path.join(site, target)):
                    broken.append("%s: href=\"%s\": no file %s" % (name, href, target))
                continue
            if frag and frag not in pages[target].ids:
                broken.append("%s: href=\"%s\": %s has no id \"%s\"" % (name, href, target, frag))
    report(not broken, "every internal link of the multi-page book reaches its page and id (%d links)"
           % count, sorted(set(broken)))
    bad = []
    for name, p in pages.items():
        for tag, href, text in p.headings:
            if not href:
                bad.append("%s: <%s> \"%s\" has no ¶ link" % (name, tag, text.strip()[:60]))
            elif href[1:] not in p.ids:
                bad.append("%s: <%s> \"%s\": its link %s has no id" % (name, tag, text.strip()[:60], href))
    report(not bad, "every heading of the multi-page book has a ¶ link to itself (%d headings)"
           % sum(len(p.headings) for p in pages.values()), bad)
    bad = ["%s: the sidebar marks %s as the page shown" % (n, p.current or "no page")
           for n, p in pages.items() if p.current != [n]]
    report(not bad, "the sidebar marks the page shown, on every page", bad)
    # The order is the sidebar's: index, then the chapters.
    order = ["index.html"] + [h for h in pages["index.html"].links
                              if "#" not in h and h in pages and h != "index.html"]
    order = list(dict.fromkeys(order))
    bad = []
    if set(order) != set(pages):
        bad.append("pages the index does not list: %s" % ", ".join(sorted(set(pages) - set(order))))
    for i, name in enumerate(order):
        want_prev = order[i - 1] if i > 0 else None
        want_next = order[i + 1] if i + 1 < len(order) else None
        got = pages[name].rel
        if got.get("prev") != want_prev or got.get("next") != want_next:
            bad.append("%s: previous %s, next %s; expected %s, %s"
                       % (name, got.get("prev"), got.get("next"), want_prev, want_next))
    report(not bad, "previous/next links lead through the pages in order (%d pages)" % len(order), bad)
    bad = ["%s loads %s" % (n, r) for n, p in pages.items() for r in p.resources
           if re.match(r"^(https?:)?//", r)]
    report(not bad, "the multi-page book loads nothing from the network", bad)


CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_dom(url, extra=(), budget=20000, timeout=120):
    """The DOM of URL after its scripts ran, as headless Chromium has it."""
    import shutil
    import subprocess
    import tempfile
    profile = tempfile.mkdtemp(prefix="book-chromium.")
    try:
        return subprocess.run(CHROMIUM + ["--user-data-dir=" + profile] + list(extra) +
                              ["--virtual-time-budget=%d" % budget, "--dump-dom", url],
                              check=True, capture_output=True, text=True, timeout=timeout).stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def check_search(site):
    import subprocess
    name = 'searching the multi-page book for "SO_REUSEADDR" finds lesson 06 (headless Chromium)'
    url = "file://" + os.path.abspath(os.path.join(site, "index.html")) + "#search=SO_REUSEADDR"
    try:
        dom = chromium_dom(url)
    except (OSError, subprocess.SubprocessError) as e:
        report(False, name, ["chromium failed: %s" % e])
        return
    m = re.search(r'(?s)<div id="search-results"[^>]*>(.*?)</div>', dom)
    results = re.findall(r'<a href="([^"]*)"', m.group(1)) if m else []
    ok = any(r.startswith("lesson-06.html") for r in results[:5])
    report(ok, name + " (%d results)" % len(results),
           ["the first results: %s" % (", ".join(results[:5]) or "none"),
            "the results panel: %s" % (re.sub(r"<[^>]+>", " ", m.group(1))[:300] if m else "not found")])


# Run in headless Chromium by check_browser: each page in a phone-wide frame.
PROBE_JS = r"""
var pages = %s, out = [], i = 0;
function rect(poly) {
  var p = poly.getAttribute('points').trim().split(/[\s,]+/).map(Number), xs = [], ys = [];
  for (var k = 0; k < p.length; k += 2) { xs.push(p[k]); ys.push(p[k + 1]); }
  return {x0: Math.min.apply(null, xs), x1: Math.max.apply(null, xs),
          y0: Math.min.apply(null, ys), y1: Math.max.apply(null, ys)};
}
function label(t) { return '"' + t.textContent.trim().slice(0, 50) + '"'; }
function diagrams(name, d) {
  d.querySelectorAll('svg.diagram').forEach(function (svg, n) {
    var vb = svg.viewBox.baseVal, boxes = [], where = name + ' diagram ' + (n + 1);
    var kids = Array.prototype.slice.call(svg.children);
    kids.forEach(function (el, k) {
      if (el.tagName === 'polygon' && el.getAttribute('fill') === 'white' &&
          !(kids[k + 1] && kids[k + 1].tagName === 'text')) boxes.push(rect(el));
    });
    var seen = [];
    kids.forEach(function (t, k) {
      if (t.tagName !== 'text' || !t.textContent.trim()) return;
      // The text's own width: Chromium would squeeze it into mscgen's
      // textLength, weasyprint (the PDF) does not.
      t.removeAttribute('textLength');
      var b = t.getBBox(), x0 = b.x, x1 = b.x + b.width, prev = kids[k - 1];
      if (x0 < vb.x - 0.5 || x1 > vb.x + vb.width + 0.5)
        out.push(where + ': ' + label(t) + ' runs out of the picture: x ' + x0.toFixed(1) + '..' +
                 x1.toFixed(1) + ' of 0..' + vb.width);
      if (prev && prev.tagName === 'polygon') {
        var bg = rect(prev), slack = 1.5;
        if (x0 < bg.x0 - slack || x1 > bg.x1 + slack)
          out.push(where + ': ' + label(t) + ' is ' + (b.width - (bg.x1 - bg.x0)).toFixed(1) +
                   ' px wider than the room mscgen made for it (' + (bg.x1 - bg.x0) + ' px): ' +
                   'another font than the one it was laid out for?');
        var cy = (bg.y0 + bg.y1) / 2, cx = (bg.x0 + bg.x1) / 2;
        boxes.forEach(function (r) {
          if (cx > r.x0 && cx < r.x1 && cy > r.y0 && cy < r.y1 &&
              (x0 < r.x0 - 0.5 || x1 > r.x1 + 0.5 || b.y < r.y0 - 0.5 || b.y + b.height > r.y1 + 0.5))
            out.push(where + ': ' + label(t) + ' runs past its box (a label mscgen wrapped? ' +
                     'keep labels to one line that fits)');
        });
      }
      // Lines of a wrapped label crowd each other: mscgen's line pitch is
      // less than the font's height.
      seen.forEach(function (o) {
        var dx = Math.min(x1, o.x1) - Math.max(x0, o.x0);
        var dy = Math.min(b.y + b.height, o.y1) - Math.max(b.y, o.y0);
        if (dx > 0.5 && dy > 1)
          out.push(where + ': ' + label(t) + ' overlaps ' + o.label + ' (a label mscgen wrapped?)');
      });
      seen.push({x0: x0, x1: x1, y0: b.y, y1: b.y + b.height, label: label(t)});
    });
  });
}
function next() {
  if (i >= pages.length) { document.getElementById('out').textContent = 'done\n' + out.join('\n'); return; }
  var name = pages[i++], f = document.getElementById('f');
  f.onload = function () {
    var d = f.contentDocument;
    d.fonts.ready.then(function () {
      var w = d.documentElement.scrollWidth, c = d.documentElement.clientWidth;
      if (w > c + 1) {
        var wide = Array.prototype.filter.call(d.querySelectorAll('main *'), function (e) {
          var r = e.getBoundingClientRect(); return r.right > c + 1 && !e.closest('pre, table');
        }).slice(0, 3).map(function (e) { return '<' + e.tagName.toLowerCase() + '> ' + e.textContent.trim().slice(0, 40); });
        out.push(name + ': ' + w + ' px wide at a phone\'s ' + c + ' px; too wide: ' + wide.join('; '));
      }
      diagrams(name, d);
      next();
    });
  };
  f.src = %s + name;
}
next();
"""


def check_browser(site):
    import subprocess
    import tempfile
    name = ("in headless Chromium at a phone's width (390 px) no page is wider than the screen, "
            "and no diagram's text runs past its label, box or picture")
    site = os.path.abspath(site)
    pages = sorted(os.path.basename(p) for p in glob.glob(os.path.join(site, "*.html")))
    probe = tempfile.NamedTemporaryFile("w", suffix=".html", prefix="probe.", dir=os.path.dirname(site),
                                        delete=False, encoding="utf-8")
    with probe:
        probe.write('<!DOCTYPE html><html><body style="margin:0">'
                    '<iframe id="f" style="width:390px;height:844px;border:0"></iframe>'
                    '<pre id="out">not finished</pre><script>%s</script></body></html>'
                    % (PROBE_JS % (json.dumps(pages), json.dumps("file://" + site + "/"))))
    try:
        dom = chromium_dom("file://" + probe.name, ["--allow-file-access-from-files"], budget=60000,
                           timeout=240)
    except (OSError, subprocess.SubprocessError) as e:
        report(False, name, ["chromium failed: %s" % e])
        return
    finally:
        os.unlink(probe.name)
    m = re.search(r'(?s)<pre id="out">(.*?)</pre>', dom)
    text = html.unescape(m.group(1)) if m else "no result"
    lines = [line for line in text.split("\n") if line.strip()]
    if lines[0] != "done":
        report(False, name, ["the probe did not finish: %s" % text[:200]])
        return
    report(len(lines) == 1, name + " (%d pages)" % len(pages), lines[1:])


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    check, args = argv[0], argv[1:]
    {"sections": check_sections, "hints": check_hints, "own-solution": check_own_solution,
     "diagrams": check_diagrams,
     "pasted": check_pasted, "links": check_links, "markup": check_markup, "margins": check_margins,
     "fonts": check_fonts, "css-fonts": check_css_fonts, "epub-fonts": check_epub_fonts, "multipage": check_multipage,
     "browser": check_browser, "search": check_search}[check](*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
