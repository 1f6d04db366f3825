"""The quotes stage: find every stretch of quoted speech in the body paragraphs.

Spans: a `Quote` span INCLUDES its quote marks: `text[q.start:q.end]` is `"Yes,"` with both marks.
An unclosed quote has only its opening mark and ends at the end of its paragraph (`closed=False`);
an empty quote `""` is a two-character span. `quote_content()` gives the span between the marks.

Rules (one linear scan per paragraph; normalization has already made every quote mark straight):
- Quote character, per story: double quotes unless the story shows clear evidence of single-quote
  (British) dialogue: more `'` closers after punctuation (`,'` `.'` `?'` `!'`) and paragraph-initial
  `'Capital` openers than twice the `"` marks. In single-quote stories, apostrophes are told from
  quote marks by their neighbours: inside a word (don't), elisions at a word start ('em, 'cause,
  'til), and a plural possessive (dogs') whose quote is closed later by a mark after punctuation.
  The other quote character is nested quoting and never opens or closes a quote.
- A quote runs from an opening mark to the next closing mark in the same paragraph. A mark that
  looks like an opening one (space before, word after) inside an open quote is, by parity of the
  marks left in the paragraph, either a nested quotation in the same mark (kept inside) or a
  sign that the writer forgot the closing mark (the open quote ends before it, unclosed).
- A paragraph that ends inside a quote leaves that quote unclosed. If it ends at a pause (. ! ? ,
  ; :) and the next body paragraph opens with a quote mark, that is the run-on convention for
  multi-paragraph speech: both get one utterance id. A paragraph whose first mark can only close
  a quote continues speech opened earlier and its quote starts at the paragraph start.
- Quotes in one paragraph share an utterance when the narration between them is at most one
  short sentence (`max_tag_words`) and either the first part does not end a sentence (a comma;
  a dash or "..." followed by a lowercase tag or a name), or the second part goes on in lowercase,
  or the narration is a speech tag ("..." she cried. "..."), not plain narration.
- Quoted words that are not speech are skipped: a short phrase (at most `max_mention_words`
  words, no final . ! ? , inside) embedded in a sentence: right before the opening mark a
  lowercase word that is not a speech verb (`a "BVB Army" shirt`, `called it "home"`), and after
  the closing mark narration goes on (a lowercase word or punctuation).

Quote ids are 0..n-1 in text order; utterance ids are 0..m-1 in text order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Errors, PipelineError
from ..model import Quote, Story
from ..pipeline import Stage

DOUBLE = '"'
SINGLE = "'"

# Words that introduce speech: `she said "no"` is speech even though it looks like a mention.
SPEECH_VERBS = frozenset("""
    say says said saying ask asks asked reply replies replied answer answers answered whisper
    whispers whispered shout shouts shouted yell yells yelled cry cries cried call calls called
    mutter mutters muttered murmur murmurs murmured exclaim exclaims exclaimed add adds added
    continue continues continued tell tells told scream screams screamed snap snaps snapped
    sigh sighs sighed hiss hisses hissed breathe breathes breathed repeat repeats repeated
    respond responds responded begin begins began mumble mumbles mumbled groan groans groaned
    laugh laughs laughed demand demands demanded insist insists insisted declare declares
    declared announce announces announced go goes went like
""".split())  # "go/went/like": colloquial tags (she goes "no way")

# Lowercase only: a capital after the mark ('Cause I said so) reads as the start of speech.
_ELISIONS = re.compile(
    r"(?:em|cause|cos|coz|cuz|til|till|tis|twas|twere|twill|bout|round|n|ere|im|er|ow|ome|"
    r"nuff|kay|sup|ello|allo|ave|appen)\b|\d")

_CONTEXT = 200  # characters read either side of a quote to tell a quoted phrase from speech
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z'\-]*)\s+$")
# A sentence end, but not the period of "Mr." or of an initial ("E. M. Forster").
_SENTENCE_END = re.compile(
    r"(?:(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bJr)(?<!\bSr)(?<!\bRev)(?<!\bCol)"
    r"(?<!\bCapt)(?<!\bProf)(?<!\bGen)(?<!\b[A-Z])\.|[!?])(?:[\"')\]]*)(?=\s)")
# Verbs of a speech tag ("she cried", "said Mr. Knightley", "he went on").
_TAG_VERB = re.compile(r"\b(?:" + "|".join(r"""
    said says say saying cried cries cry asked asks ask replied replies reply answered answers
    exclaimed exclaims whispered whispers shouted shouts muttered mutters murmured murmurs added
    adds continued continues returned returns rejoined observed observes remarked remarks repeated
    repeats began begins went\s+on goes\s+on called calls screamed yelled snapped sighed
    sighs breathed groaned laughed laughs demanded insisted declared pleaded begged admitted
    agreed protested interrupted explained suggested responded whimpered mumbled stammered
    stuttered teased promised urged warned retorted inquired enquired wondered thought sobbed
    hissed growled gasped resumed persisted pursued concluded cried\s+out called\s+out
    """.split()) + r")\b")
_PRONOUN_SUBJECTS = frozenset("He She I It We They You".split())
_ELLIPSIS_END = ("...", "\u2026", "..")
_RUN_ON_END = ".!?,;:\u2026\"')_*"
# Capitalized words that start a new sentence rather than a speech tag after "..." or a dash.
_SENTENCE_STARTERS = frozenset("""
    He She I It We They You His Her Its Our Their My Your The A An This That These Those Then
    But And So Now When After Before As If There Here Everyone Nobody Someone Suddenly
""".split())


@dataclass
class _Span:
    start: int  # at the opening mark (or the paragraph start for a run-on continuation)
    end: int  # after the closing mark, or the trimmed paragraph end when unclosed
    closed: bool
    opened: bool  # False when the quote starts at its paragraph start without a mark
    para: int  # index into story.paragraphs


class QuoteStage(Stage):
    """Find quoted speech in body paragraphs; spans include the quote marks (see module docstring)."""

    name = "quotes"
    requires = ("sections",)
    assigns = ("quotes",)

    def __init__(self, *, style: str = "auto", max_mention_words: int = 4, max_tag_words: int = 30):
        """style: "auto" (decide per story), "double" or "single": which mark delimits speech.
        max_mention_words: a quoted phrase of at most this many words embedded mid-sentence is a
            mention (a title, a name, a scare quote), not speech.
        max_tag_words: the longest narration between two parts of one split utterance.
        """
        if style not in ("auto", "double", "single"):
            raise PipelineError(Errors.E103.format(stage=self.name, option="style",
                                                   choices="auto, double, single", value=style))
        self.style = style
        self.max_mention_words = max_mention_words
        self.max_tag_words = max_tag_words

    def __call__(self, story: Story) -> None:
        self.set_annotations(story, self.match(story))

    def match(self, story: Story) -> list[Quote]:
        text = story.text
        paragraphs = story.paragraphs
        mark = self._mark(text, paragraphs)
        scan = _scan_double if mark == DOUBLE else _scan_single
        spans: list[_Span] = []
        for k, (s, e) in enumerate(paragraphs):
            prev_open = bool(spans) and spans[-1].para == k - 1 and not spans[-1].closed
            for sp in scan(text, s, e, k, prev_open):
                if sp.closed and sp.opened and self._is_mention(text, sp, s, e):
                    continue
                spans.append(sp)
        return self._utterances(text, spans, paragraphs)

    def set_annotations(self, story: Story, quotes: list[Quote]) -> None:
        story.quotes = quotes

    # -- decisions -----------------------------------------------------------------------------------
    def _mark(self, text: str, paragraphs: list[tuple[int, int]]) -> str:
        if self.style != "auto":
            return DOUBLE if self.style == "double" else SINGLE
        return detect_mark(text, paragraphs)

    def _is_mention(self, text: str, sp: _Span, p_start: int, p_end: int) -> bool:
        content = text[sp.start + 1:sp.end - 1].strip().strip("_*")  # _emphasis_ marks
        if not content:
            return False
        if content[-1] in ".!?,;:\u2026-\u2014" or len(content.split()) > self.max_mention_words:
            return False
        # Only a short window either side matters; slicing whole paragraphs per quote is quadratic.
        before = text[max(p_start, sp.start - _CONTEXT):sp.start]
        if not before.strip():
            return False
        # The phrase sits in a sentence: right before it a lowercase word (no punctuation between).
        m = _WORD_BEFORE.search(before)
        if not m:
            return False
        word = m.group(1)
        if not word[0].islower() or word.lower() in SPEECH_VERBS:
            return False
        after = text[sp.end:min(p_end, sp.end + _CONTEXT)].lstrip(" ")
        if not after:
            return False
        return after[0].islower() or (after[0] in ".,;:)!?" and sp.end < p_end)

    def _utterances(self, text: str, spans: list[_Span], paragraphs) -> list[Quote]:
        quotes: list[Quote] = []
        utterance = -1
        for i, sp in enumerate(spans):
            same = False
            if i:
                prev = spans[i - 1]
                if prev.para == sp.para:
                    same = self._split_by_tag(text, prev, sp)
                elif prev.para == sp.para - 1 and not prev.closed:
                    # Run-on speech: the paragraph ended inside a quote at a pause (. ! ? , ; :) and
                    # the next one opens with a mark (or continues without one). A quote cut off
                    # mid-word or at a dash was interrupted: the next line is someone else's.
                    p_start = paragraphs[sp.para][0]
                    same = sp.start == p_start and text[prev.end - 1] in _RUN_ON_END
            if not same:
                utterance += 1
            quotes.append(Quote(id=i, start=sp.start, end=sp.end, utterance=utterance, closed=sp.closed))
        return quotes

    def _split_by_tag(self, text: str, a: _Span, b: _Span) -> bool:
        if not a.closed:
            return False
        inner = text[a.start + (1 if a.opened else 0):a.end - 1].rstrip().rstrip("_*")
        between = text[a.end:b.start].strip()
        if not between or len(between.split()) > self.max_tag_words:
            return False
        # One sentence at most: no sentence end except at the very end of the tag.
        if _SENTENCE_END.search(between[:-1] + " "):
            return False
        second = text[b.start + 1:b.end].lstrip(" _*-\u2014\u2026.")
        if second[:1].islower():
            return True  # the quoted sentence goes on after the tag: "Good God!" cried Emma, "this..."
        if inner.endswith(","):
            return True
        first = between.split(None, 1)[0].strip("_*-\u2014")
        if inner[-1:] in ".!?" or inner.endswith(_ELLIPSIS_END):
            # A finished sentence: the same speaker goes on only after a speech tag ("..." she cried.),
            # not after narration ("..." She held her tongue.).
            return bool(_TAG_VERB.search(between)) and (
                first[:1].islower() or first not in _SENTENCE_STARTERS or first in _PRONOUN_SUBJECTS)
        # A dash or no punctuation: a tag goes on in lowercase or with a name, not a new sentence.
        return first[:1].islower() or first not in _SENTENCE_STARTERS


def detect_mark(text: str, paragraphs: list[tuple[int, int]]) -> str:
    """DOUBLE unless single-quote closers after punctuation outnumber all double quote marks."""
    doubles = 0
    closers = 0
    openers = 0
    for s, e in paragraphs:
        p = text[s:e]
        doubles += p.count(DOUBLE)
        closers += len(_SQ_CLOSER_EVIDENCE.findall(p))
        if p.startswith(SINGLE) and p[1:2].isupper():
            openers += 1
    return SINGLE if closers >= 2 and closers + openers > 2 * doubles else DOUBLE


_SQ_CLOSER_EVIDENCE = re.compile(r"[,.!?\u2026\-\u2014]'(?=\s|$)")


# ---------------------------------------------------------------------------------------------------
def _is_space(c: str) -> bool:
    return c == "" or c.isspace()


_OPEN_BEFORE = "([{\u2014-/"


def _scan_double(text: str, s: int, e: int, para: int, prev_open: bool) -> list[_Span]:
    marks = []
    pos = text.find(DOUBLE, s, e)
    while pos != -1:
        marks.append(pos)
        pos = text.find(DOUBLE, pos + 1, e)
    out: list[_Span] = []
    open_at = -1
    n = len(marks)
    k = 0
    while k < n:
        pos = marks[k]
        before = text[pos - 1] if pos > s else ""
        after = text[pos + 1] if pos + 1 < e else ""
        opens = (_is_space(before) or before in _OPEN_BEFORE) and not _is_space(after)
        closes = not _is_space(before) and (_is_space(after) or not after.isalnum())
        if open_at < 0:
            if k == 0 and closes and not opens and (prev_open or n % 2 == 1):
                # The paragraph continues speech opened earlier (a run-on paragraph, or speech
                # interrupted by quoted verse) without reopening it: it runs from the start.
                out.append(_Span(s, pos + 1, True, False, para))
            else:
                open_at = pos
        elif opens and not closes and pos - open_at > 1 and k + 1 < n:
            # A mark that looks like an opening one inside an open quote. Parity decides: with an
            # odd number of marks left (this one included) it is a nested quotation written with the
            # same mark ("I said "no" to him"), and it and its closing mark stay inside; with an even
            # number the writer forgot to close the open quote, which ends before this mark.
            if (n - k) % 2 == 1:
                k += 2
                continue
            out.append(_Span(open_at, _rtrim(text, open_at, pos), False, True, para))
            open_at = pos
        else:
            out.append(_Span(open_at, pos + 1, True, True, para))
            open_at = -1
        k += 1
    if open_at >= 0:
        out.append(_Span(open_at, _rtrim(text, open_at, e), False, True, para))
    return out


def _rtrim(text: str, start: int, end: int) -> int:
    while end > start + 1 and text[end - 1].isspace():
        end -= 1
    return end


def _scan_single(text: str, s: int, e: int, para: int, prev_open: bool) -> list[_Span]:
    """Single-quote dialogue: tell quote marks from apostrophes by their neighbours."""
    marks = []  # (pos, kind) kind: "o" open, "c" closer after punctuation, "w" weak closer
    pos = text.find(SINGLE, s, e)
    while pos != -1:
        before = text[pos - 1] if pos > s else ""
        after = text[pos + 1] if pos + 1 < e else ""
        if before.isalnum() and after.isalnum():
            pass  # don't, O'Brien
        elif (_is_space(before) or before in _OPEN_BEFORE or before == DOUBLE) and not _is_space(after):
            if not _ELISIONS.match(text, pos + 1, e):
                marks.append((pos, "o"))
        elif not _is_space(before) and (_is_space(after) or not after.isalnum()):
            marks.append((pos, "c" if before in ",.!?\u2026-\u2014;:" else "w"))
        pos = text.find(SINGLE, pos + 1, e)
    out: list[_Span] = []
    open_at = -1
    for idx, (pos, kind) in enumerate(marks):
        if open_at < 0:
            if kind == "o":
                open_at = pos
            elif kind == "c" and not out and prev_open and idx == 0:
                out.append(_Span(s, pos + 1, True, False, para))
            continue
        if kind == "c" or (kind == "w" and _weak_closes(marks, idx)):
            out.append(_Span(open_at, pos + 1, True, True, para))
            open_at = -1
    if open_at >= 0:
        out.append(_Span(open_at, _rtrim(text, open_at, e), False, True, para))
    return out


def _weak_closes(marks: list[tuple[int, str]], idx: int) -> bool:
    """A closer after a letter (`dogs'` or `'BVB Army'`) closes unless a closer after punctuation
    comes later in the paragraph before the next opening mark."""
    for pos, kind in marks[idx + 1:]:
        if kind == "o":
            return True
        if kind == "c":
            return False
    return True


def quote_content(story: Story, quote: Quote) -> tuple[int, int]:
    """The span between the quote marks (whitespace trimmed); empty for `""`."""
    text = story.text
    s, e = quote.start, quote.end
    if s < e and text[s] in "\"'":
        s += 1
    if quote.closed and e > s and text[e - 1] in "\"'":
        e -= 1
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e
