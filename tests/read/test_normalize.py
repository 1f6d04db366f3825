"""normalize(): what changes, what does not, and that the offset map always points at the source."""
from __future__ import annotations

from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from ficlens.model import OffsetMap
from ficlens.read.normalize import ONE_FOR_ONE, normalize


def test_plain_text_is_untouched_with_an_identity_map():
    text, offsets = normalize("Nothing to change here.\nReally.")
    assert text == "Nothing to change here.\nReally."
    assert offsets.to_source(5) == 5 and offsets.to_source(len(text)) == len(text)


def test_one_for_one_replacements_keep_offsets():
    source = "\u201cIt\u2019s\u00a0fine,\u201d she said\u2009\u2014 \u00abyes\u00bb\tand\u2028more"
    text, offsets = normalize(source)
    assert text == "\"It's fine,\" she said \u2014 \"yes\" and\nmore"
    assert len(text) == len(source)
    assert all(offsets.to_source(i) == i for i in range(len(text) + 1))


def test_line_ends_and_invisible_characters_change_length_and_map_back():
    source = "\ufeffOne\r\ntwo\rthree\u200b four\u00adth\x00\x07 end\r\n"
    text, offsets = normalize(source)
    assert text == "One\ntwo\nthree fourth end\n"
    assert source[offsets.to_source(text.index("two"))] == "t"
    assert source[offsets.to_source(3)] == "\r"  # the LF of a CRLF maps to its CR
    i = text.index("fourth")
    a, b = offsets.span_to_source(i, i + len("fourth"))
    # An end maps to the next kept character, so dropped characters just after a span ride along.
    assert source[a:b] == "four\u00adth\x00\x07"
    assert normalize(source[a:b])[0] == "fourth"
    assert offsets.to_source(len(text)) == len(source)


def test_compose_chains_two_maps():
    outer = OffsetMap(array("q", [0, 2, 3]))  # text -> mid
    inner = OffsetMap(array("q", [10, 11, 12, 14]))  # mid -> source
    both = outer.compose(inner)
    assert [both.to_source(i) for i in range(3)] == [10, 12, 14]
    assert OffsetMap.identity().compose(inner).to_source(1) == 11
    assert outer.compose(OffsetMap.identity()).to_source(1) == 2


# Text made of the characters normalize() cares about, mixed with ordinary ones.
_ALPHABET = st.sampled_from(list("ab \n\r\t\u201c\u201d\u2019\u00a0\ufeff\u200b\u00ad\x00\x1f\u2028.") + ["\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_every_character_maps_to_the_character_it_came_from(source):
    text, offsets = normalize(source)
    assert "\r" not in text and "\ufeff" not in text and "\x00" not in text
    previous = -1
    for i, ch in enumerate(text):
        s = offsets.to_source(i)
        assert s > previous  # strictly increasing: spans never cross
        previous = s
        original = source[s]
        assert original.translate(ONE_FOR_ONE) == ch or (original == "\r" and ch == "\n")
    assert offsets.to_source(len(text)) == len(source)
