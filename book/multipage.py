#!/usr/bin/env python3
"""book/multipage.py - the multi-page HTML book, from one pandoc page.

Usage: python3 book/multipage.py BOOK.html OUT_DIR FONTS.tsv

BOOK.html is pandoc's output with book/multipage.template and
--section-divs: every chapter (front matter, lesson, appendix) is one
<section class="level1">. This writes into OUT_DIR (scripts/book makes it
build/book/html/):

  index.html          the title and the whole table of contents
  CHAPTER-ID.html     one page per chapter, named by its id (lesson-06.html)
  search-index.js     the text of every section, for the search box
  style.css book.css book.js code.css fonts.css fonts/

Each page has the sidebar (every chapter; the current one marked and
opened to its sections), previous/next links, a ¶ link on every heading,
and the search box. Links "#id" become "PAGE.html#id" when the id is on
another page; diagrams (SVG) are put inline, so the page's fonts apply.
FONTS.tsv lists the font files to ship (FILE<TAB>FAMILY<TAB>WEIGHT<TAB>
STYLE, made by scripts/book). Only the standard library: Debian's pandoc
(2.17) has no chunked-HTML writer, and no second toolchain is wanted.
docs/BOOK.md, "The multi-page HTML book", says more.
"""
import html
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LEVEL1 = re.compile(r'^<section id="([^"]+)" class="level1"[^>]*>\n', re.M)
SECTION_HEAD = re.compile(r'<section id="([^"]+)" class="level(\d)"([^>]*)>\s*<h(\d)([^>]*)>(.*?)</h\4>', re.S)
ANY_ID = re.compile(r'\sid="([^"]+)"')
HREF = re.compile(r'href="#([^"]*)"')
DIAGRAM = re.compile(r'<img src="([^"]+\.svg)" class="diagram"\s*alt="([^"]*)"\s*/>', re.S)
IMG = re.compile(r'<img src="([^"]+)"')


def plain(fragment):
    """The text of an HTML fragment: no tags, entities decoded, one space."""
    text = re.sub(r"(?s)<svg\b.*?</svg>", " ", fragment)
    # A block's tags part words; inline ones (code, em, a, span) do not.
    text = re.sub(r"</?(p|div|li|ul|ol|dl|dt|dd|pre|h\d|table|tr|td|th|br|section|figure|"
                  r"figcaption|blockquote|header|nav)\b[^>]*>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def inline_text(fragment):
    """A heading's HTML without anchors, for the sidebar and the title."""
    return re.sub(r'<a class="anchor"[^>]*>.*?</a>', "", fragment).strip()


def read_parts(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parts = {}
    for m in re.finditer(r"<!-- book:(\w+) -->(.*?)(?=<!-- book:|\Z)", text, re.S):
        parts[m.group(1)] = m.group(2).strip()
    return parts


class Chapter:
    def __init__(self, ident, body):
        self.id = ident
        self.file = ident + ".html"
        self.body = body
        m = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
        self.title_html = m.group(1).strip() if m else ident
        self.title = plain(self.title_html)
        self.sections = [(sid, head.strip()) for sid, level, _, _, _, head in SECTION_HEAD.findall(body)
                         if level == "2"]
        self.ids = set(ANY_ID.findall(body))


def split(body):
    """The chapters of the body, in order."""
    starts = list(LEVEL1.finditer(body))
    if not starts:
        sys.exit("multipage: no <section class=\"level1\"> in the book (was --section-divs given?)")
    chapters = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        chunk = body[m.start():end].rstrip()
        chapters.append(Chapter(m.group(1), chunk))
    return chapters


def relink(chapter, where):
    """Links to ids on other pages go to those pages."""
    def fix(m):
        ident = m.group(1)
        page = where.get(ident)
        if page is None or page is chapter:
            return m.group(0)
        if ident == page.id:
            return 'href="%s"' % page.file
        return 'href="%s#%s"' % (page.file, ident)
    return HREF.sub(fix, chapter.body)


def anchor(ident):
    return ('<a class="anchor" href="#%s" aria-label="Link to this section" '
            'title="Link to this section">¶</a>' % ident)


def anchors(body):
    """A ¶ link after every heading, to its section's id."""
    def add(m):
        sid, level, attrs, hl, hattrs, head = m.groups()
        link = anchor(sid)
        return ('<section id="%s" class="level%s"%s>\n<h%s%s>%s&nbsp;%s</h%s>'
                % (sid, level, attrs, hl, hattrs, head, link, hl))
    return SECTION_HEAD.sub(add, body)


def inline_diagrams(body):
    """Each diagram's SVG in the page: searchable text, the page's fonts."""
    def put(m):
        src, alt = html.unescape(m.group(1)), m.group(2)
        with open(src, encoding="utf-8") as f:
            svg = f.read()
        svg = re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)
        svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
        return re.sub(r"<svg\b", '<svg class="diagram" role="img" aria-label="%s"' % alt, svg, count=1)
    return DIAGRAM.sub(put, body)


def copy_images(body, out):
    """Any other image is copied next to the pages."""
    def put(m):
        src = html.unescape(m.group(1))
        if re.match(r"^(data:|https?:)", src):
            return m.group(0)
        os.makedirs(os.path.join(out, "images"), exist_ok=True)
        name = "images/" + os.path.basename(src)
        shutil.copyfile(src, os.path.join(out, name))
        return '<img src="%s"' % name
    return IMG.sub(put, body)


def search_entries(chapter):
    """One entry per section: [url, chapter, section, text]."""
    entries = []
    # Each section's own text: up to the next section start, nested or not.
    cuts = [(m.start(), m.group(1), m.group(6)) for m in SECTION_HEAD.finditer(chapter.body)]
    for i, (start, sid, head) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(chapter.body)
        chunk = chapter.body[start:end]
        chunk = re.sub(r"(?s)<h\d[^>]*>.*?</h\d>", " ", chunk, count=1)
        url = chapter.file if sid == chapter.id else "%s#%s" % (chapter.file, sid)
        entries.append([url, chapter.title, plain(head), plain(chunk)])
    return entries


def sidebar(chapters, current):
    out = ['<ol class="toc">']
    cls = ' class="current"' if current is None else ""
    aria = ' aria-current="page"' if current is None else ""
    out.append('<li%s><a href="index.html"%s>Title page</a></li>' % (cls, aria))
    for ch in chapters:
        if ch is current:
            out.append('<li class="current"><a href="%s" aria-current="page">%s</a>' % (ch.file, ch.title_html))
            if ch.sections:
                out.append('<ol>')
                for sid, head in ch.sections:
                    out.append('<li><a href="#%s">%s</a></li>' % (sid, inline_text(head)))
                out.append('</ol>')
            out.append('</li>')
        else:
            out.append('<li><a href="%s">%s</a></li>' % (ch.file, ch.title_html))
    out.append('</ol>')
    return "\n".join(out)


def prevnext(prev, nxt):
    out = ['<nav class="prevnext" aria-label="Previous and next">']
    if prev is not None:
        out.append('<a class="prev" rel="prev" href="%s"><span class="dir">Previous</span> %s</a>'
                   % (prev[0], prev[1]))
    else:
        out.append('<span class="prev"></span>')
    if nxt is not None:
        out.append('<a class="next" rel="next" href="%s"><span class="dir">Next</span> %s</a>'
                   % (nxt[0], nxt[1]))
    out.append('</nav>')
    return "\n".join(out)


PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="fonts.css">
<link rel="stylesheet" href="style.css">
<link rel="stylesheet" href="code.css">
<link rel="stylesheet" href="book.css">
{links}<script src="book.js" defer></script>
</head>
<body class="multipage">
<a class="skip" href="#content">Skip to the text</a>
<header class="topbar">
<button type="button" id="toc-toggle" aria-controls="sidebar" aria-expanded="false">Contents</button>
<a class="book-title" href="index.html">{book}</a>
<form class="search" role="search" action="#" onsubmit="return false">
<input type="search" id="search" placeholder="Search the book" aria-label="Search the book" autocomplete="off">
</form>
</header>
<nav id="sidebar" class="sidebar" aria-label="Contents">
{sidebar}
</nav>
<main id="content">
<div id="search-results" class="search-results" aria-live="polite" hidden></div>
<article id="chapter">
{body}
</article>
{prevnext}
</main>
</body>
</html>
"""


def page(meta, chapters, current, body, prev, nxt):
    title = meta["title"] if current is None else "%s · %s" % (current.title, meta["title"])
    links = ""
    if prev is not None:
        links += '<link rel="prev" href="%s">\n' % prev[0]
    if nxt is not None:
        links += '<link rel="next" href="%s">\n' % nxt[0]
    return PAGE.format(lang=meta["lang"] or "en", title=html.escape(title, quote=False), links=links,
                       book=meta["title"], sidebar=sidebar(chapters, current), body=body,
                       prevnext=prevnext(prev, nxt))


def index_body(meta, chapters):
    out = ['<header id="title-block-header">',
           '<h1 class="title" id="title">%s&nbsp;%s</h1>' % (meta["title"], anchor("title"))]
    if meta.get("subtitle"):
        out.append('<p class="subtitle">%s</p>' % meta["subtitle"])
    out.append('</header>')
    if meta.get("description"):
        out.append('<p>%s</p>' % meta["description"])
    out.append('<nav id="TOC" aria-label="The chapters"><h2 id="contents">Contents&nbsp;%s</h2><ul>'
               % anchor("contents"))
    for ch in chapters:
        out.append('<li><a href="%s">%s</a>' % (ch.file, ch.title_html))
        if ch.sections:
            out.append('<ul>')
            for sid, head in ch.sections:
                out.append('<li><a href="%s#%s">%s</a></li>' % (ch.file, sid, inline_text(head)))
            out.append('</ul>')
        out.append('</li>')
    out.append('</ul></nav>')
    return "\n".join(out)


def fonts(tsv, out):
    """Copy the book's font files and write their @font-face rules."""
    os.makedirs(os.path.join(out, "fonts"), exist_ok=True)
    rules = ["/* The book's fonts (scripts/ensure-tools fonts), shipped with the pages. */"]
    with open(tsv, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            path, family, weight, style = line.rstrip("\n").split("\t")
            name = os.path.basename(path)
            shutil.copyfile(path, os.path.join(out, "fonts", name))
            rules.append('@font-face { font-family: "%s"; font-weight: %s; font-style: %s; '
                         'font-display: swap; src: url("fonts/%s"); }' % (family, weight, style, name))
    with open(os.path.join(out, "fonts.css"), "w", encoding="utf-8") as f:
        f.write("\n".join(rules) + "\n")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, out, tsv = argv
    parts = read_parts(source)
    meta = {k: parts.get(k, "") for k in ("title", "subtitle", "lang", "description")}
    chapters = split(parts.get("body", ""))
    where = {}
    for ch in chapters:
        for ident in ch.ids:
            where.setdefault(ident, ch)
    os.makedirs(out, exist_ok=True)
    entries = []
    for ch in chapters:
        ch.body = relink(ch, where)
        ch.body = copy_images(inline_diagrams(ch.body), out)
        entries.extend(search_entries(ch))
        ch.body = anchors(ch.body)
    order = [("index.html", meta["title"])] + [(ch.file, ch.title_html) for ch in chapters]
    write(os.path.join(out, "index.html"),
          page(meta, chapters, None, index_body(meta, chapters), None, order[1] if len(order) > 1 else None))
    for i, ch in enumerate(chapters, 1):
        nxt = order[i + 1] if i + 1 < len(order) else None
        write(os.path.join(out, ch.file), page(meta, chapters, ch, ch.body, order[i - 1], nxt))
    write(os.path.join(out, "search-index.js"),
          "/* The book's sections for the search box (book/multipage.py). */\n"
          "window.BOOK_SEARCH = " + json.dumps(entries, ensure_ascii=False, separators=(",", ":")) + ";\n")
    write(os.path.join(out, "code.css"), "/* pandoc's code highlighting (book/code.theme). */\n"
          + parts.get("css", "") + "\n")
    for name, as_name in (("style.css", "style.css"), ("multipage.css", "book.css"),
                          ("multipage.js", "book.js")):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(out, as_name))
    fonts(tsv, out)
    print("multipage: %d pages and an index in %s (%d sections searchable)"
          % (len(chapters), out, len(entries)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
