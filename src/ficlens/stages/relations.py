"""Relationships: who talks to whom, who shares scenes, and what kind of bond the text shows.

The interaction graph counts lines spoken from one character to another and scenes shared. A pair's
kind comes from cue phrases in the evidence that concerns both of them: a line one speaks to the
other ("I love you", "Dad"), or a narration sentence that names both (a pronoun counts when the
scene holds exactly one character of its gender). A strong pair with no cue is platonic.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from ..model import Relation, Story
from ..pipeline import Stage

KINDS = ("romantic", "family", "antagonistic", "platonic")

# Cues in a line spoken by one of the pair to the other.
SPOKEN_CUES = {
    "romantic": r"\bi love you\b|\blove you too\b|\bmarry me\b|\bbe my (?:wife|husband|girlfriend|boyfriend)\b"
                r"|\bkiss me\b|\bi'?m in love with you\b|\bmy (?:baby girl|sweetheart|love|darling)\b",
    "family": r"\b(?:dad|daddy|mom|mommy|mum|mother|father|son|daughter|sis|bro|grandma|grandpa)\b",
    "antagonistic": r"\bi hate you\b|\bget out\b|\bleave me alone\b|\bnever speak to me\b",
    "platonic": r"\bbest friend\b|\bbuddy\b|\bpal\b|\bmate\b",
}
# Cues in a narration sentence that names or clearly refers to both.
NARRATION_CUES = {
    "romantic": r"\bkiss(?:es|ed|ing)?\b|\bmade love\b|\bmaking love\b|\bmoan(?:s|ed|ing)?\b"
                r"|\bcaress(?:es|ed|ing)?\b|\bengagement ring\b|\bproposed\b|\bdown on one knee\b"
                r"|\bthrust(?:s|ed|ing)?\b|\bnaked\b|\bcuddl(?:e|es|ed|ing)\b|\bhusband\b|\bwife\b"
                r"|\bboyfriend\b|\bgirlfriend\b",
    "family": r"\b(?:his|her|my|their) (?:father|mother|dad|mom|mum|brother|sister|son|daughter|cousin|uncle|aunt)\b",
    "antagonistic": r"\bpunch(?:es|ed)?\b|\bslapp?(?:ed|s)?\b|\bglar(?:es|ed|ing)\b|\bsneer(?:s|ed)?\b",
    "platonic": r"\bbest friend\b|\bfriendship\b|\bold friend\b",
}
_SPOKEN = {k: re.compile(v, re.I) for k, v in SPOKEN_CUES.items()}
_NARRATION = {k: re.compile(v, re.I) for k, v in NARRATION_CUES.items()}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_HE = re.compile(r"\b(?:he|him|his|himself)\b", re.I)
_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.I)

# A pair needs this much interaction (lines between them + shared scenes) to get a kind of its own.
MIN_STRENGTH = 3


def gender_key(gender: str | None) -> str | None:
    """Reduce whatever gender label the characters stage uses to M, F or None."""
    if not gender:
        return None
    g = gender.strip().lower()
    if g.startswith(("m", "he")):
        return "M"
    if g.startswith(("f", "w", "she")):
        return "F"
    return None


@dataclass
class PairEvidence:
    lines: int = 0
    scenes: int = 0
    cues: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))

    @property
    def strength(self) -> int:
        return self.lines + self.scenes


class RelationStage(Stage):
    """Builds `story.relations`: one Relation per pair that interacts, with kind and evidence."""

    name = "relations"
    requires = ("speakers",)
    assigns = ("relations",)

    def __init__(self, *, min_strength: int = MIN_STRENGTH):
        """min_strength: lines + shared scenes a pair needs before it gets a kind."""
        self.min_strength = min_strength

    def __call__(self, story: Story) -> None:
        self.set_annotations(story, self.match(story))

    def match(self, story: Story) -> dict[tuple[str, str], PairEvidence]:
        pairs: dict[tuple[str, str], PairEvidence] = defaultdict(PairEvidence)
        for q in story.quotes:
            if not q.speaker:
                continue
            for other in q.addressees:
                if other and other != q.speaker:
                    ev = pairs[_key(q.speaker, other)]
                    ev.lines += 1
                    text = story.text[q.start:q.end]
                    for kind, rx in _SPOKEN.items():
                        for m in rx.finditer(text):
                            ev.cues[kind].append((q.start + m.start(), q.start + m.end()))
        genders = {c.id: gender_key(c.gender) for c in story.characters}
        for start, end, cast in scenes(story):
            for a, b in combinations(sorted(cast), 2):
                pairs[(a, b)].scenes += 1
            self._narration_cues(story, start, end, cast, genders, pairs)
        return pairs

    def _narration_cues(self, story, start, end, cast, genders, pairs) -> None:
        names = [(m.start, m.end, m.character) for m in story.mentions
                 if start <= m.start < end and m.character and m.kind != "pronoun"]
        by_gender = defaultdict(set)
        for cid in cast:
            if genders.get(cid):
                by_gender[genders[cid]].add(cid)
        # Dialogue is masked out: its cues are counted per speaker in `match`.
        text = mask_quotes(story, start, end)
        for sm in _SENTENCE.finditer(text):
            s, e = start + sm.start(), start + sm.end()
            sentence = sm.group()
            found = [k for k, rx in _NARRATION.items() if rx.search(sentence)]
            if not found:
                continue
            who = {cid for ms, _, cid in names if s <= ms < e}
            # A pronoun stands for the scene's only character of that gender.
            if _HE.search(sentence) and len(by_gender["M"]) == 1:
                who |= by_gender["M"]
            if _SHE.search(sentence) and len(by_gender["F"]) == 1:
                who |= by_gender["F"]
            if story.narration.narrator and re.search(r"\b(?:I|me|my)\b", sentence):
                who.add(story.narration.narrator)
            for a, b in combinations(sorted(who), 2):
                for kind in found:
                    pairs[(a, b)].cues[kind].append((s, e))

    def set_annotations(self, story: Story, pairs: dict[tuple[str, str], PairEvidence]) -> None:
        relations = []
        for (a, b), ev in pairs.items():
            if ev.strength == 0:
                continue
            kind = "unknown"
            if ev.strength >= self.min_strength or ev.cues:
                scored = [(len(ev.cues.get(k, ())), -KINDS.index(k), k) for k in KINDS]
                best = max(scored)
                kind = best[2] if best[0] > 0 else ("platonic" if ev.strength >= self.min_strength else "unknown")
            evidence = sorted(ev.cues.get(kind, []))[:20]
            relations.append(Relation(a=a, b=b, kind=kind, weight=float(ev.strength), evidence=evidence))
        story.relations = sorted(relations, key=lambda r: (-r.weight, r.a, r.b))


def mask_quotes(story: Story, start: int, end: int) -> str:
    """The text of [start, end) with every quote blanked to spaces (offsets unchanged)."""
    chars = list(story.text[start:end])
    for q in story.quotes:
        if q.end > start and q.start < end:
            for i in range(max(q.start, start), min(q.end, end)):
                chars[i - start] = " "
    return "".join(chars)


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def scenes(story: Story) -> list[tuple[int, int, set[str]]]:
    """Scenes as (start, end, characters present): body text between breaks, POV headers, chapters.

    A character is present when named (not just mentioned as a pronoun) in the scene, or speaks,
    or is the narrator of a first/second-person story.
    """
    cuts = [s.start for s in story.sections if s.kind in ("scene_break", "pov_header", "chapter_heading")]
    bounds = [0] + cuts + [len(story.text)]
    named = sorted((m.start, m.character) for m in story.mentions if m.character and m.kind != "pronoun")
    spoken = sorted((q.start, q.speaker) for q in story.quotes if q.speaker)
    mentioned_only = {c.id for c in story.characters if c.mentioned_only}
    out = []
    for start, end in zip(bounds, bounds[1:]):
        cast = {cid for pos, cid in named + spoken if start <= pos < end} - mentioned_only
        if story.narration.narrator and story.narration.person in ("first", "second") and cast:
            cast.add(story.narration.narrator)
        if cast:
            out.append((start, end, cast))
    return out
