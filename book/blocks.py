#!/usr/bin/env python3
"""book/blocks.py - the one reader of the chapters' fenced blocks and of the
code's snippet regions.

scripts/sync-snippets, book/checks.py and book/transcripts.py import it; the
book's filter (book/filters/book.lua) runs it for every include block:

    python3 book/blocks.py region FILE [NAME]

prints FILE, or its region NAME, and exits 0; or prints one line naming the
file and the region and exits 1.

    python3 book/blocks.py regions < REQUESTS

answers many at once (one process for the whole book): each line of
REQUESTS is "FILE<TAB>NAME" (NAME empty for the whole file); for each, in
order, it writes "ok\n" and the text, or "error\n" and the message,
followed by a NUL byte.

(pandoc 2.17 gives source positions only for CommonMark, not for the
pandoc Markdown the chapters are written in, so the line numbers a transcript
failure needs come from this parser, not from pandoc.)

Fenced blocks. A block opens with a line of three or more backticks or
tildes (optionally indented) followed by its info string: a language word
("text", "sh"), or attributes in braces

    ```{.text .illustrative reason="ports differ per machine"}
    ```{.c include="common/net.c" snippet="announce_listener"}

It closes with a line of at least as many of the same character and nothing
else. Anything between is the body, never parsed further, so a block shown
as an example inside ````-fences is not taken for a real one.

Regions. A region is every line between `// [snippet NAME]` and
`// [end NAME]` (`# [...]` in shell files), each marker alone on its line;
marker lines of other regions inside are left out. Without a name, the
whole file. Tabs are kept (the book's filter expands them).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
MARKER = re.compile(r"^\s*(?://|#)\s*\[(snippet|end)\s+([\w.-]+)\]\s*$")
ATTR = re.compile(r'([\w][\w-]*)\s*=\s*"([^"]*)"')


class Block:
    """One fenced block. line: the 1-based line of its opening fence;
    end: the 0-based index of its closing fence (len(lines) when unclosed);
    body: its lines; lang: the language word or first class ("" if none);
    classes: every class (lang included); attrs: key="value" attributes."""

    def __init__(self, line, end, indent, fence, info, body):
        self.line, self.end, self.indent, self.fence = line, end, indent, fence
        self.info, self.body = info, body
        self.classes, self.attrs = parse_info(info)
        self.lang = self.classes[0] if self.classes else ""

    def has(self, cls):
        return cls in self.classes


def parse_info(info):
    """(classes, attrs) of a fence's info string."""
    info = info.strip()
    if info.startswith("{") and info.endswith("}"):
        inner = info[1:-1]
        attrs = dict(ATTR.findall(inner))
        rest = ATTR.sub("", inner)
        classes = [w[1:] for w in rest.split() if w.startswith(".")]
        return classes, attrs
    return ([info.split()[0]] if info else []), {}


def fenced_blocks(lines):
    """Every fenced block of a Markdown text given as lines, in order."""
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.groups()
        close = re.compile(r"^\s*" + re.escape(fence[0]) + "{%d,}\\s*$" % len(fence))
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        out.append(Block(i + 1, j, indent, fence, info, lines[i + 1:j]))
        i = j + 1
    return out


def prose_lines(lines):
    """(1-based number, line) of every line outside fenced blocks."""
    inside = set()
    for b in fenced_blocks(lines):
        inside.update(range(b.line - 1, b.end + 1))
    return [(n + 1, l) for n, l in enumerate(lines) if n not in inside]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")


def region(path, name=None):
    """The text of PATH (from ROOT), or of its region NAME, as lines.
    Raises LookupError with a message naming file and region."""
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        raise LookupError('include "%s": no such file' % path)
    lines = read_lines(full)
    if lines and lines[-1] == "":
        lines.pop()
    out, inside, found, closed = [], name is None, False, False
    for line in lines:
        m = MARKER.match(line)
        if m:
            kind, mname = m.groups()
            if name is not None and mname == name:
                if kind == "snippet":
                    if found:
                        raise LookupError('region "%s" is marked twice in %s' % (name, path))
                    found = inside = True
                elif found and inside:
                    inside, closed = False, True
            continue
        if inside:
            out.append(line)
    if name is not None and not found:
        raise LookupError('region "%s" not found in %s (no line "// [snippet %s]")'
                          % (name, path, name))
    if name is not None and not closed:
        raise LookupError('region "%s" in %s has no end (no line "// [end %s]")'
                          % (name, path, name))
    return out


def main(argv):
    if argv == ["regions"]:
        for req in sys.stdin.read().split("\n"):
            if not req:
                continue
            path, _, name = req.partition("\t")
            try:
                sys.stdout.write("ok\n" + "\n".join(region(path, name or None)) + "\0")
            except LookupError as e:
                sys.stdout.write("error\n%s\0" % e)
        return 0
    if len(argv) in (2, 3) and argv[0] == "region":
        try:
            text = region(argv[1], argv[2] if len(argv) == 3 else None)
        except LookupError as e:
            print(e)
            return 1
        sys.stdout.write("\n".join(text))
        return 0
    print("usage: python3 book/blocks.py region FILE [NAME]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
