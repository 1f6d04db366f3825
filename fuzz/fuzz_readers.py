"""Fuzz the readers: `read_bytes` over txt, html and epub with atheris (libFuzzer for Python).

Each input's first byte picks the format (guessed from the content, or forced txt/html/epub); the
rest is the file. An InputError is the right answer to bad bytes; anything else escaping is a crash,
and so is a story whose offsets break the invariants of tests/test_properties.py.

    .venv/bin/python fuzz/fuzz_readers.py fuzz/corpus/readers -max_total_time=60 -timeout=10

See fuzz/README.md.
"""
from __future__ import annotations

import sys

import atheris

from _seeds import fill_corpus_dirs, invariants, known_open

with atheris.instrument_imports(include=["ficlens"]):
    # read_bytes imports the html and epub readers lazily: import them here so they are instrumented.
    import ficlens.read.epub  # noqa: F401
    import ficlens.read.html  # noqa: F401
    from ficlens.errors import InputError
    from ficlens.read import read_bytes

FORMATS = (None, "txt", "html", "epub")
NAMES = ("story.txt", "story.html", "story.epub", "story")
check_offsets, check_characters_round_trip, _, _ = invariants()


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    fmt = FORMATS[data[0] & 3]
    name = NAMES[(data[0] >> 2) & 3]
    try:
        story = read_bytes(data[1:], name, fmt=fmt)
    except InputError:
        return
    except Exception as e:
        if known_open(e):
            return
        raise
    check_offsets(story, strict=story.source.format == "txt")
    if story.source.format == "txt":
        check_characters_round_trip(story)


def main() -> None:
    fill_corpus_dirs(sys.argv, "readers")
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
