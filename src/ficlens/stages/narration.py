"""The narration stage: narrative person per stretch of story, and who the narrator is.

Fan fiction changes narrator and person freely, so person is decided per paragraph and smoothed,
not guessed once per story.

Person (`segment_person`), from the narration only: the spans of `story.quotes` are cut out of each
body paragraph first, because dialogue says "I" and "you" in every story.
- Each paragraph's narration yields counts of four pronoun classes: first singular (I, me, my,
  mine, myself), first plural (we, us, our...), second (you, your...), third (he, she, they and
  their forms).
- Three states (first, second, third) emit those pronouns with fixed class probabilities
  (`EMISSIONS`: a first-person narrator still says "he" about everyone else, a third-person
  narrator almost never says "I"), and a Viterbi pass finds the best state sequence over the
  paragraphs. Changing state costs `switch_cost` nats between two paragraphs, less across a scene
  break or chapter heading, nothing across a POV header. So one "he" paragraph in a "you" story,
  or one aside ("I suspect") from an omniscient narrator, does not switch: a switch needs
  sustained evidence.
- Runs of one state become `Segment`s; the story's person is the one covering the most words.

Narrator identity (`NarratorFinder`), tried in this order for each segment:
1. A POV header (`Section(kind="pov_header", label=...)`) names the narrator of the body up to the
   next POV header or chapter heading (and across a scene break only while the person stays the
   same). The label is matched against character names, aliases and name parts; when nothing
   matches, a character is created.
2. Reader-insert stories (Y/N, F/N, L/N, E/C, H/C... placeholders in the body, or a declared
   "x Reader" relationship or "reader insert" tag): the first- and second-person narrator is
   the Reader, character id "reader" (created when absent).
3. Evidence from the text, per person (first and second person are scored separately):
   - self-naming in narration or the narrator's own lines: "my name is X", "call me X", "I'm X";
   - vocatives in lines spoken TO the narrator: a name addressed in a quote whose speech tag is
     a third party ("Ali, hi," he said) is the narrator's name; a name the narrator addresses
     ("Derek," I said) is the interlocutor's, so it counts against;
   - a narrator is not named as a third party in their own narration, so each such use counts
     against.
   The speaker of a quote is read from its tag: the first person word of the narration right
   after the quote, else of the sentence before it, else the same paragraph's other quotes, else
   the opposite of the previous paragraph's speaker. A candidate needs a positive score with at
   least one vocative or self-naming. No evidence, no narrator: `narrator` stays None.
   Candidates come from `story.characters` (names via `story.mentions`, else their names and
   aliases searched in the text); a proper noun the characters stage missed (a run of capitalized
   words never written lowercase, used mid-sentence or twice, or tagged PROPN/PERSON in
   `story.docs`) can still win, and then becomes a character.

The stage also marks who "I" and "you" are: every first-person pronoun in first-person narration
(and "you" in second-person narration) becomes a `Mention(kind="narrator")` with the segment's
narrator; a mention already at that span is updated in place. Reader placeholders for a name
(Y/N, F/N, L/N...) become name mentions of the Reader.
"""
from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..model import Character, Mention, Narration, Segment, Story
from ..pipeline import Stage

PERSONS = ("first", "second", "third")

# Pronoun classes, from narration only. "I" must be a capital (or a lone lowercase "i" before an
# apostrophe or a space, as in hurried fan fiction); the others match in any case except "US".
_WORD = re.compile(r"[A-Za-z]+")
FIRST_SINGULAR = frozenset({"i", "me", "my", "mine", "myself"})
FIRST_PLURAL = frozenset({"we", "us", "our", "ours", "ourselves"})
SECOND = frozenset({"you", "your", "yours", "yourself", "yourselves"})
THIRD = frozenset({"he", "him", "his", "himself", "she", "her", "hers", "herself",
                   "they", "them", "their", "theirs", "themselves"})
CLASSES = ("1s", "1p", "2", "3")
_PRONOUN = re.compile(r"(?<![A-Za-z])(?i:%s)(?![A-Za-z])" % "|".join(
    sorted(FIRST_SINGULAR | FIRST_PLURAL | SECOND | THIRD, key=len, reverse=True)))

# P(pronoun class | state), order as CLASSES. Set by hand from the rates measured in PDNC narration
# (third-person novels: first singular 0.0-2.3% of these pronouns; first-person novels: 30-49%)
# and, for second person, the seeds and the project's passages; kept loose on purpose.
EMISSIONS: dict[str, tuple[float, float, float, float]] = {
    "first": (0.38, 0.06, 0.04, 0.52),
    "second": (0.03, 0.03, 0.47, 0.47),
    "third": (0.012, 0.008, 0.01, 0.97),
}

# Reader-insert placeholders: (Y/N), [Y/N], Y/N, F/N, L/N, M/N, N/N, Y/L/N for names; E/C, H/C,
# S/C, H/L, F/C for looks. Case-insensitive, with or without brackets.
_PLACEHOLDER = re.compile(
    r"[(\[{]?\b(?i:y/l/n|y/n|f/n|l/n|m/n|n/n|e/c|h/c|s/c|h/l|f/c)\b[)\]}]?")
_NAME_PLACEHOLDER = re.compile(r"[(\[{]?\b(?i:y/l/n|y/n|f/n|l/n|m/n|n/n)\b[)\]}]?")
# Declared reader inserts: "Bucky x Reader", "Reader/Loki", "reader insert", "x you".
_READER_DECLARED = re.compile(
    r"(?i:(?:\bx|/|&)\s*reader\b|\breader\s*(?:x\b|/|&)|\breader[- ]?insert|\bx\s*you\b|\byou\s*x\b)")
_READER_META_KEYS = ("relationships", "relationship", "pairing", "pairings", "characters",
                     "character", "tags", "additional tags", "freeform", "category", "title",
                     "ships", "ship")

_SELF_NAMING = {
    "first": re.compile(r"\b(?:[Mm]y name(?:'s| is| was)|[Cc]all me|I'm|I am|name's)\s+([A-Z][\w'\-]+)"),
    "second": re.compile(r"\b(?:[Yy]our name(?:'s| is| was)|[Yy]ou're|[Yy]ou are)\s+([A-Z][\w'\-]+)"),
}
# Words that may come right before a vocative name ("Hey Ali", "you Ali,").
_VOCATIVE_LEAD = frozenset("""
    you hey hi hello oh bye goodbye thanks thank please sorry morning night dear love yes no yeah
    yea yep nope okay ok well listen look come god man sweetie honey baby babe darling
""".split())
# Words that are capitalized but never a narrator's name.
_NOT_NAMES = frozenset("""
    i i'm i've i'd i'll the a an and but or so yes no yeah yea ok okay oh hey hi hello please sorry
    thanks thank well what why who how when where mom mum dad mother father sir ma'am madam miss
    mister mr mrs ms dr doctor god lord baby babe honey sweetie darling dear love sweetheart dude
    man bro sis guys everyone everybody nobody somebody someone anyone nothing something come look
    listen wait stop don't do did does is are was were will would can could should shall may might
    must let let's it it's that that's this there here now then just not never always okay
    monday tuesday wednesday thursday friday saturday sunday january february march april june
    july august september october november december christmas reader fine whatever really right
    good great seriously shut maybe sure thanks nah huh hmm um umm uh wow damn shit fuck jesus
    christ hell goodbye bye morning night evening afternoon ah eh alas aye ay oho bah pshaw indeed
    madame monsieur mademoiselle captain general uncle aunt grandmamma grandma grandpa granny
    professor lady miss master my
""".split())
_CAPITALIZED_RUN = re.compile(r"\b[A-Z][a-z'\-]*[a-z](?:[ ][A-Z][a-z'\-]*[a-z])*\b")
# The closing line of a letter, before the writer's name.
_VALEDICTION = re.compile(
    r"(?i:\b(?:love|yours|sincerely|regards|faithfully|truly|affectionately|cheers|xoxo|always|"
    r"forever|your (?:loving |devoted |dear |affectionate )?\w+)\s*,?\s*)$")


@dataclass
class _Para:
    start: int
    end: int
    counts: tuple[int, int, int, int]
    words: int
    pronouns: list[tuple[int, int, str]]  # narration pronoun spans with their class
    pieces: list[tuple[int, int]]  # the narration spans (the paragraph minus its quotes)


@dataclass
class Scope:
    """A stretch of paragraphs under one POV header."""

    first: int  # paragraph index
    last: int
    label: str


@dataclass
class Evidence:
    """Narrator evidence for one candidate, per person."""

    self_named: int = 0
    addressed_by_others: int = 0
    addressed_by_narrator: int = 0
    named_in_narration: int = 0

    @property
    def score(self) -> float:
        return (4.0 * self.self_named + 2.0 * self.addressed_by_others
                - 1.0 * self.addressed_by_narrator - 0.5 * self.named_in_narration)

    @property
    def qualifies(self) -> bool:
        return self.score > 0 and (self.self_named + self.addressed_by_others) > 0


# ---------------------------------------------------------------------------------------------------
# Person
def narration_pieces(story: Story) -> list[list[tuple[int, int]]]:
    """For each body paragraph, the spans of its narration (the paragraph minus its quotes)."""
    quotes = sorted((q.start, q.end) for q in story.quotes)
    starts = [s for s, _ in quotes]
    out: list[list[tuple[int, int]]] = []
    for ps, pe in story.paragraphs:
        pieces = []
        pos = ps
        k = max(0, bisect.bisect_left(starts, ps) - 1)
        while k < len(quotes) and quotes[k][0] < pe:
            qs, qe = quotes[k]
            if qe > pos:
                if qs > pos:
                    pieces.append((pos, min(qs, pe)))
                pos = max(pos, qe)
            k += 1
        if pos < pe:
            pieces.append((pos, pe))
        out.append(pieces)
    return out


def pronoun_class(text: str, m: re.Match) -> str | None:
    w = m.group(0)
    low = w.lower()
    if low == "i":
        if w == "I":
            return "1s"
        nxt = text[m.end():m.end() + 1]
        return "1s" if nxt in ("'", " ") and text[m.start() - 1:m.start()] != "." else None
    if low in FIRST_SINGULAR:
        return "1s"
    if low in FIRST_PLURAL:
        return None if w == "US" else "1p"
    if low in SECOND:
        return "2"
    if low in THIRD:
        return "3"
    return None


def paragraph_evidence(story: Story) -> list[_Para]:
    text = story.text
    paras = []
    for (ps, pe), pieces in zip(story.paragraphs, narration_pieces(story)):
        counts = [0, 0, 0, 0]
        words = 0
        pronouns = []
        for s, e in pieces:
            words += len(text[s:e].split())
            for m in _PRONOUN.finditer(text, s, e):
                c = pronoun_class(text, m)
                if c is not None:
                    counts[CLASSES.index(c)] += 1
                    pronouns.append((m.start(), m.end(), c))
        paras.append(_Para(ps, pe, tuple(counts), words, pronouns, pieces))
    return paras


def boundary_kinds(story: Story) -> list[set[str]]:
    """For each paragraph i > 0, the kinds of the non-body sections between paragraph i-1 and i."""
    marks = sorted((s.start, s.kind) for s in story.sections
                   if s.kind in ("pov_header", "scene_break", "chapter_heading"))
    starts = [m[0] for m in marks]
    out: list[set[str]] = [set()]
    for i in range(1, len(story.paragraphs)):
        lo = bisect.bisect_left(starts, story.paragraphs[i - 1][1])
        hi = bisect.bisect_left(starts, story.paragraphs[i][0])
        out.append({marks[k][1] for k in range(lo, hi)})
    return out


def viterbi(paras: list[_Para], boundaries: list[set[str]], *, switch_cost: float,
            break_cost: float) -> list[str]:
    """The most likely person per paragraph under EMISSIONS with a cost for every switch."""
    if not paras:
        return []
    logp = {st: [math.log(p) for p in EMISSIONS[st]] for st in PERSONS}
    # A mild prior for third person, the default of fiction, so empty stretches stay third.
    score = {st: (0.0 if st == "third" else -1.0) + _emit(paras[0], logp[st]) for st in PERSONS}
    back: list[dict[str, str]] = []
    for i in range(1, len(paras)):
        b = boundaries[i]
        cost = 0.0 if "pov_header" in b else break_cost if b else switch_cost
        new, ptr = {}, {}
        for st in PERSONS:
            best_prev = max(PERSONS, key=lambda p: score[p] - (0.0 if p == st else cost))
            new[st] = score[best_prev] - (0.0 if best_prev == st else cost) + _emit(paras[i], logp[st])
            ptr[st] = best_prev
        score = new
        back.append(ptr)
    state = max(PERSONS, key=lambda st: score[st])
    path = [state]
    for ptr in reversed(back):
        state = ptr[state]
        path.append(state)
    return path[::-1]


def _emit(p: _Para, logp: list[float]) -> float:
    return sum(c * lp for c, lp in zip(p.counts, logp))


def segment_person(story: Story, *, switch_cost: float = 12.0, break_cost: float = 4.0
                   ) -> tuple[list[str], list[_Para]]:
    """The person of each body paragraph (needs only sections, paragraphs and quotes)."""
    paras = paragraph_evidence(story)
    return viterbi(paras, boundary_kinds(story), switch_cost=switch_cost, break_cost=break_cost), paras


def main_person(persons: list[str], paras: list[_Para]) -> str | None:
    """The person that covers the most narration words."""
    words: Counter = Counter()
    for st, p in zip(persons, paras):
        words[st] += max(p.words, 1)
    return words.most_common(1)[0][0] if words else None


# ---------------------------------------------------------------------------------------------------
# Narrator identity
class NarratorFinder:
    """Who "I" and "you" are, from the text of one story (see the module docstring, step 3)."""

    def __init__(self, story: Story):
        self.story = story
        self.text = story.text
        self.quotes = sorted(story.quotes, key=lambda q: q.start)
        self.para_starts = [s for s, _ in story.paragraphs]
        self.names = self._name_occurrences()

    # -- candidates ---------------------------------------------------------------------------------
    def _name_occurrences(self) -> list[tuple[int, int, str]]:
        """(start, end, candidate key) for names in the body; key is a character id or "?Word"."""
        occ: dict[tuple[int, int], str] = {}
        for m in self.story.mentions:
            if m.character and m.kind in ("name", "nickname", "vocative"):
                occ[(m.start, m.end)] = m.character
        if not occ:
            # No name mentions: search the characters' names and aliases, longest form first so
            # that "Derek Shepherd" wins over "Derek".
            forms: dict[str, str] = {}
            for c in self.story.characters:
                for form in (c.name, *c.aliases):
                    if form and form[:1].isupper():
                        forms.setdefault(form, c.id)
            if forms:
                alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
                pattern = re.compile(rf"(?<![\w'])(?:{alternation})(?!\w)")
                for s, e in self.story.paragraphs:
                    for m in pattern.finditer(self.text, s, e):
                        occ[(m.start(), m.end())] = forms[m.group(0)]
        covered = sorted(occ)
        # Proper nouns the characters stage missed: runs of capitalized words ("Alexis Ivanovitch")
        # that are never written lowercase, seen mid-sentence, twice, or tagged by the parser.
        lower_words = {w.lower() for s, e in self.story.paragraphs
                       for w in _WORD.findall(self.text, s, e) if w.islower()}

        def proper(w: str) -> bool:
            base = re.sub(r"'s?$", "", w).lower()
            return "'" not in base and base not in _NOT_NAMES and base not in lower_words \
                and base not in THIRD and base not in SECOND and base not in FIRST_PLURAL

        mid: Counter = Counter()
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for s, e in self.story.paragraphs:
            for m in _CAPITALIZED_RUN.finditer(self.text, s, e):
                words = [(w.start(), w.end()) for w in re.finditer(r"\S+", m.group(0))]
                words = [(m.start() + a, m.start() + b) for a, b in words]
                while words and not proper(self.text[slice(*words[0])]):
                    words.pop(0)
                while words and not proper(self.text[slice(*words[-1])]):
                    words.pop()
                if not words:
                    continue
                a, b = words[0][0], words[-1][1]
                b -= len(re.search(r"(?:'s?)?$", self.text[a:b]).group(0))  # "Ellis Grey's" -> "Ellis Grey"
                if _inside(covered, a, b):
                    continue
                name = " ".join(self.text[a:b].split())
                spans[name].append((a, b))
                prefix = self.text[s:a].rstrip(" \"'(")
                if prefix and prefix[-1] not in ".!?:\u2026":
                    mid[name] += 1
        # A lone first or last name that belongs to exactly one longer name is that name.
        parts: dict[str, set[str]] = defaultdict(set)
        for name in spans:
            words = name.split()
            if len(words) > 1:
                parts[words[0]].add(name)
                parts[words[-1]].add(name)
        key_of = {name: (next(iter(parts[name])) if len(parts.get(name, ())) == 1 else name)
                  for name in spans}
        total: Counter = Counter()
        for name, places in spans.items():
            total[key_of[name]] += len(places)
            mid[key_of[name]] += mid[name] if key_of[name] != name else 0
        tagged = self._proper_nouns_from_docs()
        for name, places in spans.items():
            key = key_of[name]
            if mid[key] or total[key] >= 2 or name in tagged:
                for a, b in places:
                    occ[(a, b)] = "?" + key
        return sorted((a, b, k) for (a, b), k in occ.items())

    def _proper_nouns_from_docs(self) -> set[str]:
        """Words the parser tagged as proper nouns or PERSON entities (when the nlp stage ran)."""
        out: set[str] = set()
        for doc in self.story.docs or ():
            for tok in doc:
                if tok.pos_ == "PROPN" or tok.ent_type_ == "PERSON":
                    out.add(tok.text)
        return out

    # -- who speaks each quote ----------------------------------------------------------------------
    def quote_sides(self, person: str) -> dict[int, str]:
        """Quote id -> "narrator" | "other", read from speech tags (unresolved quotes are absent)."""
        narrator_words = {"first": FIRST_SINGULAR, "second": SECOND}[person]
        by_para: dict[int, list] = defaultdict(list)
        for q in self.quotes:
            i = bisect.bisect_right(self.para_starts, q.start) - 1
            if i >= 0:
                by_para[i].append(q)
        sides: dict[int, str] = {}
        prev_para_side: tuple[int, str] | None = None
        for i in sorted(by_para):
            qs = by_para[i]
            ps, pe = self.story.paragraphs[i]
            found = {}
            for k, q in enumerate(qs):
                after_end = qs[k + 1].start if k + 1 < len(qs) else pe
                side = self._side_of(self.text[q.end:after_end][:80], narrator_words, after=True)
                if side is None:
                    before_start = qs[k - 1].end if k else ps
                    before = self.text[before_start:q.start]
                    sentence = re.split(r"(?<=[.!?])\s+", before.strip())[-1] if before.strip() else ""
                    side = self._side_of(sentence, narrator_words, after=False)
                if side:
                    found[q.id] = side
            para_sides = set(found.values())
            for q in qs:
                if q.id in found:
                    sides[q.id] = found[q.id]
                elif len(para_sides) == 1:
                    sides[q.id] = next(iter(para_sides))
                elif not para_sides and prev_para_side and prev_para_side[0] == i - 1 and len(qs) == 1:
                    # Alternation: a bare line answers the previous paragraph's speaker.
                    sides[q.id] = "other" if prev_para_side[1] == "narrator" else "narrator"
            resolved = {sides[q.id] for q in qs if q.id in sides}
            prev_para_side = (i, resolved.pop()) if len(resolved) == 1 else None
        return sides

    def _side_of(self, tag: str, narrator_words: frozenset, *, after: bool) -> str | None:
        words = _WORD.findall(tag)[: 8 if after else 12]
        for w in words:
            low = w.lower()
            if low in narrator_words and (low != "i" or w == "I"):
                return "narrator"
            if low in THIRD or low in ("it",):
                return "other" if low != "it" else None
            if w[:1].isupper() and low not in _NOT_NAMES and low not in narrator_words \
                    and low not in FIRST_PLURAL:
                return "other"
        return None

    # -- evidence -----------------------------------------------------------------------------------
    def evidence(self, person: str, paragraphs: set[int]) -> dict[str, Evidence]:
        """Candidate key -> Evidence, from the given paragraphs of one person."""
        ev: dict[str, Evidence] = defaultdict(Evidence)
        sides = self.quote_sides(person)
        quote_spans = [(q.start, q.end, q.id) for q in self.quotes]
        q_starts = [s for s, _, _ in quote_spans]
        for a, b, key in self.names:
            i = bisect.bisect_right(self.para_starts, a) - 1
            if i not in paragraphs:
                continue
            k = bisect.bisect_right(q_starts, a) - 1
            if k >= 0 and quote_spans[k][0] <= a < quote_spans[k][1]:
                qs, qe, qid = quote_spans[k]
                if not self._is_vocative(qs, qe, a, b):
                    continue
                side = sides.get(qid)
                if side == "other":
                    ev[key].addressed_by_others += 1
                elif side == "narrator":
                    ev[key].addressed_by_narrator += 1
            else:
                ev[key].named_in_narration += 1
        # Self-naming, in narration and in the narrator's own lines.
        pattern = _SELF_NAMING[person]
        by_span = {(a, b): key for a, b, key in self.names}
        for i in paragraphs:
            ps, pe = self.story.paragraphs[i]
            for m in pattern.finditer(self.text, ps, pe):
                k = bisect.bisect_right(q_starts, m.start()) - 1
                if k >= 0 and quote_spans[k][0] <= m.start() < quote_spans[k][1] \
                        and sides.get(quote_spans[k][2]) != "narrator":
                    continue
                key = by_span.get((m.start(1), m.end(1)))
                if key is None:
                    continue
                ev[key].self_named += 1
                # The name was also counted as a third-party use in narration: undo that.
                if ev[key].named_in_narration:
                    ev[key].named_in_narration -= 1
        if person == "first":
            for key in self._signatures(paragraphs, by_span):
                ev[key].self_named += 1
                if ev[key].named_in_narration:
                    ev[key].named_in_narration -= 1
        return ev

    def _signatures(self, paragraphs: set[int], by_span: dict) -> list[str]:
        """Letters: a name alone on its line right after a valediction ("Love," "Yours truly,")."""
        out = []
        for i in sorted(paragraphs):
            if i == 0 or i - 1 not in paragraphs:
                continue
            ps, pe = self.story.paragraphs[i]
            m = re.fullmatch(r"\s*-*\s*([A-Z][\w'\-]+)(?:\s+[A-Z][\w'\-]+)?\s*\.?", self.text[ps:pe])
            prev = self.text[slice(*self.story.paragraphs[i - 1])]
            if m and _VALEDICTION.search(prev):
                key = by_span.get((ps + m.start(1), ps + m.end(1))) or next(
                    (k for a, b, k in self.names if a == ps + m.start(1)), None)
                if key is None and m.group(1).lower() not in _NOT_NAMES:
                    key = "?" + m.group(1)  # a signature is a name even if used nowhere else
                if key:
                    out.append(key)
        return out

    def _is_vocative(self, qs: int, qe: int, a: int, b: int) -> bool:
        """Is the name at a..b addressed to someone (set off by punctuation or a greeting)?"""
        before = self.text[qs:a].rstrip()
        after = self.text[b:qe]
        ends = not after.strip(" \"'") or re.match(r"\s*(?:[,!?;]|\.|\u2026|-)", after)
        if not ends:
            return False
        if not before.strip("\"' ") or before[-1:] in ",.!?;\u2026-\u2014":
            return True
        last = _WORD.findall(before)
        return bool(last) and last[-1].lower() in _VOCATIVE_LEAD

    def best(self, person: str, paragraphs: set[int]) -> tuple[str | None, dict[str, Evidence]]:
        ev = self.evidence(person, paragraphs)
        ranked = sorted(((e.score, key) for key, e in ev.items() if e.qualifies), reverse=True)
        return (ranked[0][1] if ranked else None), ev


def _inside(sorted_spans: list[tuple[int, int]], a: int, b: int) -> bool:
    k = bisect.bisect_right(sorted_spans, (a, float("inf"))) - 1
    return k >= 0 and sorted_spans[k][0] <= a and b <= sorted_spans[k][1]


# ---------------------------------------------------------------------------------------------------
def find_reader_insert(story: Story) -> bool:
    ends = [e for _, e in story.paragraphs]
    for m in _PLACEHOLDER.finditer(story.text):
        i = bisect.bisect_left(ends, m.end())
        if i < len(ends) and story.paragraphs[i][0] <= m.start():
            return True  # in the body, not in a note
    declared = []
    for source in (story.meta, story.headers):
        if isinstance(source, dict):
            for key, value in source.items():
                if str(key).lower() in _READER_META_KEYS:
                    declared.extend(value if isinstance(value, (list, tuple)) else [value])
    return any(isinstance(v, str) and _READER_DECLARED.search(v) for v in declared)


def match_character(characters: list[Character], label: str) -> str | None:
    """The character a POV-header label names: exact name or alias, else a name part."""
    want = _clean_label(label).lower()
    if not want:
        return None
    best: tuple[int, int, str] | None = None
    for c in characters:
        forms = [c.name, *c.aliases]
        if any(f.lower() == want for f in forms if f):
            rank = 2
        elif any(want in f.lower().split() for f in forms if f):
            rank = 1
        else:
            continue
        key = (rank, c.counts.get("mentions", 0), c.id)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _clean_label(label: str) -> str:
    label = re.sub(r"(?i)(?:'s|s'|')?\s*(?:pov|p\.o\.v\.?|point of view)\b", "", label)
    return label.strip(" :-~*()[]'\"")


def new_character_id(characters: list[Character], name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "character"
    taken = {c.id for c in characters}
    cid, n = base, 2
    while cid in taken:
        cid, n = f"{base}-{n}", n + 1
    return cid


# ---------------------------------------------------------------------------------------------------
@dataclass
class NarrationResult:
    narration: Narration
    new_characters: list[Character] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


class NarrationStage(Stage):
    """Narrative person per segment and per story, and the narrator's character id."""

    name = "narration"
    requires = ("characters",)
    assigns = ("narration",)

    def __init__(self, *, switch_cost: float = 12.0, break_cost: float = 4.0,
                 mark_mentions: bool = True):
        """switch_cost: nats a change of person costs between two paragraphs (higher is smoother).
        break_cost: the same across a scene break or chapter heading (a POV header costs nothing).
        mark_mentions: write narrator mentions for "I" (first person) and "you" (second person).
        """
        self.switch_cost = switch_cost
        self.break_cost = break_cost
        self.mark_mentions = mark_mentions

    def __call__(self, story: Story) -> None:
        self.set_annotations(story, self.match(story))

    # -- compute ------------------------------------------------------------------------------------
    def match(self, story: Story) -> NarrationResult:
        persons, paras = segment_person(story, switch_cost=self.switch_cost, break_cost=self.break_cost)
        result = NarrationResult(Narration())
        if not paras:
            return result
        characters = list(story.characters)

        def character_for(name: str) -> str:
            """The id of the character `name` names, created when no character matches."""
            found = match_character(characters, name)
            if found:
                return found
            c = Character(id=new_character_id(characters, name), name=name)
            characters.append(c)
            result.new_characters.append(c)
            return c.id

        def reader_id() -> str:
            return next((c.id for c in characters if c.id == "reader"), None) or character_for("Reader")

        narrators: list[str | None] = [None] * len(paras)
        in_scope = [False] * len(paras)
        for scope in pov_scopes(story, persons):
            cid = character_for(_clean_label(scope.label) or scope.label)
            for i in range(scope.first, scope.last + 1):
                narrators[i] = cid
                in_scope[i] = True

        reader = find_reader_insert(story)
        finder = None
        for person in ("first", "second"):
            free = {i for i, p in enumerate(persons) if p == person and not in_scope[i]}
            if not free:
                continue
            if reader:
                who = reader_id()
            else:
                finder = finder or NarratorFinder(story)
                key, _ = finder.best(person, free)
                who = None
                if key is not None and key.startswith("?"):
                    who = character_for(key[1:])
                elif key is not None:
                    who = key
            for i in free:
                narrators[i] = who
        third = [i for i, p in enumerate(persons) if p == "third" and not in_scope[i]]
        if reader and any(s < e and _NAME_PLACEHOLDER.search(story.text, s, e)
                          for i in third for s, e in paras[i].pieces):
            # A third-person reader insert ("Y/N walked in") follows the Reader throughout.
            for i in third:
                narrators[i] = reader_id()

        segments: list[Segment] = []
        for i, (p, para) in enumerate(zip(persons, paras)):
            if segments and segments[-1].person == p and segments[-1].narrator == narrators[i]:
                segments[-1].end = para.end
            else:
                segments.append(Segment(para.start, para.end, p, narrators[i]))
        person = main_person(persons, paras)
        words: Counter = Counter()
        for i, p in enumerate(persons):
            if p == person:
                words[narrators[i]] += max(paras[i].words, 1)
        narrator = words.most_common(1)[0][0] if words else None
        result.narration = Narration(person=person, narrator=narrator, reader_insert=reader,
                                     segments=segments)
        if self.mark_mentions:
            result.mentions = narrator_mentions(story, persons, paras, narrators, reader)
        return result

    # -- write --------------------------------------------------------------------------------------
    def set_annotations(self, story: Story, result: NarrationResult) -> None:
        story.narration = result.narration
        story.characters.extend(result.new_characters)
        if not result.mentions:
            return
        by_span = {(m.start, m.end): m for m in story.mentions}
        added = False
        for m in result.mentions:
            old = by_span.get((m.start, m.end))
            if old is not None:
                if m.kind == "narrator" or old.character is None:
                    old.kind = m.kind
                    old.character = m.character
            else:
                story.mentions.append(m)
                added = True
        if added:
            story.mentions.sort(key=lambda m: (m.start, m.end))


def pov_scopes(story: Story, persons: list[str]) -> list[Scope]:
    """POV headers and the paragraphs they govern (see the module docstring, step 1)."""
    marks = sorted((s.start, s.kind, s.label) for s in story.sections
                   if s.kind in ("pov_header", "chapter_heading", "scene_break"))
    starts = [p[0] for p in story.paragraphs]
    scopes: list[Scope] = []
    current: Scope | None = None
    for pos, kind, label in marks:
        i = bisect.bisect_left(starts, pos)  # first paragraph after the mark
        if kind == "pov_header" and label:
            if current is not None:
                current.last = min(current.last, i - 1)
            current = Scope(first=i, last=len(starts) - 1, label=label)
            scopes.append(current)
        elif kind == "chapter_heading" and current is not None:
            current.last = min(current.last, i - 1)
            current = None
        elif kind == "scene_break" and current is not None and current.first < i < len(starts):
            if persons[i] != persons[i - 1]:
                current.last = min(current.last, i - 1)
                current = None
    return [s for s in scopes if s.first <= s.last and s.first < len(starts)]


def narrator_mentions(story: Story, persons: list[str], paras: list[_Para], narrators: list[str | None],
                      reader: bool) -> list[Mention]:
    out: list[Mention] = []
    for i, (p, para) in enumerate(zip(persons, paras)):
        want = {"first": "1s", "second": "2"}.get(p)
        if want is None:
            continue
        for s, e, c in para.pronouns:
            if c == want:
                out.append(Mention(s, e, "narrator", narrators[i]))
    if reader:
        for s, e in story.paragraphs:
            for m in _NAME_PLACEHOLDER.finditer(story.text, s, e):
                out.append(Mention(m.start(), m.end(), "name", "reader"))
    return out
