"""Plain-text reader: every common encoding and line ending gives the same text, and spans map back."""
from __future__ import annotations

import codecs
import re

import pytest

from ficlens.read import read_bytes, read_path
from ficlens.read.normalize import normalize

# Written for these tests: curly quotes, an apostrophe, accents, a dash and an ellipsis.
STORY = ("The Ferry at Dusk\n\n"
         "\u201cYou\u2019re late,\u201d said Ren\u00e9e, not looking up from the rope.\n\n"
         "Jo\u00eblle shrugged. \u201cThe caf\u00e9 was full\u2026 and the na\u00efve tourists wanted directions.\u201d\n\n"
         "They cast off together \u2014 no more words were needed.\n")
EXPECTED = ("The Ferry at Dusk\n\n"
            "\"You're late,\" said Ren\u00e9e, not looking up from the rope.\n\n"
            "Jo\u00eblle shrugged. \"The caf\u00e9 was full\u2026 and the na\u00efve tourists wanted directions.\"\n\n"
            "They cast off together \u2014 no more words were needed.\n")
# Latin-1 has no curly quotes, dashes or ellipsis.
LATIN = "\u00c0 la gare, Ren\u00e9e attendait. \u00abD\u00e9j\u00e0?\u00bb dit-elle. Na\u00efve, s\u00fbrement.\n"


def check_spans(story) -> int:
    """Words, quotes and paragraphs: the mapped source slice normalizes to the same text."""
    spans = [m.span() for pattern in (r"\w+", r"\"[^\"\n]*\"", r"[^\n]+")
             for m in re.finditer(pattern, story.text)]
    for start, end in spans:
        a, b = story.offsets.span_to_source(start, end)
        assert normalize(story.source_text[a:b])[0] == story.text[start:end]
    return len(spans)


@pytest.mark.parametrize("encoding,raw", [
    ("utf-8", STORY.encode("utf-8")),
    ("utf-8-sig", codecs.BOM_UTF8 + STORY.encode("utf-8")),
    ("utf-16", codecs.BOM_UTF16_LE + STORY.encode("utf-16-le")),
    ("utf-16", codecs.BOM_UTF16_BE + STORY.encode("utf-16-be")),
    ("cp1252", STORY.encode("cp1252")),
])
def test_encodings_give_the_same_text(encoding, raw):
    story = read_bytes(raw, "ferry.txt")
    assert story.source.encoding == encoding
    assert story.source_text == STORY  # the BOM is not part of the text
    assert story.text == EXPECTED
    assert check_spans(story) > 40


def test_latin1():
    story = read_bytes(LATIN.encode("latin-1"), "gare.txt")
    assert story.source_text == LATIN
    assert story.text == LATIN.replace("\u00ab", '"').replace("\u00bb", '"')
    check_spans(story)


def test_utf16_without_bom():
    story = read_bytes(STORY.encode("utf-16-le"), "ferry.txt")
    assert story.text == EXPECTED


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends(newline):
    source = STORY.replace("\n", newline)
    story = read_bytes(source.encode("utf-8"), "ferry.txt")
    assert story.source_text == source
    assert story.text == EXPECTED
    assert check_spans(story) > 40
    # A paragraph's end maps to the start of its line end, the next paragraph past all of it.
    i = story.text.index("Jo\u00eblle")
    assert story.source_text[story.offsets.to_source(i):].startswith("Jo\u00eblle")
    assert story.source_text[story.offsets.to_source(i - 1)] == "\r"
    assert story.offsets.to_source(len(story.text)) == len(source)


def test_seed_story_reads_identically_in_other_encodings(seed_path, tmp_path):
    path = seed_path(1)
    story = read_path(path)
    assert story.source.format == "txt" and story.text
    assert check_spans(story) > 100
    for encoding in ("utf-16", "utf-8-sig"):
        other = tmp_path / f"seed.{encoding}.txt"
        other.write_bytes(story.source_text.encode(encoding))
        assert read_path(other).text == story.text
