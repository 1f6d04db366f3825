"""HTML reader: AO3 and FanFiction.net downloads, or any web page, to a `Story`.

`Story.source_text` is the decoded HTML file itself. The story text is extracted by a small
tokenizer of our own (not a tree builder) that records where every character came from, so each
character of `Story.text` maps back to the HTML: a character of a text node maps to itself, a
character from an entity or character reference (`&amp;`, `&#233;`) maps to the `&` that starts it,
and a line or paragraph break made for a tag maps to that tag's `<`.

Why a tokenizer of our own rather than `html.parser` or a tree:
- offsets: the stdlib parser reports line/column only, and in Python 3.11 a malformed `&#` makes it
  pass the rest of the document through as text (tags, scripts and all);
- hostile input: every step below consumes input and every search is a `str.find` or a regex
  without nested quantifiers, so time is linear in the input; there is no tree, so 10,000 nested
  tags cost nothing; script and style content never becomes a text token at all.

Layouts recognised (everything else is read as a generic page: `<title>` or first `<h1>`, body text):
- AO3 "Download -> HTML": `div#preface` (dl.tags, h1 title, div.byline, summary and notes
  blockquotes), `div#chapters` (h2.heading chapter titles, div.userstuff chapter text) and
  `div#afterword` (end notes). Only the chapters go into the text; the rest goes into `meta`.
- FanFiction.net pages: `div#storytext` for the text, `div#profile_top` for title, author,
  summary and the "Rated: ... - English - Genre - Characters - Chapters: ..." line.
"""
from __future__ import annotations

import html as _html
import re
from array import array
from dataclasses import dataclass, field
from typing import Any

from ..model import OffsetMap, Source, Story
from .normalize import normalize

# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------
START, END, TEXT, REF = 0, 1, 2, 3
# Token shapes:
#   (START, pos, name, attrs, selfclosing)   pos = offset of "<"
#   (END, pos, name)
#   (TEXT, pos, text)                       text == source[pos:pos+len(text)]
#   (REF, pos, resolved, end)               resolved text of the reference source[pos:end]

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link",
                  "meta", "param", "source", "track", "wbr"})
# Raw-text elements: their content is never parsed as markup, and never becomes a text token.
RAW_DROPPED = frozenset({"script", "style", "noscript", "iframe", "noembed", "noframes", "xmp"})
# Escapable raw text: content is one TEXT token (read for <title>, dropped from story text).
RCDATA = frozenset({"title", "textarea"})

_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HTML_WS = " \t\n\f\r"
_TAGNAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_ATTRNAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_WS = re.compile(r"[\t\n\f\r ]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_NUMREF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
_NAMEDREF = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});?")
_SUBSET_END = re.compile(r"\][\t\n\f\r ]*>")
_SIMPLE_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)[\t\n\f\r ]*>")
_SIMPLE_END = re.compile(r"</([A-Za-z][A-Za-z0-9]*)[\t\n\f\r ]*>")
_NEXT = re.compile(r"<([A-Za-z][A-Za-z0-9]*)[\t\n\f\r ]*>|</([A-Za-z][A-Za-z0-9]*)[\t\n\f\r ]*>|[<&]")
_RAW_START = RAW_DROPPED | RCDATA | {"plaintext"}
_NO_ATTRS: dict[str, str] = {}  # shared by every tag without attributes; never mutated
_names: dict[str, str] = {}
_MAX_ATTRS = 64  # attributes kept per tag; the rest are parsed and dropped
_raw_end_cache: dict[str, re.Pattern] = {}


def _raw_end(name: str) -> re.Pattern:
    pat = _raw_end_cache.get(name)
    if pat is None:
        pat = _raw_end_cache[name] = re.compile(r"</" + re.escape(name) + r"[\t\n\f\r />]", re.I)
    return pat


# Script data has "escaped" states (a <!-- ... --> inside a script) in which a nested
# <script>...</script> does not end the outer script. Following them keeps script text out.
_SCRIPT_DATA = re.compile(r"(<!--)|</script[\t\n\f\r />]", re.I)
_SCRIPT_ESCAPED = re.compile(r"(-->)|(<script[\t\n\f\r />])|</script[\t\n\f\r />]", re.I)
_SCRIPT_DOUBLE = re.compile(r"(-->)|</script[\t\n\f\r />]", re.I)


def _script_end(src: str, k: int) -> int:
    """Offset of the `</script` that ends script data starting at k, or -1 (runs to the end)."""
    state = 0
    while True:
        if state == 0:
            m = _SCRIPT_DATA.search(src, k)
            if not m:
                return -1
            if m.group(1) is None:
                return m.start()
            state = 1
        elif state == 1:
            m = _SCRIPT_ESCAPED.search(src, k)
            if not m:
                return -1
            if m.group(1):
                state = 0
            elif m.group(2):
                state = 2
            else:
                return m.start()
        else:
            m = _SCRIPT_DOUBLE.search(src, k)
            if not m:
                return -1
            state = 0 if m.group(1) else 1
        k = m.end()


def _parse_attrs(src: str, k: int) -> tuple[dict[str, str], bool, int] | None:
    """Parse attributes from k up to the closing `>`: (attrs, selfclosing, end) or None at EOF."""
    n = len(src)
    attrs: dict[str, str] = {}
    while k < n:
        ch = src[k]
        if ch in _HTML_WS:
            k = _WS.match(src, k).end()
            continue
        if ch == ">":
            return attrs, False, k + 1
        if ch == "/":
            if src.startswith(">", k + 1):
                return attrs, True, k + 2
            k += 1
            continue
        m = _ATTRNAME.match(src, k)
        name = m.group().lower()
        k = _WS.match(src, m.end()).end()
        value = ""
        if k < n and src[k] == "=":
            k = _WS.match(src, k + 1).end()
            if k < n and src[k] in "\"'":
                close = src.find(src[k], k + 1)
                if close < 0:
                    return None
                value = src[k + 1:close]
                k = close + 1
            else:
                m = _UNQUOTED.match(src, k)
                value = m.group()
                k = m.end()
        if name not in attrs and len(attrs) < _MAX_ATTRS:
            attrs[name] = value
    return None


_named_cache: dict[str, str] = {}


def _reference(src: str, j: int) -> tuple[str, int] | None:
    """Resolve the character reference at src[j] == "&": (text, end), or None if it is not one."""
    m = _NUMREF.match(src, j)
    if m:
        digits = m.group(1) or m.group(2)
        if len(digits) > 8:  # far past U+10FFFF: the HTML standard says U+FFFD
            return "\ufffd", m.end()
        return _html.unescape(f"&#{'x' if m.group(1) else ''}{digits};"), m.end()
    m = _NAMEDREF.match(src, j)
    if m:
        raw = m.group()
        resolved = _named_cache.get(raw)
        if resolved is None:
            resolved = _html.unescape(raw)
            if len(_named_cache) < 4096:
                _named_cache[raw] = resolved
        if resolved != raw:
            return resolved, m.end()
    return None


def tokenize(src: str, *, xml: bool = False) -> list[tuple]:
    """Split HTML (or XHTML when `xml`) into start/end/text/reference tokens with source offsets."""
    toks: list[tuple] = []
    n = len(src)
    i = text_from = 0  # a text run goes from text_from up to the next markup or reference
    search = _NEXT.search
    append = toks.append
    names = _names
    while True:
        m = search(src, i)
        if not m:
            if text_from < n:
                append((TEXT, text_from, src[text_from:]))
            return toks
        j = m.start()
        simple = m.group(1) or m.group(2)
        if simple:  # "<p>" or "</p>": the common case, in one step
            name = names.get(simple) or _name(simple)
            if m.group(1) and name in _RAW_START:
                pass  # raw text follows: the full path below
            else:
                if j > text_from:
                    append((TEXT, text_from, src[text_from:j]))
                append((START, j, name, _NO_ATTRS, False) if m.group(1) else (END, j, name))
                i = text_from = m.end()
                continue
        if src[j] == "&":
            ref = _reference(src, j)
            if ref is None:  # a lone "&" is text
                i = j + 1
                continue
            if j > text_from:
                toks.append((TEXT, text_from, src[text_from:j]))
            if ref[0]:
                toks.append((REF, j, ref[0], ref[1]))
            i = text_from = ref[1]
            continue
        nxt = src[j + 1] if j + 1 < n else ""
        if nxt not in _ASCII_LETTERS and nxt not in ("/", "!", "?"):
            i = j + 1  # "a < b": a lone "<" is text
            continue
        if j > text_from:
            toks.append((TEXT, text_from, src[text_from:j]))
        if nxt == "/":
            i = _end_tag(src, j, toks)
        elif nxt == "!":
            i = _markup_declaration(src, j, toks, xml)
        elif nxt == "?":
            close = src.find(">", j + 2)
            i = n if close < 0 else close + 1
        else:
            i = _start_tag(src, j, toks, xml)
        text_from = i


def _name(raw: str) -> str:
    """Lower-cased tag name, shared between tokens (millions of "p" cost one string)."""
    name = _names.get(raw)
    if name is None:
        name = raw.lower()
        if len(_names) < 4096:
            _names[raw] = name
    return name


def _start_tag(src: str, j: int, toks: list, xml: bool) -> int:
    n = len(src)
    simple = _SIMPLE_TAG.match(src, j)
    if simple:  # the common case, "<p>", parsed in one step
        name, attrs, selfclosing, k = _name(simple.group(1)), _NO_ATTRS, False, simple.end()
    else:
        m = _TAGNAME.match(src, j + 1)
        name = _name(m.group())
        parsed = _parse_attrs(src, m.end())
        if parsed is None:  # EOF inside a tag: browsers drop the tag and stop
            return n
        attrs, selfclosing, k = parsed
    toks.append((START, j, name, attrs, selfclosing))
    if selfclosing and (xml or name in ("svg", "math")) and name not in VOID:
        # "/>" is honoured in XHTML and in foreign content; void elements need no end tag.
        toks.append((END, j, name))
        return k
    if name in RAW_DROPPED or name in RCDATA:
        if name == "script":
            e = _script_end(src, k)
        else:
            found = _raw_end(name).search(src, k)
            e = found.start() if found else -1
        if e < 0:  # unclosed: the rest of the document is inside it
            if name in RCDATA and k < n:
                toks.append((TEXT, k, src[k:]))
            return n
        if name in RCDATA and e > k:
            toks.append((TEXT, k, src[k:e]))
        return _end_tag(src, e, toks)
    if name == "plaintext":
        if k < n:
            toks.append((TEXT, k, src[k:]))
        return n
    return k


def _end_tag(src: str, j: int, toks: list) -> int:
    n = len(src)
    simple = _SIMPLE_END.match(src, j)
    if simple:
        toks.append((END, j, _name(simple.group(1))))
        return simple.end()
    if j + 2 < n and src[j + 2] in _ASCII_LETTERS:
        m = _TAGNAME.match(src, j + 2)
        parsed = _parse_attrs(src, m.end())
        if parsed is None:
            return n
        toks.append((END, j, _name(m.group())))
        return parsed[2]
    if src.startswith(">", j + 2):  # "</>" is ignored
        return j + 3
    if j + 2 >= n:
        toks.append((TEXT, j, src[j:]))
        return n
    close = src.find(">", j + 2)  # "</3" and friends: a bogus comment
    return n if close < 0 else close + 1


def _markup_declaration(src: str, j: int, toks: list, xml: bool) -> int:
    n = len(src)
    if src.startswith("<!--", j):
        if src.startswith(">", j + 4):
            return j + 5
        if src.startswith("->", j + 4):
            return j + 6
        close = src.find("-->", j + 4)
        return n if close < 0 else close + 3
    if xml and src.startswith("<![CDATA[", j):
        close = src.find("]]>", j + 9)
        end = n if close < 0 else close
        if end > j + 9:
            toks.append((TEXT, j + 9, src[j + 9:end]))
        return n if close < 0 else close + 3
    if xml and src[j + 2:j + 9].upper() == "DOCTYPE":
        # An XML doctype may carry an internal subset [ ... ] full of <!ENTITY> declarations.
        close = src.find(">", j + 9)
        bracket = src.find("[", j + 9, close if close >= 0 else n)
        if bracket >= 0:
            m = _SUBSET_END.search(src, bracket)
            return n if m is None else m.end()
    close = src.find(">", j + 2)  # doctype, bogus comment, <!ENTITY ...> (never expanded)
    return n if close < 0 else close + 1


# ---------------------------------------------------------------------------------------------
# Text extraction (browser-like whitespace, blocks as paragraphs, offsets kept)
# ---------------------------------------------------------------------------------------------
BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "legend", "li", "main", "menu", "nav", "ol",
    "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul", "body",
    "html",
})
CELL = frozenset({"td", "th"})
# Elements whose content is not shown as text (raw-text ones never have text tokens anyway).
SKIPPED = frozenset({"head", "title", "textarea", "template", "svg", "math", "select", "datalist",
                     "object", "canvas", "audio", "video"}) | RAW_DROPPED
_IN_HEAD = frozenset({"title", "meta", "link", "style", "script", "base", "noscript", "template"})
SCENE_BREAK = "* * *"
_BR_SCENE = 3  # this many <br> in a row (an empty line and more) read as a scene break
_BAD_WS = re.compile(r"\s{2,}|[^\S ]")


class _Builder:
    """Accumulates extracted text and, per character, its offset in the source."""

    def __init__(self, *, empty_p_scene: int = 1):
        """
        empty_p_scene: how many empty <p> in a row read as a scene break (2 where the page puts
            an empty paragraph between ordinary ones as spacing).
        """
        self.empty_p_scene = empty_p_scene
        self.parts: list[str] = []
        self.starts = array("q")
        self.end_pos = 0  # source offset just past the last emitted character
        self.emitted = 0  # number of text emissions, to tell empty paragraphs
        self.space_pos = -1
        self.brk = 0
        self.brk_pos = -1
        self.scene_pos = -1
        self.empty_run = 0
        self.empty_pos = -1
        self.br_run = 0
        self.br_pos = -1
        self.p_open: tuple[int, int] | None = None
        self.skip: list[str] = []
        self.pre = 0

    # -- structure events
    def block(self, pos: int) -> None:
        if self.brk < 2:
            if self.brk == 0:
                self.brk_pos = pos
            self.brk = 2
        self.space_pos = -1

    def br(self, pos: int) -> None:
        if self.br_run == 0:
            self.br_pos = pos
        self.br_run += 1
        if self.brk == 0:
            self.brk_pos = pos
        self.brk = min(self.brk + 1, 2)
        self.space_pos = -1

    def space(self, pos: int) -> None:
        if self.brk == 0 and self.space_pos < 0:
            self.space_pos = pos

    def hr(self, pos: int) -> None:
        if self.scene_pos < 0:
            self.scene_pos = pos
        self.block(pos)

    def p_start(self, pos: int) -> None:
        self.p_end()
        self.block(pos)
        self.p_open = (self.emitted, pos)

    def p_end(self) -> None:
        if self.p_open is not None:
            count, pos = self.p_open
            if count == self.emitted:
                if self.empty_run == 0:
                    self.empty_pos = pos
                self.empty_run += 1
            self.p_open = None

    # -- text
    def _flush(self) -> None:
        if self.parts:
            scene = self.scene_pos
            if scene < 0 and self.empty_run >= self.empty_p_scene:
                scene = self.empty_pos
            if scene < 0 and self.br_run >= _BR_SCENE:
                scene = self.br_pos
            if scene >= 0:
                self._put("\n\n" + SCENE_BREAK + "\n\n", scene)
            elif self.brk:
                self._put("\n" * self.brk, self.brk_pos)
            elif self.space_pos >= 0 and self.parts[-1][-1:] not in (" ", "\n"):
                self._put(" ", self.space_pos)
        self.space_pos = self.scene_pos = self.brk_pos = self.empty_pos = self.br_pos = -1
        self.brk = self.empty_run = self.br_run = 0

    def _put(self, s: str, pos: int) -> None:
        self.parts.append(s)
        self.starts.extend([pos] * len(s))

    def _put_span(self, s: str, pos: int) -> None:
        self.parts.append(s)
        self.starts.extend(range(pos, pos + len(s)))

    def text(self, s: str, pos: int) -> None:
        """A text node chunk: s == source[pos:pos+len(s)]."""
        if self.pre:
            if s:
                self._flush()
                self._put_span(s, pos)
                self.emitted += 1
                self.end_pos = pos + len(s)
            return
        a = len(s) - len(s.lstrip())
        if a:
            self.space(pos)
        if a == len(s):
            return
        b = len(s.rstrip())
        self._flush()
        i = a
        for m in _BAD_WS.finditer(s, a, b):
            if m.start() > i:
                self._put_span(s[i:m.start()], pos + i)
            self._put(" ", pos + m.start())
            i = m.end()
        self._put_span(s[i:b], pos + i)
        self.emitted += 1
        self.end_pos = pos + b
        if b < len(s):
            self.space(pos + b)

    def ref(self, s: str, pos: int, end: int) -> None:
        """A resolved reference: every character maps to the "&" at pos."""
        if not self.pre and s.isspace():
            self.space(pos)
            return
        self._flush()
        self._put(s, pos)
        self.emitted += 1
        self.end_pos = end

    def result(self) -> tuple[str, array]:
        self.starts.append(self.end_pos if self.parts else 0)
        return "".join(self.parts), self.starts

    # -- one token
    def feed(self, tok: tuple) -> None:
        kind = tok[0]
        skip = self.skip
        if skip:
            if skip == ["head"] and _leaves_head(tok):
                skip.clear()  # content in <head> closes it, as in a browser
            elif kind == START:
                if tok[2] == "body":
                    skip.clear()
                elif tok[2] in SKIPPED:
                    skip.append(tok[2])
                return
            elif kind == END:
                if tok[2] in skip:
                    while skip.pop() != tok[2]:
                        pass
                return
            else:
                return
        if kind == TEXT:
            self.text(tok[2], tok[1])
        elif kind == REF:
            self.ref(tok[2], tok[1], tok[3])
        elif kind == START:
            name, pos = tok[2], tok[1]
            if name in SKIPPED:
                skip.append(name)
            elif name == "p":
                self.p_start(pos)
            elif name == "br":
                self.br(pos)
            elif name == "hr":
                self.hr(pos)
            elif name in BLOCK:
                if name == "pre":
                    self.pre += 1
                self.p_end()
                self.block(pos)
            elif name in CELL:
                self.space(pos)
        else:
            name, pos = tok[2], tok[1]
            if name == "p":
                self.p_end()
                self.block(pos)
            elif name == "br":  # browsers read </br> as <br>
                self.br(pos)
            elif name in BLOCK:
                if name == "pre" and self.pre:
                    self.pre -= 1
                self.block(pos)
            elif name in CELL:
                self.space(pos)


def _leaves_head(tok: tuple) -> bool:
    if tok[0] == TEXT:
        return not tok[2].isspace()
    if tok[0] == REF:
        return True
    return tok[0] == START and tok[2] not in _IN_HEAD and tok[2] != "head"


def _empty_p_scene(toks: list[tuple], ranges: list[tuple[int, int]]) -> int:
    """1 if empty paragraphs are rare (each run is a scene break), 2 if they are used as spacing."""
    total = empty = 0
    for lo, hi in ranges:
        for i in range(lo, hi):
            t = toks[i]
            if t[0] == START and t[2] == "p":
                total += 1
                j = i + 1
                while j < hi and (toks[j][0] in (TEXT, REF) and toks[j][2].isspace()
                                  or toks[j][0] == START and toks[j][2] == "br"):
                    j += 1
                if j < hi and toks[j][0] == END and toks[j][2] == "p":
                    empty += 1
    return 2 if total and empty * 4 > total else 1


def extract_ranges(toks: list[tuple], ranges: list[tuple[int, int]]) -> tuple[str, array]:
    """Text of the token ranges, in order, with one source offset per character (+ the end)."""
    b = _Builder(empty_p_scene=_empty_p_scene(toks, ranges))
    for lo, hi in ranges:
        if lo < hi:
            b.block(toks[lo][1])
            b.skip.clear()
        for i in range(lo, hi):
            b.feed(toks[i])
    return b.result()


def _plain(toks: list[tuple], lo: int, hi: int) -> str:
    """The text of a token range as a string (for metadata): paragraphs kept, whitespace collapsed."""
    b = _Builder(empty_p_scene=10**9)
    for i in range(lo, hi):
        b.feed(toks[i])
    return "".join(b.parts)


# ---------------------------------------------------------------------------------------------
# Locating elements in the token stream
# ---------------------------------------------------------------------------------------------
def _attr(tok: tuple, name: str) -> str:
    value = tok[3].get(name, "")
    return _html.unescape(value) if "&" in value else value


def _has_class(tok: tuple, cls: str) -> bool:
    return cls in _attr(tok, "class").split()


def _is(tok: tuple, tag: str, *, id: str | None = None, cls: str | None = None) -> bool:
    if tok[0] != START or tok[2] != tag:
        return False
    if id is not None and _attr(tok, "id") != id:
        return False
    return cls is None or _has_class(tok, cls)


def _find(toks: list[tuple], lo: int, hi: int, tag: str, *, id: str | None = None,
          cls: str | None = None) -> int:
    for i in range(lo, hi):
        if _is(toks[i], tag, id=id, cls=cls):
            return i
    return -1


def _element_end(toks: list[tuple], i: int, hi: int) -> int:
    """Index just past the end tag that closes the start tag at i (or hi if it is never closed)."""
    name = toks[i][2]
    if name in VOID:
        return i + 1
    if name in _IMPLIED_END:
        return _implied_end(toks, i, hi)
    depth = 0
    for j in range(i, hi):
        t = toks[j]
        if t[0] == START and t[2] == name and not t[4]:
            depth += 1
        elif t[0] == END and t[2] == name:
            depth -= 1
            if depth == 0:
                return j + 1
    return hi


# Elements whose end tag may be left out: the next of these start tags closes them.
_IMPLIED_END = {"p": BLOCK, "dt": frozenset({"dt", "dd", "dl"}), "dd": frozenset({"dt", "dd", "dl"})}


def _implied_end(toks: list[tuple], i: int, hi: int) -> int:
    name = toks[i][2]
    closers = _IMPLIED_END[name]
    for j in range(i + 1, hi):
        t = toks[j]
        if t[0] == END and (t[2] == name or t[2] in closers):
            return j + 1 if t[2] == name else j
        if t[0] == START and t[2] in closers:
            return j
    return hi


def _children(toks: list[tuple], lo: int, hi: int, tag: str, cls: str | None = None):
    """(start, end) of each outermost element `tag` (with class `cls`) in the range."""
    i = lo
    while i < hi:
        if _is(toks[i], tag, cls=cls):
            e = _element_end(toks, i, hi)
            yield i, e
            i = max(e, i + 1)
        else:
            i += 1


def _text_of(toks: list[tuple], lo: int, hi: int) -> str:
    return _plain(toks, lo, hi).strip()


# ---------------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------------
_AO3_LIST_KEYS = {
    "archive warning": "warnings", "archive warnings": "warnings",
    "category": "categories", "categories": "categories",
    "fandom": "fandoms", "fandoms": "fandoms",
    "relationship": "relationships", "relationships": "relationships",
    "character": "characters", "characters": "characters",
    "additional tag": "freeform", "additional tags": "freeform",
    "collection": "collections", "collections": "collections",
}
_AO3_TEXT_KEYS = {"rating": "rating", "ratings": "rating", "language": "language", "series": "series"}


@dataclass
class Extracted:
    """What one HTML document gives: the text, its source offsets and the declared metadata."""

    text: str
    starts: array
    meta: dict[str, Any] = field(default_factory=dict)
    layout: str = "generic"  # ao3 | ffn | generic


def extract(src: str, *, xml: bool = False, ao3_hint: bool = False) -> Extracted:
    """Extract the story text and declared metadata of one HTML/XHTML document.

    `ao3_hint` says an earlier document of the same book (an EPUB) was an AO3 preface, so a
    document holding only `div.userstuff` chapter text is read the AO3 way.
    """
    toks = tokenize(src, xml=xml)
    n = len(toks)
    if _is_ao3(toks, ao3_hint):
        ranges, meta = _ao3(toks)
        # An EPUB's preface or afterword page has no chapters; a whole HTML file without any is
        # not an AO3 download after all, just a page using the same class names.
        if ranges or xml:
            text, starts = extract_ranges(toks, ranges)
            return Extracted(text=text, starts=starts, meta=meta, layout="ao3")
    story = _find(toks, 0, n, "div", id="storytext")
    if story >= 0:
        ranges, meta = [(story, _element_end(toks, story, n))], _ffn_meta(toks)
        layout = "ffn"
    else:
        body = _find(toks, 0, n, "body")
        ranges, meta, layout = [(max(body, 0), n)], _generic_meta(toks), "generic"
    text, starts = extract_ranges(toks, ranges)
    return Extracted(text=text, starts=starts, meta=meta, layout=layout)


def _is_ao3(toks: list[tuple], hint: bool) -> bool:
    """AO3's download layout: a preface with its tag list or message, or #chapters.userstuff."""
    n = len(toks)
    checked: set[str] = set()  # look inside the first of each only: linear on hostile input
    for i, t in enumerate(toks):
        if t[0] != START:
            continue
        if t[2] == "div":
            ident = _attr(t, "id")
            if ident == "chapters" and _has_class(t, "userstuff"):
                return True
            if ident in ("preface", "afterword") and ident not in checked:
                checked.add(ident)
                e = _element_end(toks, i, n)
                if _find(toks, i, e, "dl", cls="tags") >= 0 or _find(toks, i, e, "p", cls="message") >= 0:
                    return True
            if hint and _has_class(t, "userstuff"):
                return True
        elif hint and t[2] == "h2" and _has_class(t, "heading"):
            return True
        elif t[2] == "dl" and _has_class(t, "tags"):
            return True  # AO3's tag list, even where an EPUB converter dropped div#preface
    return False


def _ao3(toks: list[tuple]) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """Chapter headings and chapter text as ranges; preface, notes and afterword into meta."""
    n = len(toks)
    meta: dict[str, Any] = {}
    ranges: list[tuple[int, int]] = []
    chapter_notes: list[dict[str, str]] = []
    chapter = label = None
    chapters_div = -1
    i = 0
    if _find(toks, 0, n, "div", id="preface") < 0 and _find(toks, 0, n, "dl", cls="tags") >= 0:
        # A preface without its div (split by an EPUB converter): it runs up to the first chapter.
        while i < n and not (_is(toks[i], "div", id="chapters") or _is(toks[i], "h2", cls="heading")
                             or _is(toks[i], "div", cls="userstuff")):
            i += 1
        _ao3_meta(toks, 0, i, meta)
    while i < n:
        t = toks[i]
        if t[0] != START:
            i += 1
            continue
        name = t[2]
        ident = _attr(t, "id") if name == "div" else ""
        if ident in ("preface", "afterword"):
            e = _element_end(toks, i, n)
            _ao3_meta(toks, i + 1, e, meta)
            i = e
        elif ident == "chapters":
            chapters_div = i
            i += 1
        elif name == "h2" and _has_class(t, "heading"):
            e = _element_end(toks, i, n)
            ranges.append((i, e))
            chapter = _text_of(toks, i + 1, e)
            label = None
            i = e
        elif name == "div" and _has_class(t, "userstuff"):
            e = _element_end(toks, i, n)
            ranges.append((i, e))
            i = e
        elif name == "blockquote" and _has_class(t, "userstuff"):
            e = _element_end(toks, i, n)
            note = _text_of(toks, i + 1, e)
            if note:
                entry = {"label": label or "Chapter Notes", "text": note}
                if chapter:
                    entry["chapter"] = chapter
                chapter_notes.append(entry)
            i = e
        elif name == "p":
            e = _element_end(toks, i, n)
            label = _text_of(toks, i + 1, e).rstrip(":") or label
            i = e
        else:
            i += 1
    if not any(toks[lo][2] == "div" for lo, _ in ranges) and chapters_div >= 0:
        # An old single-chapter download: the text sits directly in div#chapters.
        ranges = [(chapters_div, _element_end(toks, chapters_div, n))]
    if chapter_notes:
        meta["chapter_notes"] = chapter_notes
    return ranges, meta


def _ao3_meta(toks: list[tuple], lo: int, hi: int, meta: dict[str, Any]) -> None:
    """Read an AO3 preface or afterword (the same code reads both) into meta."""
    label = None
    i = lo
    while i < hi:
        t = toks[i]
        if t[0] != START:
            i += 1
            continue
        name = t[2]
        if name == "p" and _has_class(t, "message"):
            i = _element_end(toks, i, hi)
        elif name == "dl" and _has_class(t, "tags"):
            e = _element_end(toks, i, hi)
            _ao3_tags(toks, i + 1, e, meta)
            i = e
        elif name == "h1" and "title" not in meta:
            e = _element_end(toks, i, hi)
            meta["title"] = " ".join(_text_of(toks, i + 1, e).split())
            i = e
        elif name == "div" and _has_class(t, "byline") and "author" not in meta:
            e = _element_end(toks, i, hi)
            authors = [_text_of(toks, a + 1, b) for a, b in _children(toks, i + 1, e, "a")]
            authors = [a for a in authors if a]
            if not authors:
                plain = _text_of(toks, i + 1, e)
                plain = plain[3:] if plain.lower().startswith("by ") else plain
                authors = [a.strip() for a in plain.split(",") if a.strip()]
            meta["author"] = ", ".join(authors)
            meta["authors"] = authors
            i = e
        elif name == "p":
            e = _element_end(toks, i, hi)
            label = _text_of(toks, i + 1, e).rstrip(":").lower() or label
            i = e
        elif name == "blockquote" and _has_class(t, "userstuff"):
            e = _element_end(toks, i, hi)
            value = _text_of(toks, i + 1, e)
            if label == "summary" or (label is None and "summary" not in meta):
                meta["summary"] = value
            elif value:
                meta.setdefault("notes", []).append(value)
            i = e
        else:
            i += 1


def _ao3_tags(toks: list[tuple], lo: int, hi: int, meta: dict[str, Any]) -> None:
    key = None
    i = lo
    while i < hi:
        t = toks[i]
        if t[0] == START and t[2] == "dt":
            e = _element_end(toks, i, hi)
            key = _text_of(toks, i + 1, e).rstrip(":").strip().lower()
            i = e
        elif t[0] == START and t[2] == "dd" and key:
            e = _element_end(toks, i, hi)
            raw = " ".join(_text_of(toks, i + 1, e).split())
            values = [_text_of(toks, a + 1, b) for a, b in _children(toks, i + 1, e, "a")]
            values = [v for v in values if v] or [v.strip() for v in raw.split(",") if v.strip()]
            if key in _AO3_LIST_KEYS:
                meta[_AO3_LIST_KEYS[key]] = values
            elif key in _AO3_TEXT_KEYS:
                meta[_AO3_TEXT_KEYS[key]] = ", ".join(values) if key.startswith("rating") else raw
            elif key == "stats":
                meta["stats"] = {k.lower(): v for k, v in re.findall(r"([A-Za-z]+):\s*(\S+)", raw)}
            else:
                meta.setdefault("other_tags", {})[key] = values
            key = None
            i = e
        else:
            i += 1


_FFN_GENRES = frozenset(
    "Adventure Angst Crime Drama Family Fantasy Friendship General Horror Humor Hurt/Comfort "
    "Mystery Parody Poetry Romance Sci-Fi Spiritual Supernatural Suspense Tragedy Western".split())


def _ffn_meta(toks: list[tuple]) -> dict[str, Any]:
    n = len(toks)
    meta: dict[str, Any] = {}
    top = _find(toks, 0, n, "div", id="profile_top")
    if top >= 0:
        end = _element_end(toks, top, n)
        b = _find(toks, top, end, "b", cls="xcontrast_txt")
        if b >= 0:
            meta["title"] = " ".join(_text_of(toks, b + 1, _element_end(toks, b, end)).split())
        for a, ae in _children(toks, top, end, "a"):
            if "/u/" in _attr(toks[a], "href"):
                meta["author"] = _text_of(toks, a + 1, ae)
                break
        summary = _find(toks, top, end, "div", cls="xcontrast_txt")
        if summary >= 0:
            meta["summary"] = _text_of(toks, summary + 1, _element_end(toks, summary, end))
        info = _find(toks, top, end, "span", cls="xgray")
        if info >= 0:
            _ffn_info(_text_of(toks, info + 1, _element_end(toks, info, end)), meta)
    links = _find(toks, 0, n, "div", id="pre_story_links")
    if links >= 0:
        names = [_text_of(toks, a + 1, b) for a, b in _children(toks, links, _element_end(toks, links, n), "a")]
        if names and names[-1]:
            meta["fandoms"] = [names[-1]]
    if "title" not in meta:
        title = _generic_meta(toks).get("title")
        if title:
            meta["title"] = title
    return meta


def _ffn_info(line: str, meta: dict[str, Any]) -> None:
    """Parse "Rated: Fiction T - English - Romance/Drama - [A, B] C - Chapters: 3 - Words: ..."."""
    parts = [p.strip() for p in " ".join(line.split()).split(" - ") if p.strip()]
    stats: dict[str, str] = {}
    loose: list[str] = []
    for part in parts:
        key, sep, value = part.partition(":")
        if sep and key.strip().lower() == "rated":
            meta["rating"] = value.replace("Fiction", "").strip()
        elif sep and " " not in key.strip():
            stats[key.strip().lower()] = value.strip()
        else:
            loose.append(part)
    if loose:
        meta["language"] = loose.pop(0)
    if loose and all(g in _FFN_GENRES for g in loose[0].split("/")):
        meta["genres"] = loose.pop(0).split("/")
    if loose:
        chars = loose[0]
        meta["relationships"] = ["/".join(x.strip() for x in grp.split(","))
                                 for grp in re.findall(r"\[([^\]]*)\]", chars)]
        meta["characters"] = [c.strip() for c in re.split(r"[\[\],]", chars) if c.strip()]
        if not meta["relationships"]:
            del meta["relationships"]
    if stats:
        meta["stats"] = stats


def _generic_meta(toks: list[tuple]) -> dict[str, Any]:
    n = len(toks)
    t = _find(toks, 0, n, "title")
    if t >= 0 and t + 1 < n and toks[t + 1][0] == TEXT:
        title = " ".join(_html.unescape(toks[t + 1][2]).split())
        if title:
            return {"title": title}
    h1 = _find(toks, 0, n, "h1")
    if h1 >= 0:
        title = " ".join(_text_of(toks, h1 + 1, _element_end(toks, h1, n)).split())
        if title:
            return {"title": title}
    return {}


# ---------------------------------------------------------------------------------------------
def read_html(text: str, name: str, encoding: str | None) -> Story:
    """Read a decoded HTML file; `source_text` is the HTML itself and offsets point into it."""
    ex = extract(text)
    norm, norm_map = normalize(ex.text)
    offsets = norm_map.compose(OffsetMap(ex.starts))
    return Story(source=Source(path=name, format="html", encoding=encoding), source_text=text,
                 text=norm, offsets=offsets, meta=ex.meta)
