"""The data model: a `Story` and its standoff annotation layers.

Every span is a pair of code-point offsets into `Story.text` (the normalized text). `OffsetMap`
turns them back into offsets into `Story.source_text` (the decoded source), which is what the JSON
export writes, so `source_text[start:end]` gives any span back.
"""
from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA = "ficlens/1"

SectionKind = Literal[
    "title", "header", "summary", "author_note", "disclaimer", "pov_header",
    "chapter_heading", "scene_break", "body",
]
# Kinds whose text is not story text: later stages and word counts skip them.
NON_STORY_KINDS = frozenset({"title", "header", "summary", "author_note", "disclaimer",
                             "pov_header", "chapter_heading", "scene_break"})


class OffsetMap:
    """Maps offsets in a normalized text back to offsets in the text it came from.

    `starts[i]` is the source offset of normalized character i; one extra entry holds the source
    length so that an end offset maps too. An end maps to the start of the next kept character, so a
    span's source slice may carry characters normalization dropped (a zero-width space) at its end.
    An identity map stores nothing.
    """

    __slots__ = ("_starts",)

    def __init__(self, starts: array | None = None):
        self._starts = starts

    @classmethod
    def identity(cls) -> "OffsetMap":
        return cls(None)

    def to_source(self, i: int) -> int:
        return i if self._starts is None else self._starts[i]

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        return self.to_source(start), self.to_source(end)

    def compose(self, inner: "OffsetMap") -> "OffsetMap":
        """Return the map text -> source of source, where self maps text -> mid and inner mid -> source."""
        if inner._starts is None:
            return self
        if self._starts is None:
            return inner
        return OffsetMap(array("q", (inner._starts[j] for j in self._starts)))


@dataclass
class Source:
    path: str
    format: str  # txt | html | epub
    encoding: str | None = None


@dataclass
class Section:
    kind: SectionKind
    start: int
    end: int
    label: str | None = None  # e.g. the POV name, the chapter number, the header key

    @property
    def is_story(self) -> bool:
        return self.kind == "body"


@dataclass
class Quote:
    id: int
    start: int
    end: int
    utterance: int  # quotes split by a tag share one utterance id
    speaker: str | None = None
    addressees: list[str] = field(default_factory=list)
    kind: str | None = None  # explicit | anaphoric | implicit
    confidence: float | None = None
    evidence: tuple[int, int] | None = None
    closed: bool = True  # False when the quote ran to the end of its paragraph unclosed


@dataclass
class Mention:
    start: int
    end: int
    kind: str  # name | nickname | nominal | pronoun | vocative | narrator
    character: str | None = None


@dataclass
class Character:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)
    gender: str | None = None
    gender_evidence: list[str] = field(default_factory=list)
    canon: dict[str, str] | None = None
    mentioned_only: bool = False
    counts: dict[str, int] = field(default_factory=dict)  # mentions, lines, words (spoken)
    spoken_to: dict[str, int] = field(default_factory=dict)  # addressee character id -> lines


@dataclass
class Segment:
    start: int
    end: int
    person: str  # first | second | third
    narrator: str | None = None


@dataclass
class Narration:
    person: str | None = None
    narrator: str | None = None
    reader_insert: bool = False
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Relation:
    a: str
    b: str
    kind: str = "unknown"  # romantic | platonic | family | antagonistic | unknown
    weight: float = 0.0
    evidence: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Story:
    source: Source
    source_text: str
    text: str
    offsets: OffsetMap
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # declared by the source (AO3 tags, ...), as declared
    title: str | None = None  # inferred by the structure stage when the source declares none
    headers: dict[str, str] = field(default_factory=dict)  # "Rating: M" style header lines, key lower-cased
    sections: list[Section] = field(default_factory=list)
    paragraphs: list[tuple[int, int]] = field(default_factory=list)  # body paragraphs
    quotes: list[Quote] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    characters: list[Character] = field(default_factory=list)
    narration: Narration = field(default_factory=Narration)
    relations: list[Relation] = field(default_factory=list)
    tags: dict[str, Any] = field(default_factory=dict)
    docs: list[Any] = field(default_factory=list)  # spaCy Docs, one per body paragraph (not exported)
    layers: set[str] = field(default_factory=set)

    def __post_init__(self):
        if not self.id:
            self.id = content_id(self.source_text)

    def story_text_sections(self) -> list[Section]:
        return [s for s in self.sections if s.is_story]

    def body_words(self) -> int:
        """AO3-style word count: whitespace-separated words of story text, notes excluded."""
        return sum(len(self.text[s:e].split()) for s, e in self.paragraphs)


def content_id(text: str) -> str:
    """A stable id from the decoded content, so the same story read twice gets the same id."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
