"""Fuzz the structure and quote stages on decoded text with atheris (libFuzzer for Python).

Each input becomes a flag byte (the quote style; whether the text came from HTML, which changes how
blank lines are read) and a Unicode text; the text is normalized as a reader would, then cut into
sections and searched for quotes. Any exception is a crash, and so is a result that breaks the
invariants of tests/test_properties.py (sections in order and inside the text, paragraphs == body
sections, quotes inside body paragraphs, in order, ids and utterances in sequence).

    .venv/bin/python fuzz/fuzz_stages.py fuzz/corpus/stages -max_total_time=60 -timeout=10

See fuzz/README.md.
"""
from __future__ import annotations

import sys

import atheris

from _seeds import fill_corpus_dirs, invariants, known_open

with atheris.instrument_imports(include=["ficlens"]):
    from ficlens.model import Source
    from ficlens.read import story_from_text
    from ficlens.stages.quotes import QuoteStage
    from ficlens.stages.structure import StructureStage

STRUCTURE = StructureStage()
QUOTES = {style: QuoteStage(style=style) for style in ("auto", "double", "single")}
_, _, check_sections, check_quotes = invariants()


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags = fdp.ConsumeInt(1)
    style = ("auto", "double", "single", "auto")[flags & 3]
    fmt = "html" if flags & 4 else "txt"
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    story = story_from_text(text, Source(path="<fuzz>", format=fmt, encoding="utf-8"))
    try:
        STRUCTURE(story)
        check_sections(story)
        QUOTES[style](story)
        check_quotes(story)
    except Exception as e:
        if known_open(e):
            return
        raise


def main() -> None:
    fill_corpus_dirs(sys.argv, "stages")
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
