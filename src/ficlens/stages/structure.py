"""The structure stage: split a story into blocks and say what each block is.

A story file is more than its story: a title line, "Rating: M" headers, author's notes before and
after, disclaimers, "Derek's POV:" headers, chapter headings and scene breaks. Every later stage reads
only the body, so this stage decides, for every non-blank block, one `Section` kind:

title | header | summary | author_note | disclaimer | pov_header | chapter_heading | scene_break | body

How blocks are cut (decided per story, by evidence):
- Blocks are separated by blank lines.
- Inside a block, a single newline is a hard wrap in texts wrapped at a fixed width (Project
  Gutenberg: most lines end near one width and no line is much longer), and a paragraph break
  otherwise (fan fiction pasted from a browser puts one paragraph on one long line, and a lone
  newline there separates paragraphs). A file with no blank line at all is one paragraph per line,
  and then a blank line, if a few occur, is a deliberate scene break (its section spans the
  whitespace between the two blocks, the only section that is not trimmed).
- Runs of several blank lines in a blank-line-separated plain-text file are not scene breaks: in
  fan fiction copied from a browser they mark dropped elements (an image, a rule, an italic line) as
  often in the middle of a conversation as between scenes, so they carry no reliable meaning.

Author's notes: a block that opens with a note marker (A/N, AN:, Author's Note, Note:, ...) is a
note, and the note runs on over the following blocks until a structural boundary (scene break, POV
header, chapter heading, header, disclaimer) or a block that reads as story (dialogue, or prose with
no sign of an author talking to readers). At the end of a story, everything after the last note
marker is note when no boundary follows and the rest is short.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Section, Story
from ..pipeline import Stage

# ---------------------------------------------------------------------------------------------------
# Line patterns. `_LEAD` skips decoration before a marker ("-Authors Note-", "~Mer's POV~",
# "[A/N: ...]") but never a quote mark, so a line of dialogue is never mistaken for a marker.
_LEAD = r"^[^\w\"']*"

_SCENE_SYMBOLS = re.compile(r"^(?:[^\w\s\"']|_)+(?:\s+(?:[^\w\s\"']|_)+)*$")  # *** | * * * | ~*~ | ____
_SCENE_LETTERS = re.compile(r"^(?:[^\w\"']|_|[xXoO])+$")  # xXx | oOo | XxXxX | -o-o-o-
_SCENE_WORDS = re.compile(r"^[^\w\"']*(?i:(?:line|page|scene|time|section)\s*(?:break|change)|break)[^\w\"']*$")

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|first|second|third|fourth|fifth|"
    "sixth|seventh|eighth|ninth|tenth|last|final")
_NUMBER = rf"(?:\d{{1,4}}|[IVXLCDM]+\b|[ivxlcdm]+\b|(?i:(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?)\b)"
# After the number: nothing, a separator and a title, or a capitalized title ("Chapter 3 The Fall"),
# so that prose such as "Part one of the plan was simple." stays prose.
_HEADING_TAIL = r"(?:[^\w\"']*$|\s*[:.\-\u2013\u2014)~*|]+.{0,100}$|\s+[A-Z(\[].{0,100}$)"
_CHAPTER = re.compile(
    _LEAD + rf"(?i:chapter|chap\.?|ch\.|part|book|volume|vol\.|section|act|stave)\s*(?i:the\s+)?{_NUMBER}"
    + _HEADING_TAIL)
_CHAPTER_WORD = re.compile(_LEAD + r"(?i:prologue|epilogue|interlude|prelude|afterword|foreword)\b" + _HEADING_TAIL)
_BARE_NUMBER = re.compile(r"^[^\w\"']*(?:[IVXLC]+|\d{1,3})\.?[^\w\"'.]*$")

_POV = re.compile(
    _LEAD + r"(?:"
    r"(?P<a>[A-Z][\w.\-]*(?:[ ][A-Z][\w.\-]*){0,3}?)(?:'s|s'|')?[ ]*(?i:POV|P\.O\.V\.?|point of view)"
    r"|(?i:POV|P\.O\.V\.?)[ ]*[:\-\u2013\u2014]?[ ]*(?P<b>[A-Z][\w.'\-]*(?:[ ][A-Z][\w.'\-]*){0,3})"
    r")[^\w\"']*$")

_HEADER = re.compile(
    _LEAD + r"(?P<key>(?i:title|author|authors|pen\s*name|rating|rated|pairings?|ships?|characters?|"
    r"genres?|fandoms?|categor(?:y|ies)|summary|warnings?|disclaimer|word\s*count|words|spoilers?|"
    r"timeline|status|beta(?:\s*reader)?|dedication|setting|series|prompt|length|language|"
    r"archive\s*warnings?|relationships?|additional\s*tags|tags))"
    # Possessive \s*+ keeps this linear on a long run of spaces after the key word.
    r"\s*+(?::|(?<=\s)[\-\u2013\u2014]|$)\s*(?P<value>.*)$")
_RATED = re.compile(r"^[^\w\"']*(?i:rated)\s+(?P<value>(?:K\+?|T|M|MA|G|PG(?:-13)?|R|NC-17|E)\b.*)$")
_BY_LINE = re.compile(r"^[^\w\"']*(?i:by)[:\s]+\S.{0,60}$")

_NOTE_MARKER = re.compile(
    _LEAD + r"(?:"
    r"(?i:a\s*/\s*n|a\.\s*n\.|authou?r'?s?'?\s*notes?|writer'?s?'?\s*notes?|end\s*notes?|"
    r"notes?\s+from\s+the\s+author)(?![\w/])"
    r"|AN(?=\s*[:\-\u2013\u2014)\]~*]|\s*$)"
    r"|(?i:notes?|ps|p\.s\.?)\s*[:\-\u2013\u2014]"
    r")")
_SIGN_OFF = re.compile(
    _LEAD + r"(?i:please\s+review|review\s+please|read\s+(?:and|&)\s+review|r\s*(?:&|and)\s*r\b|"
    r"reviews?\s+(?:are|make|please|would)|tbc\b|to\s+be\s+continued|thanks?\s+(?:you\s+)?for\s+reading)")

_DISCLAIMER_START = re.compile(_LEAD + r"(?i:disclaimer)\b")
# "I don't own ..." says disclaimer on its own near the edges of a story; "belongs to" and
# "property of" are everyday words, so they count only next to a word about the franchise.
_DISCLAIMER_STRONG = re.compile(
    r"(?i:\b(?:i|we)\s+(?:do\s+not|don'?t|dont|never|will\s+never|sadly\s+(?:do\s+not|don'?t)|"
    r"unfortunately\s+(?:do\s+not|don'?t)|still\s+don'?t)\s+own\b|\bown\s+nothing\b|"
    r"\bnot\s+affiliated\s+with\b|\bno\s+copyright\s+infringement\b|\bno\s+profit\b|"
    r"\ball\s+rights\s+reserved\b|\bmaking\s+no\s+money\b)")
_DISCLAIMER_WEAK = re.compile(r"(?i:\bbelongs?\s+to\b|\bproperty\s+of\b|\bowned\s+by\b|\brights\b)")
_FRANCHISE = re.compile(r"(?i:\b(?:characters|the\s+show|series|creators?|franchise|copyright|"
                        r"fanfic(?:tion)?|story\s+idea|plot|anatomy|abc|fox|cbs|nbc|disney|marvel|dc)\b)")

# Signs of an author talking to readers (case-insensitive words, then case-sensitive abbreviations).
_NOTE_WORDS = re.compile(
    r"(?i:\b(?:chapters?|fics?|fanfics?|fanfiction|fan\s+fiction|one-?\s?shots?|reviews?|reviewed|"
    r"reviewing|reviewers?|readers?|updates?|updated|updating|upload(?:ed|ing)?|beta(?:ed|s)?|"
    r"drabbles?|sequel|prequel|cliff-?hanger|lol|lmao|omg|spoilers?|canon|favou?rites?|faves|"
    r"follows|alerts|lyrics|song-?fic|plot\s?bunn(?:y|ies)|writer'?s\s+block|thank\s+you|thanks|"
    r"thx|enjoy(?:ed)?|hope\s+(?:you|y'?all|u)\b|let\s+me\s+know|what\s+(?:you|y'?all)\s+think|"
    r"y'?all|yall|you\s+guys|disclaimer|the\s+show|season\s+\d+|episodes?|stay\s+tuned|"
    r"next\s+time|xoxo)\b)")
_NOTE_ABBREV = re.compile(r"\b(?:AU|OOC|PM|OC|R&R|A/N|TBC|OTP)\b")
_EMOTICON = re.compile(r"(?:^|\s)(?:[:;=]-?[)(DPp3/]|<3|xD|XD|\^\^|\^_\^)(?=\s|$|[!.?,])")

_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or so the to up with vs via is".split())
_QUOTES = "\"'"

# Kinds that end a running author's note.
_BOUNDARY_KINDS = frozenset({"scene_break", "chapter_heading", "pov_header", "header", "summary",
                             "disclaimer", "title"})


@dataclass
class _Block:
    start: int  # trimmed span in story.text
    end: int
    first_line: str  # first line, stripped
    lines: int  # number of lines in the block
    text: str  # the trimmed block text


class StructureStage(Stage):
    """Split `story.text` into blocks and classify each (see the module docstring for the rules)."""

    name = "structure"
    requires = ("text",)
    assigns = ("sections", "paragraphs", "title")

    def __init__(self, *, max_title_words: int = 15, max_tail_note_words: int = 400,
                 tail_note_share: float = 0.15):
        """max_title_words: a first line longer than this is never taken as the title.
        max_tail_note_words: at a story's end, the text after a note marker (with no boundary after
            it) is all note when it has at most this many words, or at most `tail_note_share` of
            the story's words.
        tail_note_share: see max_tail_note_words.
        """
        self.max_title_words = max_title_words
        self.max_tail_note_words = max_tail_note_words
        self.tail_note_share = tail_note_share

    # -- spaCy-style split: compute, then write ------------------------------------------------------
    def __call__(self, story: Story) -> None:
        sections, headers, title = self.match(story)
        self.set_annotations(story, sections, headers, title)

    def match(self, story: Story) -> tuple[list[Section], dict[str, str], str | None]:
        text = story.text
        blocks, blank_breaks = split_blocks(text, html=story.source.format == "html")
        kinds: list[str | None] = []
        labels: list[str | None] = []
        for b in blocks:
            kind, label = _classify_line(b)
            kinds.append(kind)
            labels.append(label)
        headers: dict[str, str] = {}
        self._headers(blocks, kinds, labels, headers)
        title = self._title(blocks, kinds, labels, headers)
        self._chapter_subtitles(blocks, kinds, labels)
        self._disclaimers(blocks, kinds)
        self._notes(blocks, kinds)
        sections = [Section(kind=k or "body", start=b.start, end=b.end, label=lab)
                    for b, k, lab in zip(blocks, kinds, labels)]
        if blank_breaks:
            sections.extend(Section(kind="scene_break", start=s, end=e) for s, e in blank_breaks)
            sections.sort(key=lambda s: s.start)
        return sections, headers, title

    def set_annotations(self, story: Story, sections: list[Section], headers: dict[str, str],
                        title: str | None) -> None:
        story.sections = sections
        story.paragraphs = [(s.start, s.end) for s in sections if s.kind == "body"]
        story.headers = headers
        declared = story.meta.get("title") if isinstance(story.meta, dict) else None
        story.title = declared or title

    # -- rules that look at neighbours ---------------------------------------------------------------
    def _headers(self, blocks, kinds, labels, headers) -> None:
        """Fill `headers` from header blocks; an empty "Summary:" line makes the next block the summary."""
        for i, b in enumerate(blocks):
            if kinds[i] not in ("header", "summary", "disclaimer") or labels[i] is None:
                continue
            key = labels[i]
            m = _HEADER.match(b.text) or _RATED.match(b.text)
            value = (m.group("value") if m else "").strip()
            if not value and i + 1 < len(blocks) and kinds[i + 1] is None and key in ("summary", "disclaimer"):
                kinds[i + 1] = kinds[i]
                labels[i + 1] = key
                value = blocks[i + 1].text.strip()
            if value and key not in headers:
                headers[key] = " ".join(value.split())

    def _title(self, blocks, kinds, labels, headers) -> str | None:
        if "title" in headers:
            title = headers["title"]
        elif blocks and len(blocks) > 1 and kinds[0] is None and self._looks_like_title(blocks[0]):
            kinds[0] = "title"
            title = blocks[0].text
        else:
            return None
        # A "By Someone" line right under the title is the author.
        for i in range(1, min(4, len(blocks))):
            if kinds[i] is None and blocks[i].lines == 1 and _BY_LINE.match(blocks[i].text):
                kinds[i] = "header"
                labels[i] = "author"
                headers.setdefault("author", re.sub(r"^[^\w]*by[:\s]+", "", blocks[i].text, flags=re.I).strip())
                break
            if kinds[i] is None:
                break
        return title

    def _looks_like_title(self, b: _Block) -> bool:
        if b.lines != 1:
            return False
        t = b.text
        if t[0] in _QUOTES or len(t) > 100:
            return False
        if t.endswith(("?", "!", ",", ";", ":", "...", "\u2026", "-", "\u2014")):
            return False
        words = re.findall(r"[^\W\d_][\w'\-]*", t)
        if not words or len(words) > self.max_title_words:
            return False
        if re.search(r"[.!?]\s+\S", t):  # two sentences are prose, not a title
            return False
        content = [w for i, w in enumerate(words) if i == 0 or w.lower() not in _SMALL_WORDS]
        capitalized = sum(1 for w in content if w[0].isupper())
        if t.endswith("."):
            # "Give Me A Reason To Stay." is a title; "Except everything had changed." is prose.
            return capitalized == len(content) and len(words) >= 2
        return capitalized >= 0.8 * len(content)

    def _chapter_subtitles(self, blocks, kinds, labels) -> None:
        """A short title-like line right after a chapter heading is the chapter's title."""
        for i in range(1, len(blocks)):
            if kinds[i - 1] == "chapter_heading" and kinds[i] is None and blocks[i].lines <= 3:
                t = blocks[i].text
                if len(t) <= 120 and t[0] not in _QUOTES and not t.endswith(("?", "!", ",", ":")):
                    b = _Block(blocks[i].start, blocks[i].end, blocks[i].first_line, 1, " ".join(t.split()))
                    if self._looks_like_title(b) or t.strip("_*").isupper():
                        kinds[i] = "chapter_heading"
                        labels[i] = b.text.strip("_* ")

    def _disclaimers(self, blocks, kinds) -> None:
        """Disclaimers without the word: "I don't own...", "belongs to ...", near the edges or a note."""
        n = len(blocks)
        for i, b in enumerate(blocks):
            if kinds[i] is not None or b.text[0] in _QUOTES or len(b.text) > 400:
                continue
            strong = _DISCLAIMER_STRONG.search(b.text)
            if not strong and not (_DISCLAIMER_WEAK.search(b.text) and _FRANCHISE.search(b.text)):
                continue
            near_edge = i < 4 or i >= n - 3
            near_note = any(kinds[j] in ("author_note", "header", "title") for j in (i - 1, i + 1) if 0 <= j < n)
            if near_edge or near_note or (strong and _FRANCHISE.search(b.text)):
                kinds[i] = "disclaimer"

    def _notes(self, blocks, kinds) -> None:
        """Run each author's note on from its marker, and catch unmarked notes at the very start."""
        n = len(blocks)
        if not n:
            return
        # Words before each block, and the next boundary at or after each block, computed once so
        # that a story of many note blocks stays linear (boundaries never change in this loop).
        words_before = [0]
        for b in blocks:
            words_before.append(words_before[-1] + len(b.text.split()))
        total_words = words_before[-1]
        next_boundary = [n] * (n + 1)
        for k in range(n - 1, -1, -1):
            next_boundary[k] = k if kinds[k] in _BOUNDARY_KINDS else next_boundary[k + 1]
        i = 0
        while i < n:
            if kinds[i] != "author_note":
                i += 1
                continue
            j = i + 1
            boundary = next_boundary[j]
            rest_words = words_before[boundary] - words_before[j]
            at_end = boundary == n and (rest_words <= self.max_tail_note_words
                                        or rest_words <= self.tail_note_share * total_words)
            while j < boundary and kinds[j] in (None, "author_note"):
                if kinds[j] is None and not _reads_as_note(blocks[j].text):
                    # At the end, a note runs on over plain lines, but dialogue means the story is back.
                    if not at_end or blocks[j].text[0] in _QUOTES:
                        break
                kinds[j] = "author_note"
                j += 1
            i = j
        # Unmarked notes at the top: before the first story block, blocks that plainly talk to readers.
        for i, b in enumerate(blocks):
            if kinds[i] is None:
                if _note_score(b.text) >= 2 and b.text[0] not in _QUOTES:
                    kinds[i] = "author_note"
                    continue
                break
        # Sign-offs ("Please review!", "TBC") after the last story block.
        for i in range(n - 1, -1, -1):
            if kinds[i] is None:
                if len(blocks[i].text) <= 200 and _SIGN_OFF.match(blocks[i].text):
                    kinds[i] = "author_note"
                    continue
                break


# ---------------------------------------------------------------------------------------------------
def _classify_line(b: _Block) -> tuple[str | None, str | None]:
    """Kind and label from the block's own text, or (None, None) when its neighbours must decide."""
    line = b.first_line
    short = b.lines <= 3 and len(b.text) <= 160
    if b.lines == 1 and len(line) <= 80:
        if _SCENE_SYMBOLS.match(line) and not re.fullmatch(r"[.\u2026]+|[()\[\]]+", line):
            return "scene_break", None
        if _SCENE_LETTERS.match(line):
            letters = re.sub(r"[^xXoO]", "", line)
            # Decorated (-o-o-) or mixed (xXx, oOo, XoX); a bare "xxx" may be kisses at a sign-off.
            if len(letters) < len(line.replace(" ", "")) or len(set(letters)) > 1:
                return "scene_break", None
        if _SCENE_WORDS.match(line):
            return "scene_break", None
    if short and line[:1] not in _QUOTES:
        if _CHAPTER.match(line) or _CHAPTER_WORD.match(line) or (
                b.lines == 1 and _BARE_NUMBER.match(line) and not line.islower()):
            return "chapter_heading", _clean_label(b.text)
        m = _POV.match(line)
        if m and b.lines == 1:
            return "pov_header", (m.group("a") or m.group("b")).strip()
    if line[:1] in _QUOTES:
        return None, None
    if _NOTE_MARKER.match(line):
        return "author_note", None
    if _DISCLAIMER_START.match(line):
        return "disclaimer", "disclaimer"
    m = _HEADER.match(line)
    if m and len(line) <= 600:
        key = re.sub(r"\s+", " ", m.group("key").lower())
        key = {"rated": "rating", "pen name": "author", "wordcount": "word count"}.get(key, key)
        value = m.group("value").strip()
        # "Title" with nothing after it, or a sentence that merely starts with "Words -", is prose.
        if value or key in ("summary", "disclaimer", "warnings", "warning"):
            if key == "summary":
                return "summary", key
            if key == "disclaimer":
                return "disclaimer", key
            if b.lines <= 4 or key in ("warning", "warnings"):
                return "header", key
    if b.lines == 1 and _RATED.match(line):
        return "header", "rating"
    return None, None


def _clean_label(text: str) -> str:
    return " ".join(text.split()).strip("-~*=_#[]() :").strip() or text.strip()


def _note_score(text: str) -> int:
    return (len({m.group(0).lower() for m in _NOTE_WORDS.finditer(text)})
            + len(_NOTE_ABBREV.findall(text)) + len(_EMOTICON.findall(text)))


def _reads_as_note(text: str) -> bool:
    """Does a block after a note marker still read as the author talking (not as story)?"""
    if text[0] in _QUOTES:
        return False
    return _note_score(text) >= 1


# ---------------------------------------------------------------------------------------------------
def split_blocks(text: str, *, html: bool = False) -> tuple[list[_Block], list[tuple[int, int]]]:
    """Cut `text` into trimmed blocks; also return blank-line scene breaks (see the module docstring)."""
    lines: list[tuple[int, int]] = []  # (start, end) of each line without its newline
    pos = 0
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos)
        if nl == -1:
            nl = n
        lines.append((pos, nl))
        pos = nl + 1
    blank = [not text[s:e].strip() for s, e in lines]
    wrapped = _hard_wrapped(text, lines, blank)
    blocks: list[_Block] = []
    breaks: list[tuple[int, int]] = []
    has_blank = any(blank)
    # A file whose paragraphs are separated by single newlines uses a blank line as a scene break.
    one_per_line = not wrapped and has_blank and _single_newline_paragraphs(blank)
    html_breaks = html and not one_per_line and _html_breaks_rare(blank)
    run: list[tuple[int, int]] = []

    def flush():
        if not run:
            return
        if wrapped and len(run) > 1 and all(_HEADER.match(text[a:b].strip()) for a, b in run[:2]):
            # A block of "Key: value" lines in wrapped text: each header line is its own block.
            group: list[tuple[int, int]] = []
            for ln in run:
                if group and _HEADER.match(text[ln[0]:ln[1]].strip()):
                    _add_block(text, group, blocks)
                    group = []
                group.append(ln)
            _add_block(text, group, blocks)
        elif wrapped:
            _add_block(text, run, blocks)
        else:
            for ln in run:
                _add_block(text, [ln], blocks)
        run.clear()

    i = 0
    while i < len(lines):
        if blank[i]:
            flush()
            j = i
            while j < len(lines) and blank[j]:
                j += 1
            # A blank-line break spans the whitespace between the two blocks it separates.
            if one_per_line and blocks and j < len(lines):
                breaks.append((blocks[-1].end, _first_non_space(text, lines[j][0])))
            elif html_breaks and blocks and j < len(lines) and j - i >= 3:
                breaks.append((blocks[-1].end, _first_non_space(text, lines[j][0])))
            i = j
            continue
        run.append(lines[i])
        i += 1
    flush()
    return blocks, breaks


def _first_non_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _add_block(text: str, run: list[tuple[int, int]], blocks: list[_Block]) -> None:
    s, e = run[0][0], run[-1][1]
    raw = text[s:e]
    stripped = raw.strip()
    if not stripped:
        return
    start = s + (len(raw) - len(raw.lstrip()))
    end = start + len(stripped)
    first_nl = stripped.find("\n")
    first = stripped if first_nl == -1 else stripped[:first_nl]
    blocks.append(_Block(start, end, first.strip(), len(run), stripped))


def _hard_wrapped(text: str, lines: list[tuple[int, int]], blank: list[bool]) -> bool:
    """True when single newlines inside blocks are wraps at a fixed width, not paragraph breaks."""
    if not any(blank):
        return False
    lengths = [e - s for (s, e), b in zip(lines, blank) if not b]
    if not lengths:
        return False
    long_share = sum(1 for x in lengths if x > 100) / len(lengths)
    if long_share > 0.05:
        return False
    # Lines followed by another non-blank line: in wrapped text most end near the wrap width.
    inner = [lines[k][1] - lines[k][0] for k in range(len(lines) - 1) if not blank[k] and not blank[k + 1]]
    if len(inner) < 3:
        return False
    width = sorted(inner)[int(0.9 * (len(inner) - 1))]
    near = sum(1 for x in inner if width - 25 <= x <= width)
    # A wrapped line mostly stops mid-sentence; a one-paragraph line ends with . ! ? or a quote.
    ends = sum(1 for k in range(len(lines) - 1) if not blank[k] and not blank[k + 1]
               and text[lines[k][0]:lines[k][1]].rstrip()[-1:] in ".!?\"'\u2026")
    return width >= 45 and near >= 0.7 * len(inner) and ends < 0.5 * len(inner)


def _single_newline_paragraphs(blank: list[bool]) -> bool:
    """Paragraphs separated by one newline, blank lines rare: then a blank line is a deliberate break."""
    separators_blank = 0
    separators_single = 0
    for k in range(1, len(blank)):
        if not blank[k]:
            if blank[k - 1]:
                separators_blank += 1
            else:
                separators_single += 1
    return separators_single >= 4 * max(1, separators_blank)


def _html_breaks_rare(blank: list[bool]) -> bool:
    """In text from HTML, runs of 3+ blank lines mark breaks only when they are the exception."""
    runs = []
    k = 0
    while k < len(blank):
        if blank[k]:
            j = k
            while j < len(blank) and blank[j]:
                j += 1
            runs.append(j - k)
            k = j
        else:
            k += 1
    long_runs = sum(1 for r in runs if r >= 3)
    return 0 < long_runs <= 0.2 * len(runs)
