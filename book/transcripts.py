#!/usr/bin/env python3
"""book/transcripts.py - run the transcripts the chapters show.

Usage: python3 book/transcripts.py [CHAPTER.md ...]   (from the repository root;
       default: every lessons/NN-slug/README.md and book/*.md; LESSONS="02 05"
       limits the lessons)

A transcript is a fenced block (book/blocks.py reads them) with lines that
start with "$ ": each such line is a command (a line ending in "\\" goes on
in the next), the lines up to the next command are what it prints, in one
terminal. Every transcript is run and its output compared, unless its block
is marked illustrative with the reason the reader sees above it (the book's
filter prints it):

    ```{.text .illustrative reason="the server's address differs per machine"}

Each run transcript prints "ok - transcript: FILE line N" or "not ok - ..."
with "#" lines naming the line of the chapter, what it shows and what came;
each illustrative one "ok - transcript: FILE line N is illustrative: REASON"
("not ok" when it gives no reason).

How one runs: in a private network namespace (unshare -rn: ports 5000 or
8080 never collide, no packet leaves), in a fresh directory where ./PROG,
build/lessons/NN-slug/{asan,plain}/PROG and PATH give the reference
solutions' programs (build/solutions/NN-slug/plain/), build/tools is the
test tools and build/demos the chapters' demo programs, with LC_ALL=C.
Commands run one at a time (a command ending in "&" in the background), each
with stdout and stderr in one file. Before each command the runner waits (up
to WAIT seconds) until the commands so far have printed as many lines as the
transcript shows before it, so a server started with "&" is ready and a
background line is there before the next command, without sleeping. The
lines are compared in order within each command; the lines of two commands
running at once may interleave, as they do in a terminal. A foreground command has FG seconds;
what is still running at the end is killed; the whole transcript has TOTAL
seconds.

What varies is written as a placeholder: PORT, PORT2 (a port the kernel
chose), CLIENT_PORT, CLIENT_PORT2 (a client's port), PID, PID2. In the output
the first occurrence of a placeholder matches a number and binds it; later
occurrences must be that number, and a later command gets it substituted.
Two ports (or two PIDs) of different names must be different numbers.
Nothing else is matched loosely. A command "wait" is the shell's: it waits
until every background command has exited.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blocks import ROOT, fenced_blocks, read_lines  # noqa: E402  (the one parser)
import lessons as registry  # noqa: E402  (lessons/LESSONS)

WAIT, FG, TOTAL = 10, 20, 60
PLACEHOLDER = re.compile(r"\b(?:CLIENT_)?PORT\d?\b|\bPID\d?\b")


def report(ok, name, details=()):
    print(("ok - " if ok else "not ok - ") + name, flush=True)
    if not ok:
        for d in list(details)[:60]:
            print("# " + d, flush=True)


def is_transcript(block):
    return "include" not in block.attrs and any(l.startswith("$ ") for l in block.body)


def steps(block):
    """[(command, command's line number, [(line number, expected line)])]."""
    out, n, body = [], block.line + 1, block.body
    i = 0
    while i < len(body):
        line = body[i]
        if line.startswith("$ "):
            cmd, where = line[2:], n + i
            while cmd.endswith("\\") and i + 1 < len(body):
                i += 1
                cmd += "\n" + re.sub(r"^> ?", "", body[i])  # bash joins the lines
            out.append([cmd, where, []])
        elif out:
            out[-1][2].append((n + i, line))
        else:
            out.append([None, n + i, [(n + i, line)]])
        i += 1
    return out


# ---------------------------------------------------------------------------
# Matching with placeholders.

def match_line(want, got, bound):
    """True if GOT is WANT with its placeholders (binding new ones in BOUND)."""
    pattern, names, pos = "", [], 0
    for m in PLACEHOLDER.finditer(want):
        pattern += re.escape(want[pos:m.start()])
        name = m.group(0)
        if name in bound:
            pattern += re.escape(bound[name])
        elif name in names:
            pattern += "(?P=%s)" % name
        else:
            pattern += "(?P<%s>\\d+)" % name
            names.append(name)
        pos = m.end()
    pattern += re.escape(want[pos:])
    m = re.fullmatch(pattern, got.rstrip())
    if not m:
        return False
    # Two ports (or two PIDs) with different names are different numbers.
    family = lambda n: "PID" if n.startswith("PID") else "PORT"  # noqa: E731
    for name in names:
        taken = {v for k, v in bound.items() if family(k) == family(name)}
        taken |= {m.group(k) for k in names if k != name and family(k) == family(name)}
        if m.group(name) in taken:
            return False
    for name in names:
        bound[name] = m.group(name)
    return True


def substitute(cmd, bound):
    missing = [p for p in PLACEHOLDER.findall(cmd) if p not in bound]
    if missing:
        raise LookupError("the command uses %s before any output shows it" % ", ".join(missing))
    return PLACEHOLDER.sub(lambda m: bound[m.group(0)], cmd)


# ---------------------------------------------------------------------------
# The inner runner: inside the namespace, in the prepared directory.

def lines_of(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8", "replace")
    done = data.split("\n")
    return done[:-1], done[-1]  # complete lines, and an unfinished one


class Proc:
    """One command's process and what it printed (stdout and stderr, in order)."""

    def __init__(self, cmd, where, log, popen, background):
        self.cmd, self.where, self.log, self.popen = cmd, where, log, popen
        self.background, self.used = background, 0

    def lines(self):
        return lines_of(self.log)[0]


def wait_lines(procs, n, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sum(len(p.lines()) for p in procs) >= n:
            return True
        time.sleep(0.02)
    return False


def wait_background(procs, seconds):
    deadline = time.monotonic() + seconds
    for p in procs:
        try:
            p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
    return True


def kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            pass


def take(procs, expected, bound):
    """Match EXPECTED [(line number, text)] against the lines the processes
    printed and have not been matched yet: in order within each process;
    two processes running at once may interleave (as in a terminal).
    Returns the problems, [] when every line matched."""
    for n, want in expected:
        for p in procs:
            got = p.lines()
            if p.used < len(got) and match_line(want, got[p.used], bound):
                p.used += 1
                break
        else:
            pending = ["%s: %s" % (p.cmd, p.lines()[p.used]) for p in procs if p.used < len(p.lines())]
            return ["line %d: the chapter shows: %s" % (n, want),
                    "came: " + ("; ".join(pending) if pending else "nothing more (waited %ds)" % WAIT)]
    return []


def run_inner(spec_path):
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    env = dict(os.environ, LC_ALL="C", PATH=spec["path"], HOME=spec["dir"])
    bound, procs, last = {}, [], 0
    shown, pending, problems = 0, [], []  # lines shown so far; not yet matched

    for cmd, where, output in spec["steps"]:
        if cmd is not None:
            wait_lines(procs, shown, WAIT)
            problems = take(procs, pending, bound)
            pending = []
            if problems:
                break
            try:
                text = substitute(cmd, bound)
            except LookupError as e:
                problems = ["line %d: %s" % (where, e)]
                break
            if text.strip() == "wait":  # the shell's wait: for every background command
                if not wait_background(procs, FG):
                    problems = ["line %d: a background command did not exit within %ds" % (where, FG)]
                    break
                last = 0
                shown += len(output)
                pending += output
                continue
            bg = text.rstrip().endswith("&") and not text.rstrip().endswith("&&")
            if bg:
                text = text.rstrip()[:-1]
            log = os.path.join(spec["dir"], ".out.%d" % len(procs))
            with open(log, "wb") as out:
                popen = subprocess.Popen(["bash", "-c", "(exit %d); %s" % (last, text)],
                                         cwd=spec["dir"], env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            proc = Proc(cmd.replace("\\\n", " ").replace("\n", " "), where, log, popen, bg)
            procs.append(proc)
            if bg:
                last = 0
            else:
                try:
                    last = popen.wait(timeout=FG)
                except subprocess.TimeoutExpired:
                    kill_group(popen)
                    problems = ["line %d: `%s` did not finish in %ds" % (where, cmd, FG)]
                    break
                if last < 0:
                    last = 128 - last
        shown += len(output)
        pending += output
    if not problems:
        wait_lines(procs, shown, WAIT)
        problems = take(procs, pending, bound)
    for proc in procs:
        kill_group(proc.popen)
    if not problems:
        for p in procs:
            got, partial = lines_of(p.log)
            if p.used < len(got) or partial:
                extra = (got + [partial])[p.used]
                problems = ["line %d: `%s` printed more than the chapter shows: %s"
                            % (p.where, p.cmd, extra)]
                break
    if problems:
        problems.append("what each command printed:")
        for p in procs:
            got, partial = lines_of(p.log)
            problems.append("  line %d: $ %s%s" % (p.where, p.cmd, "" if got or partial else " (nothing)"))
            problems += ["    | " + l for l in got] + (["    | %s (no newline)" % partial] if partial else [])
    json.dump({"problems": problems}, sys.stdout)
    return 0


# ---------------------------------------------------------------------------
# The outer runner: prepare a directory, run the inner one in a namespace.

def programs(slug):
    d = os.path.join(ROOT, "build", "solutions", slug, "plain")
    return sorted(glob.glob(os.path.join(d, "*"))) if os.path.isdir(d) else []


def prepare(work, chapter):
    slugs = registry.slugs(ROOT)
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    mine = chapter.split("/")[1] if chapter.startswith("lessons/") else None
    for slug in slugs:
        for prog in programs(slug):
            name = os.path.basename(prog)
            os.symlink(prog, os.path.join(bindir, name))
            for kind in ("asan", "plain"):
                d = os.path.join(work, "build", "lessons", slug, kind)
                os.makedirs(d, exist_ok=True)
                os.symlink(prog, os.path.join(d, name))
            if slug == mine:
                os.symlink(prog, os.path.join(work, name))
    for sub in ("tools", "demos"):
        src = os.path.join(ROOT, "build", sub)
        if os.path.isdir(src):
            os.symlink(src, os.path.join(work, "build", sub))
    demos = os.path.join(ROOT, "build", "demos")
    return ":".join([bindir, demos, os.environ.get("PATH", "/usr/bin:/bin")])


def run_one(chapter, block):
    name = "transcript: %s line %d" % (chapter, block.line)
    work = tempfile.mkdtemp(prefix="transcript.", dir=os.path.join(ROOT, "build"))
    try:
        path = prepare(work, chapter)
        spec = {"dir": work, "path": path, "line": block.line, "steps": steps(block)}
        spec_path = os.path.join(work, ".spec.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        t0 = time.monotonic()
        try:
            r = subprocess.run(["timeout", "-k", "5", str(TOTAL), "unshare", "-rn", sys.executable,
                                os.path.abspath(__file__), "--inner", spec_path],
                               capture_output=True, text=True, timeout=TOTAL + 20)
            result = json.loads(r.stdout) if r.returncode == 0 and r.stdout else None
        except (subprocess.TimeoutExpired, ValueError):
            r, result = None, None
        if result is None:
            why = ["the run did not finish (limit %ds) or failed to start" % TOTAL]
            if r is not None:
                why += ["exit %d" % r.returncode] + r.stderr.splitlines()[-20:]
            report(False, name, why)
            return False
        problems = result["problems"]
        report(not problems, name,
               ["%s %s" % (chapter, p) if p.startswith("line ") else p for p in problems])
        if not problems:
            print("# %.1fs" % (time.monotonic() - t0))
        return not problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def chapters():
    files = [c for c in ("lessons/%s/README.md" % s for s in registry.slugs()) if os.path.isfile(c)]
    wanted = os.environ.get("LESSONS", "").split()
    if wanted:
        return [f for f in files if f.split("/")[1][:2] in wanted or f.split("/")[1] in wanted]
    return files + sorted(glob.glob("book/*.md"))


def main(argv):
    if argv[:1] == ["--inner"]:
        return run_inner(argv[1])
    os.chdir(ROOT)
    files = argv or chapters()
    found = [(c, b) for c in files for b in fenced_blocks(read_lines(c)) if is_transcript(b)]
    netns = subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    if not netns and any(not b.has("illustrative") for _, b in found):
        report(False, "transcripts run in a private network namespace",
               ["unshare -rn does not work here (are user namespaces disabled?);",
                "the transcripts use fixed ports and need one: none was run"])
    for chapter, block in found:
        if block.has("illustrative"):
            reason = block.attrs.get("reason", "").strip()
            report(bool(reason), "transcript: %s line %d is illustrative: %s"
                   % (chapter, block.line, reason or "(no reason given)"),
                   ['the block needs reason="..." after .illustrative: the line the '
                    "reader sees above it"])
        elif netns:
            run_one(chapter, block)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
