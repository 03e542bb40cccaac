"""The lesson registry, lessons/LESSONS, as Python sees it.

One record a line: "NN slug programs tsan diagram builds..." for a lesson,
"diagram KEY WHAT..." for a diagram group (the file's header says what each
field is). book/checks.py, book/transcripts.py and scripts/mutate read the
lessons from here; scripts/lib.sh (and through it every bash script,
scripts/gradescope/run_autograder among them) and book/filters/book.lua
read the same file their own way.
"""

import os
import re
from collections import namedtuple

Lesson = namedtuple("Lesson", "number name slug programs tsan diagram builds")

LESSON = re.compile(r"^(\d\d)\s+(\S+)\s+(\S+)\s+(yes|no)\s+(\S+)\s+(.*?)\s*$")
DIAGRAM = re.compile(r"^diagram\s+(\S+)\s+(.*?)\s*$")


def registry_path(root="."):
    return os.path.join(root, "lessons", "LESSONS")


def read(root="."):
    """(lessons in order, {diagram key: what}); ValueError names a bad line."""
    lessons, diagrams = [], {}
    with open(registry_path(root), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            m = LESSON.match(text)
            if m:
                nn, name, programs, tsan, diagram, builds = m.groups()
                lessons.append(Lesson(nn, name, "%s-%s" % (nn, name), programs.split(","),
                                      tsan == "yes", None if diagram == "-" else diagram, builds))
                continue
            m = DIAGRAM.match(text)
            if m:
                diagrams[m.group(1)] = m.group(2)
                continue
            raise ValueError("lessons/LESSONS:%d: not a lesson or diagram record: %s" % (n, text))
    return lessons, diagrams


def slugs(root="."):
    """Every registered slug (NN-name), in the registry's order."""
    return [l.slug for l in read(root)[0]]


def diagram_groups(root="."):
    """[(what, [NN, ...])] in the order the groups are declared."""
    lessons, diagrams = read(root)
    return [(what, [l.number for l in lessons if l.diagram == key])
            for key, what in diagrams.items()]
