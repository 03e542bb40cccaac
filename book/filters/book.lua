--[[
book/filters/book.lua - assemble the book from its parts (pandoc 2.17+).

scripts/book runs pandoc once with this filter to make build/book/book.json;
the HTML, EPUB and PDF are written from that. The parts are named, one per
line and relative to the repository's root (the working directory), in the
environment variable BOOK_PARTS ("FILE", or "FILE<TAB>AS" for a part
generated into FILE that stands for the source file AS). Without it, the filter treats the input
document as the only part, so it can be tried on one file:

    pandoc --lua-filter book/filters/book.lua lessons/02-tcp-server/README.md

For each part it
  * fills every code block that has an `include="PATH"` attribute with the
    file (PATH from the repository's root), or with the region between the
    lines `// [snippet NAME]` and `// [end NAME]` when it also has
    `snippet="NAME"`; marker lines never appear in the output, and tabs
    become spaces at 4-column stops;
  * renders every image whose source ends in .msc (mscgen) or .dot (graphviz)
    to SVG in BOOK_DIAGRAMS (default build/book/diagrams);
  * makes every identifier unique in the book by prefixing it with the part's
    key ("lesson-02-your-turn"); the part's first level-1 heading gets the
    key itself ("lesson-02");
  * rewrites links: "#section" inside a part, "../02-tcp-server/README.md" and
    "../02-tcp-server/README.md#section" across parts become links inside the
    book; a link to a repository file that is not a part becomes plain text.

Every missing file, region or diagram is reported (part, file, region) and
the filter exits 1 after the whole book has been looked at, so one run shows
every problem.
]]

local path = pandoc.path
local stringify = pandoc.utils.stringify

local DIAGRAMS = os.getenv("BOOK_DIAGRAMS") or "build/book/diagrams"
-- The diagrams' font, one that scripts/ensure-tools installs. mscgen sizes
-- boxes and arcs with Helvetica's widths, which Liberation Sans shares (the
-- same advance width for every character), so its labels fit as laid out;
-- graphviz measures the font it is given.
local DIAGRAM_FONT = "Liberation Sans"
local TAB = 4

local errors = {}
local function fail(part, msg)
  errors[#errors + 1] = string.format("book: %s: %s", part, msg)
end

local function read_file(name)
  local f = io.open(name, "rb")
  if not f then
    return nil
  end
  local text = f:read("a")
  f:close()
  return text
end

local function is_file(name)
  local f = io.open(name, "rb")
  if not f then
    return false
  end
  -- io.open succeeds on a directory; reading it does not.
  local ok = f:read(0)
  f:close()
  return ok ~= nil
end

local function split_lines(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line
  end
  -- A final newline does not start one more (empty) line.
  if #lines > 0 and lines[#lines] == "" and text:sub(-1) == "\n" then
    lines[#lines] = nil
  end
  return lines
end

local function expand_tabs(line)
  if not line:find("\t", 1, true) then
    return line
  end
  local out, col = {}, 0
  for ch in line:gmatch(utf8 and utf8.charpattern or ".") do
    if ch == "\t" then
      local n = TAB - col % TAB
      out[#out + 1] = string.rep(" ", n)
      col = col + n
    else
      out[#out + 1] = ch
      col = col + 1
    end
  end
  return table.concat(out)
end

-- book/blocks.py is the one reader of regions (scripts/sync-snippets and
-- book/checks.py use it too), so the book and the chapters' copies agree.
-- prefetch() asks it for every region of the book in one run; region()
-- answers from that, or asks for one region.
local fetched = {}

local function prefetch(docs)
  local wanted, order = {}, {}
  for _, doc in ipairs(docs) do
    pandoc.walk_block(pandoc.Div(doc.blocks), {
      CodeBlock = function(cb)
        local file = cb.attributes["include"]
        if file then
          local key = file .. "\t" .. (cb.attributes["snippet"] or "")
          if not wanted[key] then
            wanted[key] = true
            order[#order + 1] = key
          end
        end
      end,
    })
  end
  if #order == 0 then
    return
  end
  local ok, out = pcall(pandoc.pipe, "python3", { "book/blocks.py", "regions" },
    table.concat(order, "\n") .. "\n")
  if not ok then
    return -- region() asks one by one, and reports what fails
  end
  local i = 1
  for record in out:gmatch("([^%z]*)%z") do
    local status, text = record:match("^(%a+)\n(.*)$")
    if order[i] and status then
      fetched[order[i]] = { ok = (status == "ok"), text = text }
    end
    i = i + 1
  end
end

-- The text of FILE, or of its region NAME; nil and a message on failure.
local function region(file, name)
  local hit = fetched[file .. "\t" .. (name or "")]
  if hit and not hit.ok then
    return nil, hit.text
  end
  local args = { "book/blocks.py", "region", file }
  if name then
    args[#args + 1] = name
  end
  local ok, out = true, hit and hit.text
  if not hit then
    ok, out = pcall(pandoc.pipe, "python3", args, "")
  end
  if not ok then
    local msg = type(out) == "table" and out.output or tostring(out)
    return nil, (msg:gsub("%s+$", ""))
  end
  local lines = {}
  for _, line in ipairs(split_lines(out)) do
    lines[#lines + 1] = expand_tabs(line)
  end
  return table.concat(lines, "\n")
end

-- The key of a part: lessons/NN-slug/README.md -> "lesson-NN";
-- book/00-preface.md -> "preface"; any other FILE.md -> FILE.
local function part_key(file)
  local nn = file:match("lessons/(%d%d)%-[^/]+/README%.md$")
  if nn then
    return "lesson-" .. nn
  end
  local base = path.split_extension(path.filename(file))
  base = base:gsub("^%d+%-", "")
  return base
end

-- The repository path a link target names, seen from the part in DIR.
local function resolve(dir, target)
  local joined = path.normalize(path.join({ dir, target }))
  -- pandoc.path.normalize keeps "..": fold them ourselves.
  local out = {}
  for _, seg in ipairs(path.split(joined)) do
    if seg == ".." and #out > 0 and out[#out] ~= ".." then
      out[#out] = nil
    elseif seg ~= "." then
      out[#out + 1] = seg
    end
  end
  return table.concat(out, "/")
end

local function is_external(target)
  return target:match("^%a[%w+.-]*:") ~= nil
end

local parts = {} -- in order: { file=, dir=, key=, doc=, h1= }
local by_file = {} -- repository path -> part

local function new_id(part, id)
  if id == nil or id == "" then
    return id
  end
  if id == part.h1 then
    return part.key
  end
  return part.key .. "-" .. id
end

-- The lesson registry (lessons/LESSONS): number -> slug of every lesson,
-- read once. A lesson record is "NN slug programs tsan diagram builds";
-- comments, blank lines and diagram records are skipped.
local registry_slugs
local function registered()
  if registry_slugs then
    return registry_slugs
  end
  registry_slugs = {}
  local text = read_file("lessons/LESSONS")
  if not text then
    fail("lessons/LESSONS", "the lesson registry is missing")
    return registry_slugs
  end
  for line in text:gmatch("[^\n]+") do
    local nn, name = line:match("^(%d%d)%s+(%S+)")
    if nn then
      registry_slugs[nn] = nn .. "-" .. name
    end
  end
  return registry_slugs
end

-- The book's anchor for FILE#FRAGMENT when FILE is a part; false when FILE
-- is a registered lesson's chapter that is not written yet, or the chapter
-- of a lesson not registered at all (still to come); nil when FILE is not
-- a chapter. A chapter path whose number belongs to a lesson of another
-- slug (a typo) still gets an anchor, which the link check reports.
local function anchor_for(file, fragment)
  local part = by_file[file]
  if part then
    if fragment == nil or fragment == "" then
      return "#" .. part.key
    end
    return "#" .. new_id(part, fragment)
  end
  local slug = file:match("^lessons/(%d%d%-[^/]+)/README%.md$")
  if slug then
    local taken = registered()[slug:sub(1, 2)]
    if taken == nil or taken == slug then
      return false
    end
    local key = part_key(file)
    if fragment == nil or fragment == "" then
      return "#" .. key
    end
    return "#" .. key .. "-" .. fragment
  end
  return nil
end

local function render_diagram(part, img)
  local src = resolve(part.dir, img.src)
  local ext = src:match("%.(%a+)$")
  if not is_file(src) then
    fail(part.file, string.format('diagram "%s": no such file (%s)', img.src, src))
    return img
  end
  local name = part.key .. "-" .. path.split_extension(path.filename(src)) .. ".svg"
  local out = path.join({ DIAGRAMS, name })
  local cmd
  if ext == "msc" then
    cmd = { "mscgen", "-T", "svg", "-o", out, "-i", src }
  else
    cmd = { "dot", "-Tsvg", "-Gfontname=" .. DIAGRAM_FONT, "-Nfontname=" .. DIAGRAM_FONT,
      "-Efontname=" .. DIAGRAM_FONT, "-o", out, src }
  end
  local ok, err = pcall(pandoc.pipe, cmd[1], { table.unpack(cmd, 2) }, "")
  if not ok then
    fail(part.file, string.format('diagram "%s" (%s) does not render: %s', img.src, src,
      tostring(err.output or err)))
    return img
  end
  -- EPUB 3 forbids the external DTD both tools declare; SVG needs none.
  -- mscgen names Helvetica, which no declared package installs: each
  -- machine would substitute its own (wider) font and labels would run
  -- past their boxes. Name the declared font whose widths mscgen used.
  local svg = read_file(out)
  if svg then
    svg = svg:gsub("<!DOCTYPE[^>]*>%s*", "", 1)
    svg = svg:gsub('font%-family="Helvetica"', 'font-family="' .. DIAGRAM_FONT .. '"')
    local f = io.open(out, "wb")
    f:write(svg)
    f:close()
  end
  img.src = out
  img.classes:insert("diagram")
  return img
end

-- A transcript that make test does not run (book/transcripts.py runs the
-- others) says so, and why, in a line the reader sees above it.
local function illustrative(part, cb)
  local reason = cb.attributes["reason"]
  if reason == nil or reason == "" then
    fail(part.file, "an .illustrative block has no reason=\"...\" (the line the reader sees)")
    return cb
  end
  cb.attributes["reason"] = nil
  local note = pandoc.Para({ pandoc.Emph({ pandoc.Str("Illustrative:") }), pandoc.Space() })
  note.content:extend(pandoc.read(reason, "markdown").blocks[1].content)
  return pandoc.Div({ pandoc.Div({ note }, pandoc.Attr("", { "transcript-note" })), cb },
    pandoc.Attr("", { "listing", "illustrative" }))
end

-- The filter for one part, after every part's identifiers are known.
local function part_filter(part)
  local function relink(el)
    if el.identifier and el.identifier ~= "" then
      el.identifier = new_id(part, el.identifier)
    end
    return el
  end
  return {
    Header = relink,
    Div = relink,
    Span = relink,
    Table = relink,

    CodeBlock = function(cb)
      local file = cb.attributes["include"]
      if file == nil and cb.classes:includes("illustrative") then
        return illustrative(part, relink(cb))
      elseif file == nil then
        return relink(cb)
      end
      local name = cb.attributes["snippet"]
      local text, err = region(file, name)
      if text == nil then
        fail(part.file, err)
        return nil
      end
      cb.text = text
      cb.attributes["include"] = nil
      cb.attributes["snippet"] = nil
      relink(cb)
      local label = pandoc.Para({ pandoc.Code(file) })
      if name then
        label.content:insert(pandoc.Space())
        label.content:insert(pandoc.Emph({ pandoc.Str("(" .. name .. ")") }))
      end
      return pandoc.Div({ pandoc.Div({ label }, pandoc.Attr("", { "listing-file" })), cb },
        pandoc.Attr("", { "listing" }))
    end,

    Image = function(img)
      if is_external(img.src) then
        return img
      end
      if img.src:match("%.msc$") or img.src:match("%.dot$") then
        return render_diagram(part, img)
      end
      local src = resolve(part.dir, img.src)
      if not is_file(src) then
        fail(part.file, string.format('image "%s": no such file (%s)', img.src, src))
      end
      img.src = src
      return img
    end,

    Link = function(link)
      local target = link.target
      if is_external(target) then
        return link
      end
      if target:sub(1, 1) == "#" then
        link.target = "#" .. new_id(part, target:sub(2))
        return link
      end
      local file, fragment = target:match("^([^#]*)#?(.*)$")
      local repo_path = resolve(part.dir, file)
      local anchor = anchor_for(repo_path, fragment)
      if anchor then
        link.target = anchor
        return link
      elseif anchor == false then
        io.stderr:write(string.format("book: %s: links to %s, which is not written yet: shown as text\n",
          part.file, repo_path))
        return link.content
      end
      -- A file of the repository that is not in the book: say where it is.
      local text = stringify(link.content)
      if text == repo_path or text == path.filename(repo_path) or text:find(repo_path, 1, true) then
        return link.content
      end
      local out = pandoc.List(link.content)
      out:insert(pandoc.Str(" ("))
      out:insert(pandoc.Code(repo_path))
      out:insert(pandoc.Str(")"))
      return out
    end,
  }
end

local function first_h1(blocks)
  for _, b in ipairs(blocks) do
    if b.t == "Header" and b.level == 1 then
      return b.identifier
    end
  end
  return nil
end

function Pandoc(doc)
  local list = os.getenv("BOOK_PARTS")
  local single = (list == nil or list == "")
  if single then
    local file = PANDOC_STATE.input_files[1] or "stdin"
    local part = { file = file, dir = path.directory(file), key = part_key(file), doc = doc }
    parts[1] = part
    by_file[resolve(".", file)] = part
  else
    for line in list:gmatch("[^\n]+") do
      -- "FILE" or "FILE<TAB>AS": a generated part read from FILE stands for
      -- AS (links resolve from AS's directory, and links to AS reach it).
      local file, as = line:match("^([^\t]+)\t(.+)$")
      file = file or line
      as = as or line
      local text = read_file(file)
      if text == nil then
        fail(file, "no such file")
      else
        local part = {
          file = file,
          dir = path.directory(as),
          key = part_key(as),
          -- Identifiers as a forge makes them, so "#section" links in a
          -- chapter work both there and in the book.
          doc = pandoc.read(text, "markdown+gfm_auto_identifiers"),
        }
        parts[#parts + 1] = part
        by_file[resolve(".", as)] = part
      end
    end
  end
  os.execute("mkdir -p '" .. DIAGRAMS .. "'")

  local docs = {}
  for i, part in ipairs(parts) do
    docs[i] = part.doc
  end
  prefetch(docs)

  local blocks = pandoc.List()
  for _, part in ipairs(parts) do
    part.h1 = first_h1(part.doc.blocks)
    local done = pandoc.walk_block(pandoc.Div(part.doc.blocks), part_filter(part))
    blocks:extend(done.content)
  end

  if #errors > 0 then
    for _, e in ipairs(errors) do
      io.stderr:write(e, "\n")
    end
    io.stderr:write(string.format("book: %d problem(s); the book was not built\n", #errors))
    os.exit(1)
  end
  if single then
    doc.blocks = blocks
    return doc
  end
  return pandoc.Pandoc(blocks, doc.meta)
end
