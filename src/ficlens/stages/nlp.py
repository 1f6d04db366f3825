"""The parse: spaCy over every body paragraph (notes and headers are not parsed)."""
from __future__ import annotations

from typing import Sequence

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
        nlp = load_nlp(self.disable)
        texts = (story.text[s:e] for story in stories for s, e in story.paragraphs)
        docs = iter(nlp.pipe(texts, batch_size=BATCH_SIZE))
        for story in stories:
            story.docs = [next(docs) for _ in story.paragraphs]
