from ficlens.model import Source, content_id
from ficlens.read import story_from_text


def test_offsets_map_back_through_crlf_and_dropped_characters():
    source = "\ufeffTitle\r\n\r\n\u201cHi,\u201d she said.\rNext line\u200b here."
    story = story_from_text(source, Source(path="x.txt", format="txt"))
    assert story.text == 'Title\n\n"Hi," she said.\nNext line here.'
    for needle in ("Title", '"Hi,"', "she said.", "Next line", "here."):
        start = story.text.index(needle)
        s, e = story.offsets.span_to_source(start, start + len(needle))
        # An end maps to the start of the next kept character, so dropped invisibles may trail.
        original = source[s:e].rstrip("\u200b\r\n")
        assert original.replace("\u201c", '"').replace("\u201d", '"') == needle


def test_identity_map_when_nothing_changes_length():
    story = story_from_text("plain \u2019text\u2019", Source(path="x.txt", format="txt"))
    assert story.text == "plain 'text'"
    assert story.offsets.span_to_source(6, 12) == (6, 12)


def test_content_id_is_stable_and_short():
    assert content_id("abc") == content_id("abc") != content_id("abd")
    assert len(content_id("abc")) == 16
