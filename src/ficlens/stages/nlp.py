"""The parse: spaCy over every body paragraph (notes and headers are not parsed)."""
from __future__ import annotations

from typing import Iterator, Sequence

from ..model import Story
from ..nlp import load_nlp
from ..pipeline import Stage

BATCH_SIZE = 256


class NlpStage(Stage):
    """Parse each body paragraph; `story.docs[i]` is the Doc of `story.paragraphs[i]`."""

    name = "nlp"
    requires = ("sections",)
    assigns = ("docs",)

    def __init__(self, *, disable: tuple[str, ...] = ()):
        """disable: spaCy components to skip (e.g. ("ner",) when only the parse is wanted)."""
        self.disable = disable

    def __call__(self, story: Story) -> None:
        self.pipe([story])

    def pipe(self, stories: Sequence[Story]) -> None:
        from spacy.tokens import Doc

        nlp = load_nlp(self.disable)
        # A paragraph longer than spaCy's max_length (a whole book on one line) is parsed in pieces
        # cut at whitespace and joined back into one Doc with the same characters.
        pieces: list[int] = []
        texts: list[str] = []
        for story in stories:
            for s, e in story.paragraphs:
                parts = list(split_at_whitespace(story.text[s:e], nlp.max_length // 2))
                pieces.append(len(parts))
                texts.extend(parts)
        docs = iter(nlp.pipe(texts, batch_size=BATCH_SIZE))
        counts = iter(pieces)
        for story in stories:
            story.docs = []
            for _ in story.paragraphs:
                parts = [next(docs) for _ in range(next(counts))]
                story.docs.append(parts[0] if len(parts) == 1 else Doc.from_docs(parts, ensure_whitespace=False))


def split_at_whitespace(text: str, size: int) -> Iterator[str]:
    """`text` in consecutive pieces of at most `size` characters, each cut after a space if one is near."""
    start = 0
    while len(text) - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = start + size if cut < 0 else cut + 1
        yield text[start:cut]
        start = cut
    yield text[start:]
