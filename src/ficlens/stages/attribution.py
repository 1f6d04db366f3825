"""The attribution stage: who says each line of dialogue, and to whom.

One decision per utterance (the quotes a speech tag splits share one speaker):

1. Cues, read from the narration next to the utterance's quotes with the paragraph's parse
   (`story.docs`), and from the words themselves where the tokenizer glued a name to a dash and a
   quote mark (`Anna--"these`):
   - a speech tag: a speech verb outside the quotes ("said", "asked", "went on", "put in") whose
     subject refers to someone, after the quote (`"...," said he`), before it (`Anna said, "..."`),
     between the parts of a split utterance, or ending the narration paragraph just before a line
     (`... and said to his daughter:`); also `"...," was Anna's reply`;
   - an action beat: no speech verb, but the sentence right before or right after the quote in the
     same paragraph has a person as its subject (`He put his cup down. "..."`): one speaker per
     paragraph is fiction's convention, so the actor is the speaker;
   - the subject's referent: a name or nickname mention with a character (explicit); a
     description ("her sister", "the old man") or a pronoun he/she (anaphoric), read by its gender;
     "I" in first-person narration and "you" in second-person narration (the narrator, anaphoric);
   - addressee cues: a name addressed inside the line (a vocative: `"Derek, ..."`), the object of
     the speech verb (`she told him`, `said to Anna`).
   A line set off from the one before by a wider blank break than the story's usual one (where
   the story does that rarely) is joined to it: one speaker, unless their tags name two people.
2. Candidates: the characters named within the last `window` paragraphs (and the next one), the
   speakers and addressees of the last lines, the narrator and the story's three most named
   characters.
3. Features per candidate (`FEATURES`): the cue names it or someone else; a pronoun or description
   cue agrees with its gender, or it is the most recently seen character of that gender (the coref
   stage's links for tag pronouns measured no better on PDNC and are not read); turn-taking (the
   previous speakers, who the previous line addressed, the nearest line on each side whose tag
   names its speaker and how many turns away it is; everyone a tag in this run of dialogue names:
   the people present); named or talked about inside the line; named or a subject in the
   narration around it; salience. A logistic regression scores them (weights and model card in
   `models/speaker_ranker/`). Decoding is a beam search left to right (turn features read the
   decisions on each beam), done twice: the second pass also reads the first pass's speakers of
   the next lines. `ranker="rules"` uses the rule sieve instead: the same cues in a fixed order of
   precedence, greedy.
   A chapter heading or scene break ends a conversation: turn-taking never crosses it.
4. Addressees: the line's vocatives or the tag's object; else, in a conversation, the previous
   speaker when it is someone else, else the next one, else the conversation's other voice.

Finally each character's `counts["lines"]` (utterances), `counts["words"]` (words spoken) and
`spoken_to` (addressee id -> lines) are filled in.
"""
from __future__ import annotations

import bisect
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Errors, FiclensError
from ..model import Quote, Story
from ..names import person_nouns
from ..pipeline import Stage

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "speaker_ranker"

# Lemmas of verbs that introduce speech ("went on" is handled as go + on).
SPEECH_LEMMAS = frozenset("""
    say ask reply answer whisper shout yell cry call mutter murmur exclaim add continue tell
    scream snap sigh hiss breathe repeat respond begin mumble groan laugh demand insist declare
    announce return rejoin observe remark plead beg admit agree protest interrupt explain suggest
    whimper stammer stutter tease promise urge warn retort inquire enquire wonder sob growl gasp
    resume persist pursue conclude echo bark bellow chuckle giggle grumble grunt moan purr roar
    shriek sneer squeal squeak whine drawl blurt chime counter confess exclaim finish muse note
    object offer order point prompt quip reason recall remind report rasp scoff shrug smile
    grin nod chide correct comment concede assure inform venture volunteer coo croak
    gush lie mouth pant pray boom state query question reassure scold command wail chirp hum
    sing think write read interpose ejaculate bawl chatter entreat implore assert quaver jeer
    proclaim expostulate remonstrate falter lisp snarl thunder taunt beseech reiterate babble
""".split())
_GO_ON = frozenset({"go", "keep", "carry"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
_MALE = frozenset({"he"})
_FEMALE = frozenset({"she"})
_FIRST = frozenset({"i"})
_SECOND = frozenset({"you"})
# Words before a name that still leave it addressed ("Hey Derek", "Oh, Anna").
_VOCATIVE_LEAD = frozenset("""
    hey hi hello oh ah bye goodbye thanks thank please sorry morning night dear my yes no yeah
    yep nope okay ok well listen look come now good
""".split())
_WORD = re.compile(r"\S+")

# Turn-taking: an utterance continues the conversation of the one before when at most this many
# paragraphs of narration lie between them (and no chapter heading).
MAX_GAP = 2
# Candidates: characters named in the last WINDOW paragraphs. Decoding keeps BEAM sequences.
WINDOW = 30
BEAM = 8
# Of the characters named in the window, the most recently named ones are candidates.
MAX_RECENT = 8
# A wider break than usual between two lines continues one voice only where such breaks are rare.
WIDE_BREAK_SHARE = 0.15

# Features of one candidate speaker (see `Scorer.features`). Cue features: the tag (`t_`) or beat
# (`b_`) names the candidate, names someone else, or is a pronoun (`p_` for a tag, `bp_` for a beat)
# that agrees with the candidate's gender (`rank0`: the candidate is the most recently seen
# character of that gender). History features read earlier decisions (`prev1`, `prev2_alt`: the
# speaker of the line before, and of the one before that when it alternates) and, in the second
# pass, the first pass's decisions for the next lines (`nxt1`, `nxt2_alt`).
BASE_FEATURES = (
    "t_name", "t_narr", "t_other", "n_match", "n_mismatch", "n_coref", "b_name", "b_narr", "b_other",
    "p_match", "p_mismatch", "p_unknown", "p_rank0", "p_rank1", "bp_match", "bp_mismatch", "bp_rank0",
    "talked_about", "quote_pron", "prev_quote_pron", "para_pron", "prevpara_pron",
    "anc_next_even", "anc_next_odd", "anc_prev_even", "anc_prev_odd", "anc_pron_even", "anc_pron_odd",
    "vocative_here", "named_in_quote", "para_mention", "para_subject", "prevpara_mention",
    "prevpara_subject", "narr_recency", "recency", "mention_count", "global_share", "top_char",
    "top_gender", "narrator", "next_tag", "next2_tag",
    "prev1", "prev1_same_para", "prev2_alt", "addressed_prev", "addr_pred_prev", "participant",
    "speaker_count", "nxt1", "nxt2_alt", "run_tagged",
)
# History features again, once per cue situation: "pm" (a pronoun cue agreeing with the candidate),
# "un" (a cue that resolves to no known character) and "no" (no cue at all: turn-taking decides).
INTERACTED = ("prev1", "prev2_alt", "addressed_prev", "addr_pred_prev", "participant", "nxt1",
              "nxt2_alt", "narr_recency", "para_subject", "prevpara_subject", "narrator",
              "global_share", "speaker_count", "top_gender", "rank0",
              "anc_next_even", "anc_next_odd", "anc_prev_even", "anc_prev_odd", "anc_pron_even",
              "anc_pron_odd")
MODES = ("pm", "un", "no")
FEATURES = BASE_FEATURES + tuple(f"{m}_{h}" for m in MODES for h in INTERACTED)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Ref:
    """What a cue's subject (or object) refers to."""

    kind: str  # name | nominal | pronoun | narrator | unknown
    character: str | None
    start: int
    end: int
    gender: str | None = None  # "M" | "F" for he/she


@dataclass
class Cue:
    kind: str  # tag (a speech verb) | beat (an action sentence)
    side: str  # before | after | inside
    ref: Ref
    addressee: Ref | None = None


@dataclass
class Utterance:
    index: int
    quotes: list[Quote]
    para: int  # paragraph of the first quote
    last_para: int
    start: int
    end: int
    cues: list[Cue] = field(default_factory=list)
    vocatives: list[tuple[str, int, int]] = field(default_factory=list)  # (character, start, end)
    named: set[str] = field(default_factory=set)  # characters named inside the line, not addressed
    pronoun_genders: set[str] = field(default_factory=set)  # "M"/"F" of he/she... inside the line
    gap: int = 99  # paragraphs between this utterance and the one before (-1: same paragraph)
    words: int = 0

    @property
    def tag(self) -> Cue | None:
        return next((c for c in self.cues if c.kind == "tag"), None)

    @property
    def beat(self) -> Cue | None:
        return next((c for c in self.cues if c.kind == "beat"), None)


@dataclass
class Decision:
    utterance: Utterance
    speaker: str | None
    kind: str  # explicit | anaphoric | implicit
    confidence: float
    evidence: tuple[int, int] | None
    addressees: list[str]


def gender_key(gender: str | None) -> str | None:
    """M, F or None from whatever label the characters stage uses (male, F, she/her...)."""
    if not gender:
        return None
    g = gender.strip().lower()
    if g.startswith(("m", "he", "man", "boy")):
        return "M"
    if g.startswith(("f", "w", "she", "girl")):
        return "F"
    return None


# ---------------------------------------------------------------------------------------------------
class Context:
    """What attribution reads of a story, indexed once: paragraphs, quotes, names, narration."""

    def __init__(self, story: Story, *, window: int):
        self.story = story
        self.text = story.text
        self.window = window
        self.para_starts = [s for s, _ in story.paragraphs]
        self.gender = {c.id: gender_key(c.gender) for c in story.characters}
        self.quotes = sorted(story.quotes, key=lambda q: q.start)
        self.quote_starts = [q.start for q in self.quotes]
        self.para_quotes: dict[int, list[Quote]] = defaultdict(list)
        for q in self.quotes:
            self.para_quotes[self.para_of(q.start)].append(q)
        self.names = self._names()  # (start, end, character, kind, in_quote, paragraph) sorted
        self.name_starts = [n[0] for n in self.names]
        self.forms = self._forms()
        segs = sorted(story.narration.segments, key=lambda s: s.start)
        self.seg_starts = [s.start for s in segs]
        self.segments = segs
        # A new chapter or scene starts a new conversation: turn-taking does not cross it.
        breaks = sorted(s.start for s in story.sections if s.kind in ("chapter_heading", "scene_break"))
        self.chapter_breaks = breaks
        # Narration pronouns the coref stage resolved, per paragraph: (character, in a quote).
        self.para_pronouns: dict[int, Counter] = defaultdict(Counter)
        for m in story.mentions:
            if m.kind == "pronoun" and m.character and not self.in_quote(m.start):
                self.para_pronouns[self.para_of(m.start)][m.character] += 1
        self.wide_breaks = _wide_breaks(story)

    # -- lookups ------------------------------------------------------------------------------------
    def para_of(self, pos: int) -> int:
        return bisect.bisect_right(self.para_starts, pos) - 1

    def in_quote(self, pos: int) -> bool:
        k = bisect.bisect_right(self.quote_starts, pos) - 1
        return k >= 0 and self.quotes[k].start <= pos < self.quotes[k].end

    def segment_at(self, pos: int):
        k = bisect.bisect_right(self.seg_starts, pos) - 1
        return self.segments[k] if k >= 0 and pos < self.segments[k].end else None

    def narrator_at(self, pos: int, person: str) -> str | None:
        seg = self.segment_at(pos)
        return seg.narrator if seg is not None and seg.person == person else None

    def chapter_between(self, a: int, b: int) -> bool:
        k = bisect.bisect_right(self.chapter_breaks, a)
        return k < len(self.chapter_breaks) and self.chapter_breaks[k] < b

    def name_at(self, a: int, b: int) -> tuple[str, str, int, int] | None:
        """The character-bearing mention overlapping a..b: (character, kind, start, end)."""
        k = bisect.bisect_right(self.name_starts, b - 1) - 1
        while k >= 0 and self.names[k][0] > a - 40:
            s, e, cid, kind, _, _ = self.names[k]
            if s < b and e > a:
                return cid, kind, s, e
            k -= 1
        return None

    def names_between(self, a: int, b: int):
        k = bisect.bisect_left(self.name_starts, a)
        while k < len(self.names) and self.names[k][0] < b:
            yield self.names[k]
            k += 1

    # -- building -----------------------------------------------------------------------------------
    def _names(self) -> list[tuple[int, int, str, str, bool]]:
        out: dict[tuple[int, int], tuple[str, str]] = {}
        for m in self.story.mentions:
            if m.character and m.kind in ("name", "nickname", "nominal", "vocative"):
                out[(m.start, m.end)] = (m.character, m.kind)
        if not any(kind != "nominal" for _, kind in out.values()):
            # No name mentions (the mentions stage did not run): search names and aliases.
            for (s, e), cid in _search_forms(self.story).items():
                out.setdefault((s, e), (cid, "name"))
        return sorted((s, e, cid, kind, self.in_quote(s), self.para_of(s)) for (s, e), (cid, kind) in out.items())

    def _forms(self) -> dict[str, str]:
        """Lower-cased name, alias and name-part -> character id, where unambiguous."""
        owners: dict[str, set[str]] = defaultdict(set)
        for c in self.story.characters:
            for form in (c.name, *c.aliases):
                if not form:
                    continue
                owners[form.lower()].add(c.id)
                for part in form.split():
                    if part[:1].isupper() and len(part) > 2 and not part.endswith("."):
                        owners[part.lower()].add(c.id)
        return {f: next(iter(ids)) for f, ids in owners.items() if len(ids) == 1}


def _wide_breaks(story: Story) -> set[int]:
    """Paragraphs set off from the one before by more blank lines than the story's usual break,
    in a story that does so rarely (at most one break in WIDE_BREAK_SHARE): some writers mark one
    speaker's next paragraph that way."""
    text = story.text
    lines = [text.count("\n", e, s) for (_, e), (s, _) in zip(story.paragraphs, story.paragraphs[1:])]
    if len(lines) < 10:
        return set()
    usual = Counter(lines).most_common(1)[0][0]
    wide = {k + 1 for k, n in enumerate(lines) if n > usual}
    return wide if len(wide) <= len(lines) * WIDE_BREAK_SHARE else set()


def _search_forms(story: Story) -> dict[tuple[int, int], str]:
    forms: dict[str, str] = {}
    for c in story.characters:
        for form in (c.name, *c.aliases):
            if form and form[:1].isupper():
                forms.setdefault(form, c.id)
            if form and form.split()[0].lower() == "the" and len(form.split()) > 1:
                # "the officer": a description used as a name, in any case.
                forms.setdefault("the " + " ".join(form.split()[1:]).lower(), c.id)
    if not forms:
        return {}
    # A name may be wrapped across lines ("Mr.\nKnightley"): any run of spaces matches one space.
    ordered = sorted(forms, key=len, reverse=True)
    parts = [r"\s+".join(re.escape(w) for w in f.split()) for f in ordered if not f.startswith("the ")]
    articled = [r"\s+".join(re.escape(w) for w in f.split()) for f in ordered if f.startswith("the ")]
    if articled:
        parts.append("(?i:" + "|".join(articled) + ")")
    pattern = re.compile(rf"(?<![\w'])(?:{'|'.join(parts)})(?![\w'])")
    lookup = {" ".join(f.split()): cid for f, cid in forms.items()}
    lookup.update({k.lower(): v for k, v in lookup.items() if k.lower().startswith("the ")})
    out: dict[tuple[int, int], str] = {}
    for s, e in story.paragraphs:
        for m in pattern.finditer(story.text, s, e):
            found = " ".join(m.group(0).split())
            cid = lookup.get(found) or lookup.get(found.lower())
            if cid:
                out[(m.start(), m.end())] = cid
    return out


# ---------------------------------------------------------------------------------------------------
# Cues
def utterances(ctx: Context) -> list[Utterance]:
    by_id: dict[int, list[Quote]] = {}
    for q in ctx.quotes:
        by_id.setdefault(q.utterance, []).append(q)
    out: list[Utterance] = []
    for qs in sorted(by_id.values(), key=lambda qs: qs[0].start):
        u = Utterance(index=len(out), quotes=qs, para=ctx.para_of(qs[0].start),
                      last_para=ctx.para_of(qs[-1].start), start=qs[0].start, end=qs[-1].end)
        u.words = sum(len(ctx.text[q.start:q.end].split()) for q in qs)
        if out:
            prev = out[-1]
            u.gap = u.para - prev.last_para - 1
            if ctx.chapter_between(prev.end, u.start):
                u.gap = 99
        out.append(u)
    return out


def find_cues(ctx: Context, u: Utterance) -> None:
    """Fill `u.cues`, `u.vocatives` and `u.named` (see the module docstring, step 1)."""
    story = ctx.story
    docs = story.docs
    for qi, q in enumerate(u.quotes):
        p = ctx.para_of(q.start)
        ps, pe = story.paragraphs[p]
        in_para = ctx.para_quotes[p]
        k = next(i for i, x in enumerate(in_para) if x is q)
        nxt = in_para[k + 1].start if k + 1 < len(in_para) else pe
        prv = in_para[k - 1].end if k > 0 else ps
        doc = docs[p] if p < len(docs) else None
        side_after = "inside" if qi + 1 < len(u.quotes) and u.quotes[qi + 1].start == nxt else "after"
        # Without a parse (no nlp stage: doc is None) the lexical reading still finds most tags.
        cue = _region_cue(ctx, doc, ps, q.end, nxt, side_after, first_sentence=True)
        if cue:
            u.cues.append(cue)
        if qi == 0:
            cue = _region_cue(ctx, doc, ps, prv, q.start, "before", first_sentence=False)
            if cue:
                u.cues.append(cue)
            elif not ctx.text[ps:q.start].strip() and p > 0:
                cue = _above_cue(ctx, p - 1)
                if cue:
                    u.cues.append(cue)
        _line_names(ctx, u, q)
    u.cues.sort(key=_cue_order)


_SIDE_ORDER = {"after": 0, "inside": 0, "before": 1, "above": 2}


def _cue_order(c: Cue) -> tuple[bool, int]:
    """Tags beat beats, and nearer tags win: the order is after/inside, then before, then above."""
    return c.kind != "tag", _SIDE_ORDER[c.side]


def read_utterances(ctx: Context) -> list[Utterance]:
    """The story's utterances with their cues, a line set off by a wide break joined to the one
    before it (`_wide_breaks`)."""
    utts = utterances(ctx)
    for u in utts:
        find_cues(ctx, u)
    if not ctx.wide_breaks:
        return utts
    out: list[Utterance] = []
    for u in utts:
        prev = out[-1] if out else None
        if prev is not None and u.gap == 0 and u.para in ctx.wide_breaks and _one_voice(prev, u):
            prev.quotes.extend(u.quotes)
            prev.last_para, prev.end, prev.words = u.last_para, u.end, prev.words + u.words
            prev.cues.extend(u.cues)
            prev.cues.sort(key=_cue_order)
            prev.vocatives.extend(u.vocatives)
            prev.named |= u.named
            prev.pronoun_genders |= u.pronoun_genders
            continue
        u.index = len(out)
        out.append(u)
    return out


def _one_voice(a: Utterance, b: Utterance) -> bool:
    """Could a and b be one speaker's, by their tags (no two names, no two genders)?"""
    names, genders = set(), set()
    for t in (a.tag, b.tag):
        if t is None:
            continue
        if t.ref.kind in ("name", "narrator") and t.ref.character:
            names.add(t.ref.character)
        elif t.ref.kind == "pronoun" and t.ref.gender:
            genders.add(t.ref.gender)
    return len(names) <= 1 and len(genders) <= 1


def _above_cue(ctx: Context, p: int) -> Cue | None:
    """A tag that ends the paragraph before a line (`... and said to his daughter:`)."""
    story = ctx.story
    ps, pe = story.paragraphs[p]
    in_para = ctx.para_quotes.get(p)
    a = in_para[-1].end if in_para else ps
    tail = ctx.text[a:pe].rstrip()
    if len(tail) < 3:
        return None
    leads_in = tail[-1] in ":,;-\u2014"
    if in_para and not leads_in:
        return None  # the tag of the paragraph's own line ("Yes," said Anna.), not of the next one
    doc = story.docs[p] if p < len(story.docs) else None
    cue = _region_cue(ctx, doc, ps, a, pe, "above", first_sentence=False)
    if cue is None or cue.kind != "tag":
        return None
    # A sentence that ends in a colon, comma or dash leads into the line; a finished one counts
    # when its verb is a speech verb (`Katharine asked slowly, as if ...`).
    return cue


def _region_cue(ctx: Context, doc, ps: int, a: int, b: int, side: str, *, first_sentence: bool) -> Cue | None:
    if b - a < 2:
        return None
    a, b = _one_sentence(ctx.text, a, b, first=first_sentence)
    if b - a < 2:
        return None
    cue = _parsed_cue(ctx, doc, ps, a, b, side, first_sentence=first_sentence) if doc is not None else None
    if cue is None or cue.kind == "beat":
        # The parse misses tags when the tokenizer glues a name to a dash and a quote mark
        # (`Anna--"these`): read the words themselves.
        cue = _lexical_cue(ctx, a, b, side) or cue
    return cue


# A sentence end, but not the period of a title ("Mr.") or an initial.
_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMme)(?<!\bMlle)(?<!\b[A-Z])[.!?]+"
                  r"(?=[\s\"')\]_*-]|$)")


def _one_sentence(text: str, a: int, b: int, *, first: bool) -> tuple[int, int]:
    """The first sentence of text[a:b] (after a quote) or its last one (before a quote)."""
    if first:
        m = _END.search(text, a, b)
        return a, (m.end() if m else b)
    end = b
    while end > a and text[end - 1] in " \t\n\"'":
        end -= 1
    start = a
    for m in _END.finditer(text, a, end):
        if m.end() < end:
            start = m.end()
    return start, b


def _parsed_cue(ctx: Context, doc, ps: int, a: int, b: int, side: str, *, first_sentence: bool) -> Cue | None:
    # "expand": a token that runs into the quote mark (`Emma--"nothing`, a tokenizer miss) still counts.
    span = doc.char_span(a - ps, b - ps, alignment_mode="expand")
    if span is None or not len(span):
        return None
    toks = [t for t in span if not t.is_space]
    if not toks:
        return None
    lo, hi = toks[0].i, toks[-1].i
    inside = lambda t: lo <= t.i <= hi  # noqa: E731
    verbs = [t for t in toks if _is_speech_verb(t)]
    if side == "before":
        verbs.reverse()
    for v in verbs:
        subj = _subject(v, inside)
        if subj is None:
            continue
        ref = _resolve(ctx, subj, ps)
        if ref is None:
            continue
        return Cue("tag", side, ref, _addressee(ctx, v, ps, inside))
    # An action beat: the subject of the sentence's main verb.
    roots = [t for t in toks if t.dep_ == "ROOT" or (t.dep_ == "conj" and t.head.dep_ == "ROOT")]
    for r in roots:
        subj = _subject(r, inside, strict=True)
        if subj is None:
            continue
        ref = _resolve(ctx, subj, ps)
        if ref is not None and ref.kind != "unknown":
            return Cue("beat", side, ref, _addressee(ctx, r, ps, inside))
    return None


_LEX_WORD = re.compile(r"(?:Mr|Mrs|Ms|Dr|St|Mme|Mlle)\.|[A-Za-z]+(?:['\u2019][A-Za-z]+)*")


def _lexical_cue(ctx: Context, a: int, b: int, side: str) -> Cue | None:
    """`said Anna`, `Anna said`, `said he`, `he said softly`, `Anna quickly said`, from the words."""
    words = [(m.start(), m.end(), m.group(0)) for m in _LEX_WORD.finditer(ctx.text, a, b)]
    if not words:
        return None
    if side == "before":
        words = words[-6:]
    else:
        words = words[:6]
    forms = SPEECH_FORMS
    if side != "before" and len(words) >= 2 and words[0][2] == "was":
        # `"...," was Anna's reply.`
        hit = ctx.name_at(words[1][0], words[min(2, len(words) - 1)][1])
        if hit is not None and ctx.text[hit[3]:hit[3] + 2] in ("'s", "\u2019s"):
            return Cue("tag", side, Ref("name", hit[0], hit[2], hit[3]))
    for k, (s, e, w) in enumerate(words):
        low = w.lower()
        last = k
        if low in _PHRASAL and k + 1 < len(words) and words[k + 1][2].lower() == _PHRASAL[low]:
            last = k + 1  # "put in Anna", "he went on"
        elif low not in forms:
            continue
        # Subject after the verb ("said Anna", "said he", "said Mr. Weston").
        ref = _lexical_ref(ctx, words, last + 1)
        if ref is None and k > 0:
            # Before it, over at most one adverb ("Anna said", "she softly said").
            j = k - 1
            if words[j][2].endswith("ly") and j > 0:
                j -= 1
            ref = _lexical_ref(ctx, words, j, backwards=True)
        if ref is not None:
            return Cue("tag", side, ref)
    return None


def _lexical_ref(ctx: Context, words, k: int, *, backwards: bool = False) -> Ref | None:
    if k < 0 or k >= len(words):
        return None
    s, e, w = words[k]
    low = w.lower()
    if low == "he" or low == "she":
        return Ref("pronoun", None, s, e, "M" if low == "he" else "F")
    if w == "I":
        return Ref("narrator", ctx.narrator_at(s, "first"), s, e)
    if not w[:1].isupper():
        # A description: "replied her aunt", "the old man said".
        if not backwards and low in _DETERMINERS and k + 1 < len(words):
            end = k + 1
            if end + 1 < len(words) and words[end + 1][2].islower() and words[end + 1][2] not in _STOP \
                    and not ctx.text[words[end][1]:words[end + 1][0]].strip():
                end += 1
            return _nominal_ref(ctx, s, words[end][1])
        if backwards and low not in _STOP and w.isalpha():
            for j in (k - 1, k - 2):
                if j >= 0 and words[j][2].lower() in _DETERMINERS:
                    return _nominal_ref(ctx, words[j][0], e)
        return None
    hit = ctx.name_at(s, e)
    if hit is not None:
        return Ref("name", hit[0], hit[2], hit[3])
    if backwards or low not in _TITLES:
        return None
    # A title: the name follows ("said Mr. Weston").
    if k + 1 < len(words):
        hit = ctx.name_at(s, words[k + 1][1])
        if hit is not None:
            return Ref("name", hit[0], hit[2], hit[3])
    return None


def _nominal_ref(ctx: Context, s: int, e: int) -> Ref:
    hit = ctx.name_at(s, e)
    if hit is not None and hit[1] != "nominal":
        return Ref("name", hit[0], hit[2], hit[3])
    return Ref("nominal", hit[0] if hit else None, s, e, _noun_gender(ctx.text[s:e]))


def _noun_gender(phrase: str) -> str | None:
    """"M" or "F" for a description whose last word is a gendered person noun ("her aunt")."""
    words = _LEX_WORD.findall(phrase)
    g = person_nouns().get(words[-1].casefold()) if words else None
    return {"male": "M", "female": "F"}.get(g or "")


_DETERMINERS = frozenset("the his her their my our that this its your".split())
_STOP = frozenset("""to with in at as and or but of for from on by into upon after before while when
    who whom which that then so not very quite again once""".split())


# Two-word speech verbs: the verb form and its particle.
_PHRASAL = {"went": "on", "goes": "on", "put": "in", "puts": "in", "broke": "in", "breaks": "in",
            "cut": "in", "chimed": "in", "called": "out", "cried": "out", "burst": "out", "spoke": "up",
            "piped": "up"}

_TITLES = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "mme.", "mlle.", "miss", "lady", "lord", "sir",
                     "madame", "captain", "colonel", "aunt", "uncle"})


def _inflections(lemma: str) -> set[str]:
    out = {lemma, lemma + "s", lemma + "ed", lemma + "d"}
    if lemma.endswith("y"):
        out |= {lemma[:-1] + "ies", lemma[:-1] + "ied"}
    if lemma.endswith(("s", "sh", "ch", "x")):
        out.add(lemma + "es")
    if len(lemma) >= 3 and lemma[-1] in "bdgmnprt" and lemma[-2] in "aeiou" and lemma[-3] not in "aeiou":
        out.add(lemma + lemma[-1] + "ed")  # snap -> snapped
    return out


_IRREGULAR = {"say": {"said"}, "tell": {"told"}, "beseech": {"besought"}, "begin": {"began"},
              "think": {"thought"}, "write": {"wrote"}, "read": {"read"}, "lie": {"lied"},
              "sing": {"sang"}, "shout": set(), "cry": {"cried"}}
SPEECH_FORMS = frozenset(f for lemma in SPEECH_LEMMAS for f in _inflections(lemma) | _IRREGULAR.get(lemma, set())
                         ) - {"read", "reads", "lie", "lies", "object", "objects", "order", "orders", "point",
                              "points", "offer", "offers", "note", "notes", "question", "questions", "state",
                              "states", "report", "reports", "smile", "smiles", "nod", "nods", "grin", "grins",
                              "shrug", "shrugs", "call", "calls", "add", "adds", "counter", "return", "returns",
                              "finish", "mouth", "begin", "sing", "pray", "hum", "cry", "cries", "laugh", "laughs",
                              "think", "write", "wonder"}


def _is_speech_verb(t) -> bool:
    if t.pos_ not in ("VERB", "AUX") and t.tag_ not in ("VBD", "VBZ", "VBP", "VBG", "VB"):
        return False
    lemma = t.lemma_.lower()
    if lemma in SPEECH_LEMMAS:
        return True
    return lemma in _GO_ON and any(c.dep_ == "prt" and c.lower_ == "on" for c in t.children)


def _subject(v, inside, *, strict: bool = False):
    for c in v.children:
        if c.dep_ in _SUBJECT_DEPS and inside(c):
            return c
    # "and said", and the speaker of "could not help saying", "was heard saying".
    if v.dep_ in ("conj", "xcomp") and inside(v.head):
        for c in v.head.children:
            if c.dep_ in _SUBJECT_DEPS and inside(c):
                return c
    if strict:
        return None
    # A misparsed inverted tag ("said Mr. Holloway"): a person word right after the verb.
    doc = v.doc
    for j in range(v.i + 1, min(v.i + 4, len(doc))):
        t = doc[j]
        if not inside(t):
            break
        if t.pos_ == "PROPN" or t.lower_ in ("he", "she", "i"):
            return t
        if t.pos_ in ("VERB", "PUNCT"):
            break
    return None


def _resolve(ctx: Context, tok, ps: int) -> Ref | None:
    a = ps + tok.idx
    b = a + len(tok.text)
    low = tok.lower_
    if low in _MALE or low in _FEMALE:
        return Ref("pronoun", None, a, b, "M" if low in _MALE else "F")
    if low in _FIRST and tok.text == "I":
        return Ref("narrator", ctx.narrator_at(a, "first"), a, b)
    if low in _SECOND:
        seg = ctx.segment_at(a)
        if seg is not None and seg.person == "second":
            return Ref("narrator", seg.narrator, a, b)
        return None
    if tok.pos_ == "PRON":
        return None
    hit = ctx.name_at(a, b)
    if hit is not None:
        cid, kind, s, e = hit
        if kind == "nominal":
            return Ref("nominal", cid, s, e, _noun_gender(ctx.text[s:e]))
        return Ref("name", cid, s, e)
    # A subtree that holds a name ("Mr. Holloway", "Anna's brother" is not one: the head decides).
    if tok.pos_ == "PROPN":
        # The whole name: the subject's subtree and any names right after it ("Mr." parsed as the
        # subject of "Mr. Knightley").
        doc = tok.doc
        right = tok.i
        while right + 1 < len(doc) and doc[right + 1].pos_ == "PROPN" and right - tok.i < 3:
            right += 1
        s = ps + tok.left_edge.idx
        b = max(b, ps + doc[right].idx + len(doc[right].text))
        hit = ctx.name_at(s, b)
        if hit is not None:
            return Ref("name", hit[0], hit[2], hit[3])
        cid = ctx.forms.get(tok.lower_) or ctx.forms.get(" ".join(ctx.text[s:b].lower().split()))
        return Ref("name", cid, s, b) if cid else Ref("unknown", None, s, b)
    if tok.pos_ == "NOUN":
        s = ps + tok.left_edge.idx
        if tok.lemma_.casefold() in person_nouns():
            return Ref("nominal", None, s, b, _noun_gender(tok.text))
        return Ref("unknown", None, s, b)
    return None


def _addressee(ctx: Context, v, ps: int, inside) -> Ref | None:
    """`told him`, `asked Anna`, `said to her`, `turned to Anna`."""
    for c in v.children:
        if not inside(c):
            continue
        target = None
        if c.dep_ in ("dobj", "dative") and v.lemma_ in ("tell", "ask", "answer", "inform", "assure",
                                                          "remind", "warn", "beg", "order", "urge",
                                                          "call", "question", "scold", "thank"):
            target = c
        elif c.dep_ in ("prep", "dative") and c.lower_ == "to":
            target = next((g for g in c.children if g.dep_ == "pobj"), None)
        if target is None:
            continue
        low = target.lower_
        a = ps + target.idx
        b = a + len(target.text)
        if low in ("him", "her"):
            return Ref("pronoun", None, a, b, "M" if low == "him" else "F")
        if low == "me":
            return Ref("narrator", ctx.narrator_at(a, "first"), a, b)
        hit = ctx.name_at(ps + target.left_edge.idx, b)
        if hit is not None:
            return Ref("name", hit[0], hit[2], hit[3])
    return None


_THIRD_PERSON = re.compile(r"\b(?:(he|him|his|himself)|(she|her|hers|herself))\b", re.I)


def _line_names(ctx: Context, u: Utterance, q: Quote) -> None:
    """Names inside the line: addressed (a vocative) or talked about; and he/she inside it (people
    talked about in the third person are seldom in the conversation)."""
    text = ctx.text
    for m in _THIRD_PERSON.finditer(text, q.start, q.end):
        u.pronoun_genders.add("M" if m.group(1) else "F")
    for s, e, cid, kind, _, _ in ctx.names_between(q.start, q.end):
        if kind == "vocative" or _is_vocative(text, q.start, q.end, s, e):
            u.vocatives.append((cid, s, e))
        else:
            u.named.add(cid)


# Candidate sets of the utterance's context (keys of `info`) and the binary feature each sets.
_PARAGRAPH_FLAGS = (("para_pron", "para_pron"), ("prevpara_pron", "prevpara_pron"),
                    ("para_mention", "para_mention"), ("psub", "para_subject"),
                    ("prevpara_mention", "prevpara_mention"), ("pps", "prevpara_subject"))


def _is_vocative(text: str, qs: int, qe: int, a: int, b: int) -> bool:
    after = text[b:qe].lstrip()
    if after and not (after[0] in ",!?;.\u2026-\u2014\"'" or after.startswith("...")):
        return False
    if re.match(r"['\u2019]s\b", after):
        return False  # "Grey's not the only one": talked about (is, or a possessive), not called
    before = text[qs:a].rstrip(" ")
    stripped = before.lstrip("\"' _*")
    if not stripped or before[-1:] in ",.!?;\u2026-\u2014":
        return True
    words = stripped.split()
    return bool(words) and words[-1].strip(",").lower() in _VOCATIVE_LEAD and (
        len(words) == 1 or words[-2][-1:] in ",.!?")


# ---------------------------------------------------------------------------------------------------
# Candidates and features
class History:
    """The decisions so far (the last `KEEP` of them): what turn features read.

    Indices are absolute utterance indices; `child` makes the history of one more decision without
    touching this one, so a beam can hold several.
    """

    KEEP = 12
    __slots__ = ("speakers", "addressees", "base", "following")

    def __init__(self, following: list[str | None] | None = None):
        self.speakers: list[str | None] = []
        self.addressees: list[list[str]] = []
        self.base = 0  # absolute index of speakers[0]
        self.following = following  # the first pass's speakers, for the second pass

    @property
    def n(self) -> int:
        return self.base + len(self.speakers)

    def spk(self, k: int) -> str | None:
        j = k - self.base
        return self.speakers[j] if 0 <= j < len(self.speakers) else None

    def adr(self, k: int) -> list[str]:
        j = k - self.base
        return self.addressees[j] if 0 <= j < len(self.addressees) else []

    def push(self, speaker: str | None, addressees: list[str]) -> None:
        self.speakers.append(speaker)
        self.addressees.append(addressees)
        if len(self.speakers) > 4 * self.KEEP:
            cut = len(self.speakers) - self.KEEP
            del self.speakers[:cut]
            del self.addressees[:cut]
            self.base += cut

    def child(self, speaker: str | None, addressees: list[str]) -> "History":
        h = History(self.following)
        cut = max(0, len(self.speakers) - self.KEEP + 1)
        h.speakers = self.speakers[cut:] + [speaker]
        h.addressees = self.addressees[cut:] + [addressees]
        h.base = self.base + cut
        return h

    def signature(self) -> tuple:
        return tuple(self.speakers[-10:])


class Scorer:
    """Candidates and their features for each utterance of one story.

    What does not depend on earlier decisions (the window's mentions, the cues, the static features
    of each candidate) is computed once per utterance and kept, so that a second decoding pass, or
    training's many passes, only recompute the turn features.
    """

    def __init__(self, ctx: Context, utts: list[Utterance]):
        self.ctx = ctx
        self.utts = utts
        self._para_subjects: dict[int, set[str]] = {}
        self._prepared: dict[int, dict] = {}
        self._slide: dict | None = None
        counts: Counter = Counter(n[2] for n in ctx.names)
        top = counts.most_common(1)[0][1] if counts else 1
        self.global_share = {c: n / top for c, n in counts.items()}
        self.top_char = counts.most_common(1)[0][0] if counts else None
        self.top_gender: dict[str, str] = {}
        for c, _ in counts.most_common():
            g = ctx.gender.get(c)
            if g and g not in self.top_gender:
                self.top_gender[g] = c
        # The most mentioned characters are candidates everywhere: protagonists speak unnamed.
        self.leads = [c for c, _ in counts.most_common(3)]

    @classmethod
    def of(cls, ctx: Context, utts: list[Utterance]) -> "Scorer":
        """The scorer kept on `ctx` for these utterances (built once)."""
        got = getattr(ctx, "_scorer", None)
        if got is None or got.utts is not utts:
            got = cls(ctx, utts)
            ctx._scorer = got
        return got

    def para_subjects(self, p: int) -> set[str]:
        """Characters named as the subject of a narration sentence in paragraph p."""
        got = self._para_subjects.get(p)
        if got is not None:
            return got
        out: set[str] = set()
        ctx = self.ctx
        docs = ctx.story.docs
        if 0 <= p < len(docs):
            ps, pe = ctx.story.paragraphs[p]
            doc = docs[p]
            for s, e, cid, _, inq, _ in ctx.names_between(ps, pe):
                if inq or cid in out:
                    continue
                span = doc.char_span(s - ps, e - ps, alignment_mode="expand")
                if span is not None and len(span) and span.root.dep_ in _SUBJECT_DEPS:
                    out.add(cid)
        self._para_subjects[p] = out
        return out

    # -- what no decision changes ---------------------------------------------------------------------
    def _window(self, u: Utterance):
        """Mentions in the `window` paragraphs before the line, kept by a sliding window (lines
        come in text order): last paragraph per character, last narration position, counts."""
        ctx = self.ctx
        names = ctx.names
        st = self._slide
        if st is None or u.start < st["pos"]:
            st = self._slide = {"hi": 0, "lo": 0, "pos": -1, "last": {}, "seen": {}, "count": Counter(),
                                "ncount": Counter()}
        st["pos"] = u.start
        last, seen, count, ncount = st["last"], st["seen"], st["count"], st["ncount"]
        hi = st["hi"]
        while hi < len(names) and names[hi][0] < u.start:
            s, _, cid, _, inq, p = names[hi]
            count[cid] += 1
            last[cid] = p
            if not inq:
                ncount[cid] += 1
                seen[cid] = s
            hi += 1
        st["hi"] = hi
        lo_para = u.para - ctx.window
        lo = st["lo"]
        while lo < hi and names[lo][5] < lo_para:
            s, _, cid, _, inq, p = names[lo]
            count[cid] -= 1
            if not count[cid]:
                del count[cid]
                del last[cid]
            if not inq:
                ncount[cid] -= 1
                if not ncount[cid]:
                    del ncount[cid]
                    del seen[cid]
            lo += 1
        st["lo"] = lo
        return last, seen, count

    def prepare(self, u: Utterance) -> dict:
        got = self._prepared.get(u.index)
        if got is not None:
            return got
        ctx = self.ctx
        last, seen, count = self._window(u)
        last = dict(last)
        seen = dict(seen)
        count = Counter(count)
        para_mention: set[str] = set()
        prevpara_mention: set[str] = set()
        after: list[str] = []
        lo = ctx.story.paragraphs[max(0, u.para - 1)][0]
        hi = ctx.story.paragraphs[min(len(ctx.para_starts) - 1, u.last_para + 1)][1]
        for s, e, cid, kind, inq, p in ctx.names_between(lo, hi):
            if s < u.start:
                if not inq:
                    if p == u.para:
                        para_mention.add(cid)
                    elif p == u.para - 1:
                        prevpara_mention.add(cid)
                continue
            count[cid] += 1
            if s >= u.end and cid not in after:
                after.append(cid)
            if not inq and u.para <= p <= u.last_para:
                para_mention.add(cid)
        para_of = ctx.para_of
        cands: dict[str, None] = {}
        for c in u.cues:
            for ref in (c.ref, c.addressee):
                if ref is not None and ref.character:
                    cands[ref.character] = None
        for cid in sorted(last, key=lambda c: -last[c])[:MAX_RECENT]:
            cands[cid] = None
        narrator = ctx.narrator_at(u.start, "first") or ctx.narrator_at(u.start, "second")
        if narrator:
            cands[narrator] = None
        tail = [c for c in after + self.leads if c not in cands]
        i = u.index
        utts = self.utts
        prev = utts[i - 1] if i >= 1 else None
        addressed_prev: set[str] = set()
        if prev is not None and u.gap <= MAX_GAP:
            addressed_prev = {c for c, _, _ in prev.vocatives}
            tag = prev.tag
            if tag and tag.addressee and tag.addressee.character:
                addressed_prev.add(tag.addressee.character)
        next_tags: list[str | None] = [None, None]
        for k, j in enumerate((i + 1, i + 2)):
            if j >= len(utts) or utts[j].gap > 0:
                break
            t = utts[j].tag
            next_tags[k] = t.ref.character if t and t.ref.kind in ("name", "narrator") else None
        narration_before = u.para > 0 and not ctx.para_quotes.get(u.para - 1)
        pps = self.para_subjects(u.para - 1) if narration_before else set()
        prevpara_pron = ctx.para_pronouns.get(u.para - 1, {}) if narration_before else {}
        para_pron: set[str] = set()
        for p in range(u.para, u.last_para + 1):
            para_pron.update(ctx.para_pronouns.get(p, ()))
        # The nearest line on each side, in the same run of dialogue, whose tag names its speaker:
        # turn parity from it (an even number of turns away: the same voice).
        anchors = {}
        pron_anchors: dict[str, int] = {}  # gender -> distance of the nearest he/she tag
        # Everyone a tag names in this run of dialogue, either side: the people present. A name
        # in the narration only ("Except Meredith loved him") does not put someone in the room.
        run_tagged: set[str] = set()
        for direction in (1, -1):
            j = i
            while 0 <= j + direction < len(utts) and abs(j + direction - i) <= 8:
                nxt = j + direction
                if utts[max(j, nxt)].gap > 1:
                    break
                j = nxt
                t = utts[j].tag
                if t is None:
                    continue
                named = t.ref.character if t.ref.kind in ("name", "narrator") else None
                if named:
                    run_tagged.add(named)
                if direction in anchors:
                    continue  # past the nearest named tag: only the people present are gathered
                if t.ref.kind == "pronoun" and t.ref.gender:
                    d = abs(j - i)
                    if d < pron_anchors.get(t.ref.gender, 99):
                        pron_anchors[t.ref.gender] = d
                elif named:
                    anchors[direction] = (abs(j - i), named)
        prev_pron = utts[i - 1].pronoun_genders if i >= 1 and u.gap <= MAX_GAP else set()
        talked_about = set(u.named)
        for j in (i - 1, i - 2):
            if j >= 0 and utts[j + 1].gap <= MAX_GAP:
                talked_about |= utts[j].named
            else:
                break
        psub: set[str] = set()
        for p in range(u.para, u.last_para + 1):
            psub |= self.para_subjects(p)
        narr_last = {c: para_of(pos) for c, pos in seen.items()}
        info = {"cands": list(cands), "tail": tail, "last": last, "narr_last": narr_last, "seen": seen,
                "count": count, "para_mention": para_mention, "prevpara_mention": prevpara_mention,
                "narrator": narrator, "addressed_prev": addressed_prev, "next_tags": next_tags,
                "pps": pps, "psub": psub, "vocs": {c for c, _, _ in u.vocatives}, "static": {},
                "talked_about": talked_about, "para_pron": para_pron, "prevpara_pron": prevpara_pron,
                "static_rows": {},
                "anchors": anchors, "pron_anchors": pron_anchors, "prev_pron": prev_pron,
                "run_tagged": run_tagged}
        self._prepared[u.index] = info
        return info

    def static(self, u: Utterance, info: dict, c: str) -> tuple[dict[str, float], str | None]:
        """Features of candidate c that no decision changes, and its interaction mode."""
        got = info["static"].get(c)
        if got is not None:
            return got
        ctx = self.ctx
        g = ctx.gender.get(c)
        f: dict[str, float] = {}
        tag, beat = u.tag, u.beat
        mode = "no" if tag is None and beat is None else None
        if tag is not None:
            mode = _cue_features(f, "t", tag.ref, c, g)
        if beat is not None and (tag is None or tag.ref.character != c):
            m = _cue_features(f, "b", beat.ref, c, g)
            if tag is None:
                mode = m
        if c in info["addressed_prev"]:
            f["addressed_prev"] = 1.0
        if c in info["vocs"]:
            f["vocative_here"] = 1.0
        if c in u.named:
            f["named_in_quote"] = 1.0
        if c in info["talked_about"]:
            f["talked_about"] = 1.0
        if g is not None and g in u.pronoun_genders:
            f["quote_pron"] = 1.0
        if c in info["run_tagged"]:
            f["run_tagged"] = 1.0
        if g is not None and g in info["prev_pron"]:
            f["prev_quote_pron"] = 1.0
        d = info["pron_anchors"].get(g) if g is not None else None
        if d is not None:
            f["anc_pron_even" if d % 2 == 0 else "anc_pron_odd"] = 0.85 ** (d - 1)
        for direction, (d, who) in info["anchors"].items():
            if who == c:
                side = "next" if direction == 1 else "prev"
                f[f"anc_{side}_{'even' if d % 2 == 0 else 'odd'}"] = 0.85 ** (d - 1)
        for key, feature in _PARAGRAPH_FLAGS:
            if c in info[key]:
                f[feature] = 1.0
        lp = info["narr_last"].get(c)
        if lp is not None:
            f["narr_recency"] = 1.0 / (1.0 + u.para - lp)
        lp = info["last"].get(c)
        if lp is not None:
            f["recency"] = 1.0 / (1.0 + u.para - lp)
        n = info["count"].get(c)
        if n:
            f["mention_count"] = math.log1p(n)
        share = self.global_share.get(c)
        if share:
            f["global_share"] = share
        if c == self.top_char:
            f["top_char"] = 1.0
        if g is not None and self.top_gender.get(g) == c:
            f["top_gender"] = 1.0
        if c == info["narrator"]:
            f["narrator"] = 1.0
        nt = info["next_tags"]
        if nt[0] == c:
            f["next_tag"] = 1.0
        elif nt[1] == c:
            f["next2_tag"] = 1.0
        got = (f, mode)
        info["static"][c] = got
        return got

    # -- per decision -------------------------------------------------------------------------------
    def candidates(self, u: Utterance, hist: History) -> tuple[list[str], dict]:
        info = self.prepare(u)
        cands = dict.fromkeys(info["cands"])
        n = hist.n
        for k in range(n - 1, max(-1, n - 8), -1):
            spk = hist.spk(k)
            if spk:
                cands[spk] = None
            for a in hist.adr(k):
                cands[a] = None
        for c in info["tail"]:
            cands[c] = None
        return list(cands), info

    def features(self, u: Utterance, cands: list[str], info: dict, hist: History) -> list[dict[int, float]]:
        """One sparse row {feature index: value} per candidate."""
        ctx = self.ctx
        utts = self.utts
        i = u.index
        near = u.gap <= MAX_GAP
        spk1 = hist.spk(i - 1) if near else None
        spk2 = hist.spk(i - 2) if i >= 2 and utts[i - 1].gap <= MAX_GAP and spk1 is not None else None
        pred_addr_prev = set(hist.adr(i - 1)) if near else set()
        # The voices of this conversation so far (it ends at a chapter, a scene break or a long
        # stretch of narration): who took part, and how often each spoke in the last ten lines.
        participants: set[str] = set()
        recent: Counter = Counter()
        k = i - 1
        while k >= 0 and k >= i - 10 and utts[k + 1].gap <= MAX_GAP:
            spk = hist.spk(k)
            if spk:
                recent[spk] += 1
                if k >= i - 6 and len(participants) < 4:
                    participants.add(spk)
            k -= 1
        nxt1 = nxt2 = None
        if hist.following is not None and i + 1 < len(utts) and utts[i + 1].gap <= MAX_GAP:
            nxt1 = hist.following[i + 1]
            if i + 2 < len(utts) and utts[i + 2].gap <= MAX_GAP:
                nxt2 = hist.following[i + 2]
        # Pronoun cues: the most recently seen characters of that gender (named in narration, or
        # speaking), most recent first.
        ranks: dict[str, list[str]] = {}
        tag, beat = u.tag, u.beat
        if (tag is not None and tag.ref.kind == "pronoun") or (beat is not None and beat.ref.kind == "pronoun"):
            seen = dict(info["seen"])
            for k in range(max(0, i - 8), i):
                s = hist.spk(k)
                if s:
                    seen[s] = max(seen.get(s, -1), utts[k].start)
            for c0 in (tag, beat):
                if c0 is not None and c0.ref.kind == "pronoun":
                    same = [c for c in cands if ctx.gender.get(c) == c0.ref.gender and c in seen
                            and seen[c] < c0.ref.start]
                    same.sort(key=lambda c: -seen[c])
                    ranks[c0.kind] = same[:2]
        rows = []
        static_rows = info["static_rows"]
        for c in cands:
            got = static_rows.get(c)
            if got is None:
                static, mode = self.static(u, info, c)
                got = static_rows[c] = ({_FI[n]: v for n, v in static.items() if n in _FI}, mode,
                                        "p_match" in static, "bp_match" in static)
            row, mode, p_match, bp_match = got
            row = dict(row)
            if c == spk1:
                row[_I_PREV1 if u.gap >= 0 else _I_PREV1_SAME] = 1.0
            if c == spk2 and c != spk1:
                row[_I_PREV2] = 1.0
            if c in pred_addr_prev:
                row[_I_ADDR_PRED] = 1.0
            if c in participants:
                row[_I_PARTICIPANT] = 1.0
            n = recent.get(c)
            if n:
                row[_I_SPEAKER_COUNT] = n / 10.0
            if c == nxt1:
                row[_I_NXT1] = 1.0
            elif c == nxt2:
                row[_I_NXT2] = 1.0
            if ranks:
                r = ranks.get("tag")
                if r and p_match:
                    if c == r[0]:
                        row[_I_P_RANK0] = 1.0
                    elif len(r) > 1 and c == r[1]:
                        row[_I_P_RANK1] = 1.0
                r = ranks.get("beat")
                if r and bp_match and c == r[0]:
                    row[_I_BP_RANK0] = 1.0
            if mode is not None:
                off = _MODE_OFFSET[mode]
                for k, v in list(row.items()):
                    for j in _INTER_OF.get(k, ()):
                        row[off + j] = v
            rows.append(row)
        return rows


_FI = {name: k for k, name in enumerate(FEATURES)}
_MODE_OFFSET = {m: len(BASE_FEATURES) + j * len(INTERACTED) for j, m in enumerate(MODES)}
# Base feature index -> the interaction slots it fills ("rank0" gathers the tag's and the beat's
# versions).
_INTER_OF: dict[int, list[int]] = defaultdict(list)
for _j, _name in enumerate(INTERACTED):
    for _src in {"rank0": ("p_rank0", "bp_rank0")}.get(_name, (_name,)):
        _INTER_OF[_FI[_src]].append(_j)
_INTER_OF = dict(_INTER_OF)
(_I_PREV1, _I_PREV1_SAME, _I_PREV2, _I_ADDR_PRED, _I_PARTICIPANT, _I_SPEAKER_COUNT, _I_NXT1, _I_NXT2,
 _I_P_RANK0, _I_P_RANK1, _I_BP_RANK0) = (_FI[n] for n in (
    "prev1", "prev1_same_para", "prev2_alt", "addr_pred_prev", "participant", "speaker_count", "nxt1",
    "nxt2_alt", "p_rank0", "p_rank1", "bp_rank0"))


def _cue_features(f: dict, kind: str, ref: Ref, c: str, g: str | None) -> str | None:
    """Set the cue features of candidate c; return the interaction mode (pm, un) or None."""
    if ref.kind in ("name", "narrator") and ref.character:
        f[f"{kind}_{'name' if ref.kind == 'name' else 'narr'}" if ref.character == c else f"{kind}_other"] = 1.0
        return None
    if ref.kind == "nominal" and kind == "t":
        # A description ("said the old lady", "her husband replied"): the coref stage's reading of
        # it is often wrong, so it counts like a pronoun: its gender, and the coref link apart.
        if ref.character == c:
            f["n_coref"] = 1.0
        if ref.gender is None or g is None:
            return "un"
        if g != ref.gender:
            f["n_mismatch"] = 1.0
            return None
        f["n_match"] = 1.0
        return "pm"
    if ref.kind == "pronoun":
        p = "p" if kind == "t" else "bp"
        if g is None:
            if kind == "t":
                f["p_unknown"] = 1.0
            return "un"
        if g != ref.gender:
            f[f"{p}_mismatch"] = 1.0
            return None
        f[f"{p}_match"] = 1.0
        return "pm"
    # A cue whose subject is no known character ("her mother", a narrator nobody named).
    return "un"


# ---------------------------------------------------------------------------------------------------
class LinearRanker:
    """Logistic-regression scorers over `FEATURES`: one per decoding pass (weights in JSON).

    Pass 1 decodes left to right; pass 2, when present, decodes again with the first pass's
    decisions for the following lines as features (`nxt1`, `nxt2_alt`).
    """

    def __init__(self, passes: list[tuple[dict[str, float], float]], meta: dict | None = None):
        self.passes = [([float(w.get(name, 0.0)) for name in FEATURES], float(b)) for w, b in passes]
        self.meta = meta or {}

    @classmethod
    def load(cls, path: Path) -> "LinearRanker":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            passes = [(p["weights"], p.get("intercept", 0.0)) for p in data["passes"]]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise FiclensError(Errors.E302.format(path=path, reason=e)) from e
        return cls(passes, {k: v for k, v in data.items() if k != "passes"})

    def to_json(self) -> dict:
        return {**self.meta, "features": list(FEATURES),
                "passes": [{"weights": dict(zip(FEATURES, coef)), "intercept": b} for coef, b in self.passes]}

    def scores(self, rows: list[dict[int, float]], pass_index: int = 0) -> list[float]:
        coef, b = self.passes[min(pass_index, len(self.passes) - 1)]
        return [b + sum(coef[k] * x for k, x in row.items()) for row in rows]


def default_ranker() -> LinearRanker | None:
    path = MODEL_DIR / "weights.json"
    return LinearRanker.load(path) if path.is_file() else None


def decode(ctx: Context, utts: list[Utterance], ranker: LinearRanker | None, *,
           gold: list[str | None] | None = None, rows_out: list | None = None,
           passes: int | None = None, following: list[str | None] | None = None,
           beam: int = 1) -> list[Decision]:
    """Decide every utterance: the ranker's passes in turn (or the rule sieve when ranker is None).

    gold: training only: turn features read these speakers of earlier lines (teacher forcing).
    rows_out: training only: receives (utterance index, candidates, feature rows) of the last pass.
    passes: how many of the ranker's passes to run (default: all).
    following: training only: the speakers the second pass reads for the following lines.
    beam: how many speaker sequences the search keeps (1: greedy).
    """
    n_pass = 1 if ranker is None else min(passes or len(ranker.passes), len(ranker.passes))
    decisions: list[Decision] = []
    for k in range(n_pass):
        if k > 0:
            following = [d.speaker for d in decisions]
        decisions = _decode_pass(ctx, utts, ranker, k, gold=gold, following=following,
                                 rows_out=rows_out if k == n_pass - 1 else None,
                                 keep=decisions if k > 0 else None, beam=beam)
    return decisions


# A later pass keeps the decisions the first pass was this sure of (a named tag, mostly): the
# following lines cannot change them, and skipping them halves the second pass's cost.
KEEP_CONFIDENCE = 0.97


def _decode_pass(ctx: Context, utts: list[Utterance], ranker: LinearRanker | None, pass_index: int, *,
                 gold, following, rows_out, keep: list[Decision] | None = None,
                 beam: int = 1) -> list[Decision]:
    """One left-to-right pass; with `beam` > 1 (and a ranker) a beam search over speaker sequences,
    so one early mistake does not decide every turn after it."""
    scorer = Scorer.of(ctx, utts)
    if gold is not None or ranker is None:
        beam = 1
    # A beam entry: (log probability, history, chain of decisions as (decision, parent)).
    beams: list[tuple[float, History, tuple | None]] = [(0.0, History(following=following), None)]
    for u in utts:
        if keep is not None and keep[u.index].confidence >= KEEP_CONFIDENCE:
            d = keep[u.index]
            spk = gold[u.index] if gold is not None else d.speaker
            beams = [(lp, _extend(h, spk, d.addressees, beam), (d, node)) for lp, h, node in beams]
            continue
        expansions = []
        for lp, hist, node in beams:
            cands, info = scorer.candidates(u, hist)
            rows = scorer.features(u, cands, info, hist) if cands else []
            if rows_out is not None:
                rows_out.append((u.index, cands, rows))
            if ranker is not None and cands:
                scores = ranker.scores(rows, pass_index)
                m = max(scores)
                logz = m + math.log(sum(math.exp(x - m) for x in scores))
                order = sorted(range(len(cands)), key=scores.__getitem__, reverse=True)[:beam]
                picks = [(cands[j], scores[j] - logz) for j in order]
            else:
                speaker, confidence = sieve(u, cands, rows)
                picks = [(speaker, math.log(max(confidence, 1e-6)))]
            for speaker, logp in picks:
                kind, evidence = _kind(u, speaker, hist, utts, ctx.gender)
                addressees = _addressees(ctx, u, speaker, hist, utts)
                d = Decision(u, speaker, kind, math.exp(logp), evidence, addressees)
                spk = gold[u.index] if gold is not None else speaker
                expansions.append((lp + logp, hist, spk, addressees, (d, node)))
        expansions.sort(key=lambda x: -x[0])
        beams = []
        signatures = set()
        for lp, hist, spk, addressees, node in expansions:
            h = _extend(hist, spk, addressees, beam)
            sig = h.signature() if beam > 1 else None
            if sig in signatures:
                continue
            signatures.add(sig)
            beams.append((lp, h, node))
            if len(beams) >= beam:
                break
    out: list[Decision] = []
    node = beams[0][2]
    while node is not None:
        out.append(node[0])
        node = node[1]
    out.reverse()
    return out


def _extend(hist: History, speaker: str | None, addressees: list[str], beam: int) -> History:
    if beam == 1:
        hist.push(speaker, addressees)
        return hist
    return hist.child(speaker, addressees)


def _kind(u: Utterance, speaker: str | None, hist: History, utts: list[Utterance], gender: dict):
    """explicit (a name in the tag decided), anaphoric (a pronoun, a description, the narrator's
    "I"), implicit (no tag: turn-taking), with the span of the evidence."""
    if speaker is not None:
        for cue in u.cues:
            ref = cue.ref
            if ref.character == speaker:
                return ("explicit" if ref.kind == "name" else "anaphoric"), (ref.start, ref.end)
            if ref.kind == "pronoun" and gender.get(speaker) in (None, ref.gender):
                return "anaphoric", (ref.start, ref.end)
            if ref.kind in ("unknown", "nominal") and cue.kind == "tag":
                return "anaphoric", (ref.start, ref.end)
    # No tag decided it: the evidence is the earlier line of the same speaker (turn-taking).
    i = u.index
    for k in (i - 2, i - 1):
        if speaker is not None and hist.spk(k) == speaker:
            q = utts[k].quotes[0]
            return "implicit", (q.start, q.end)
    return "implicit", None


def _addressees(ctx: Context, u: Utterance, speaker: str | None, hist: History,
                utts: list[Utterance]) -> list[str]:
    out: list[str] = []
    for c, _, _ in u.vocatives:
        if c != speaker and c not in out:
            out.append(c)
    tag = u.tag
    if tag and tag.addressee and tag.addressee.character and tag.addressee.character != speaker:
        if tag.addressee.character not in out:
            out.append(tag.addressee.character)
    if out:
        return out
    i = u.index
    spk1 = hist.spk(i - 1)
    if u.gap <= MAX_GAP and spk1 and spk1 != speaker:
        return [spk1]
    if u.gap <= MAX_GAP and spk1 is not None and spk1 == speaker and hist.adr(i - 1):
        return list(hist.adr(i - 1))  # the same voice goes on, to the same person
    # The next line's speaker, when it answers this one.
    if i + 1 < len(utts) and utts[i + 1].gap <= MAX_GAP:
        nxt = hist.following[i + 1] if hist.following is not None else None
        if nxt is None:
            t = utts[i + 1].tag
            nxt = t.ref.character if t else None
        if nxt and nxt != speaker:
            return [nxt]
    # Else the conversation's other voice, the latest one before this line.
    k, gap = i - 1, u.gap
    while k >= 0 and k >= i - 6 and gap <= MAX_GAP:
        other = hist.spk(k)
        if other and other != speaker:
            return [other]
        gap = utts[k].gap
        k -= 1
    return []


# The rule sieve: the same features, read in a fixed order of precedence.
_IDX = {name: k for k, name in enumerate(FEATURES)}
_SIEVE = (
    (("t_name", "t_narr"), 0.95),
    (("p_rank0",), 0.8),
    (("p_match",), 0.6),
    (("b_name", "b_narr"), 0.8),
    (("bp_rank0",), 0.6),
    (("bp_match",), 0.5),
    (("no_addressed_prev", "no_addr_pred_prev"), 0.6),
    (("no_prev2_alt",), 0.55),
    (("no_prevpara_subject",), 0.4),
    (("no_narrator",), 0.3),
)


def sieve(u: Utterance, cands: list[str], rows: list[dict[int, float]]) -> tuple[str | None, float]:
    for names, conf in _SIEVE:
        idx = [_IDX[n] for n in names]
        hits = [c for c, row in zip(cands, rows) if any(k in row for k in idx)
                and _IDX["vocative_here"] not in row]
        if hits:
            return hits[0], conf
    return None, 0.0


# ---------------------------------------------------------------------------------------------------
class AttributionStage(Stage):
    """Speaker, addressees, kind, confidence and evidence for every quote; per-character counts."""

    name = "attribution"
    requires = ("quotes", "characters", "narration")
    assigns = ("speakers",)

    def __init__(self, *, ranker: str | LinearRanker = "auto", window: int = WINDOW, beam: int = BEAM):
        """ranker: "auto" (the shipped learned ranker, else the rule sieve), "learned", "rules",
            or a LinearRanker.
        window: how many paragraphs back a named character stays a candidate speaker.
        beam: how many speaker sequences the learned ranker's search keeps (1: greedy).
        """
        if isinstance(ranker, LinearRanker):
            self.ranker = ranker
        elif ranker in ("auto", "learned"):
            self.ranker = default_ranker()
            if self.ranker is None and ranker == "learned":
                raise FiclensError(Errors.E302.format(path=MODEL_DIR / "weights.json", reason="missing"))
        elif ranker == "rules":
            self.ranker = None
        else:
            raise ValueError(f"ranker must be auto, learned, rules or a LinearRanker, not {ranker!r}")
        self.window = window
        self.beam = beam

    def __call__(self, story: Story) -> None:
        self.set_annotations(story, self.match(story))

    # -- compute ------------------------------------------------------------------------------------
    def match(self, story: Story) -> list[Decision]:
        ctx = Context(story, window=self.window)
        utts = read_utterances(ctx)
        return decode(ctx, utts, self.ranker, beam=self.beam)

    # -- write --------------------------------------------------------------------------------------
    def set_annotations(self, story: Story, decisions: list[Decision]) -> None:
        for c in story.characters:
            c.counts["lines"] = 0
            c.counts["words"] = 0
            c.spoken_to = {}
        by_id = {c.id: c for c in story.characters}
        for d in decisions:
            for q in d.utterance.quotes:
                q.speaker = d.speaker
                q.addressees = list(d.addressees)
                q.kind = d.kind
                q.confidence = round(d.confidence, 3)
                q.evidence = d.evidence
            c = by_id.get(d.speaker) if d.speaker else None
            if c is None:
                continue
            c.counts["lines"] += 1
            c.counts["words"] += sum(len(_WORD.findall(story.text, *_content(story.text, q)))
                                     for q in d.utterance.quotes)
            for a in d.addressees:
                c.spoken_to[a] = c.spoken_to.get(a, 0) + 1


def _content(text: str, q: Quote) -> tuple[int, int]:
    s, e = q.start, q.end
    if s < e and text[s] in "\"'":
        s += 1
    if q.closed and e > s and text[e - 1] in "\"'":
        e -= 1
    return s, e
