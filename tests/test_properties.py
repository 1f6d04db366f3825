"""Property tests (hypothesis) over the readers, the structure stage and the quote stage.

What must hold for any input, not just the stories we thought of:
- readers: arbitrary bytes either read or raise InputError (nothing else); every offset of the
  story text maps inside the source text, in order; each character of the text maps back to the
  source characters it was normalized from;
- structure: sections in order, non-overlapping, inside the text, nothing but whitespace outside
  them; paragraphs are exactly the body sections;
- quotes: inside body paragraphs, in order, non-overlapping, opening with a quote mark (or at the
  start of a run-on paragraph), ids 0..n-1, utterance ids 0..m-1 without gaps, in text order.
"""
from __future__ import annotations

import io
import os
import zipfile

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ficlens.errors import InputError
from ficlens.model import Source, Story
from ficlens.read import read_bytes, story_from_text
from ficlens.read.normalize import normalize
from ficlens.stages.quotes import QuoteStage
from ficlens.stages.structure import StructureStage

# FICLENS_PROPERTY_EXAMPLES=5000 runs a long search (the defaults keep this file under ~20 s).
EXAMPLES = int(os.environ.get("FICLENS_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=max(1, EXAMPLES * 2 // 5), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------------------
WORDS = ["Ines", "Tomas", "said", "the", "harbour", "lamp", "went", "quiet", "she", "he", "don't",
         "O'Brien", "dogs'", "'em", "caf\u00e9", "na\u00efve", "Mr.", "no", "yes", "why", "\u6545\u4e8b"]
MARKS = ['"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "\u201e", "\u00ab", "\u00bb", "``", "''"]
PUNCT = [".", ",", "!", "?", "...", "\u2026", " \u2014 ", "-", ";", ":", "(", ")", "*", "_", "~"]
SPACES = [" ", " ", " ", "  ", "\t", "\u00a0", "\u2009", "\u3000"]
INVISIBLE = ["\ufeff", "\u200b", "\u200d", "\u00ad", "\u2060"]
BREAKS = ["\n", "\n", "\n\n", "\n\n", "\r\n", "\r\n\r\n", "\r", "\n\n\n\n", "\u2028", "\f", "\v"]
LINES = ["* * *", "***", "~*~", "xXx", "-o-o-o-", "Chapter 3", "Chapter Two: The Fall", "Prologue",
         "12.", "Rating: T", "Title: Salt", "Pairing: Ines/Tomas", "A/N: thanks for reading!",
         "AN:", "Disclaimer: I don't own them.", "Summary:", "Ines's POV", "POV: Tomas",
         "Please review!", "By someone", "Line break", "I don't own the show.", "xxx", "..."]

piece = st.one_of(
    st.sampled_from(WORDS), st.sampled_from(MARKS), st.sampled_from(PUNCT), st.sampled_from(SPACES),
    st.sampled_from(INVISIBLE), st.sampled_from(BREAKS),
    st.sampled_from(LINES).map(lambda line: f"\n\n{line}\n\n"),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=4),
)
story_text = st.lists(piece, max_size=80).map("".join)
dialogue = st.lists(st.sampled_from(WORDS + MARKS + PUNCT + SPACES + BREAKS + ['"', '"', "'", "\n\n"]),
                    max_size=120).map(" ".join)
# Any characters but NUL (a NUL makes bytes binary data, refused) and lone surrogates (not text).
any_text = st.one_of(story_text, dialogue,
                     st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200))

HTML_PIECES = ["<p>", "</p>", "<br>", "<br/>", "<div class=\"userstuff\">", "</div>", "<b>", "</b>", "<i>",
               "</i>", "<hr>", "<h1>", "</h1>", "<h2 class=\"heading\">", "</h2>", "<script>x = \"<p>\";",
               "</script>", "<style>p{}</style>", "<!-- a comment -->", "<!--", "-->", "&amp;", "&lt;",
               "&#8220;", "&#x201D;", "&nbsp;", "&rsquo;", "&bogus;", "&#99999999999;", "&", "<", ">",
               "<p onclick=\"steal()\">", "<img src=x onerror=alert(1)>", "<![CDATA[x]]>", "<!DOCTYPE html>",
               "<title>", "</title>", "<pre>", "</pre>", "<td>", "<tr>", "<table>", "</table>", "<?xml?>",
               "<div id=\"chapters\">", "<div id=\"preface\">", "<dl class=\"tags\">", "<dt>", "<dd>",
               "<p>&#160;</p>", "<a href='", "'>", "</a>", "<noscript>", "</noscript>", "<textarea>", "</"]
html_text = st.lists(st.one_of(st.sampled_from(HTML_PIECES), piece), max_size=80).map("".join)

# -- checks -------------------------------------------------------------------------------------------


def check_offsets(story: Story, *, strict: bool) -> None:
    """Every offset of the text (and its end) maps inside the source, in order; `strict` (plain text:
    one source character or CRLF per text character) also asks for increasing offsets that end at
    the source's end."""
    n, m = len(story.text), len(story.source_text)
    previous = -1
    for i in range(n + 1):
        s = story.offsets.to_source(i)
        assert 0 <= s <= m, (i, s, m)
        assert s > previous if strict else s >= previous, (i, s, previous)
        previous = s
    if strict:
        assert story.offsets.to_source(n) == m


def check_characters_round_trip(story: Story) -> None:
    """Each character of the text is what its source characters (up to the next mapped one) normalize to."""
    to_src = story.offsets.to_source
    for i, ch in enumerate(story.text):
        assert normalize(story.source_text[to_src(i):to_src(i + 1)])[0] == ch, (i, ch)


def check_sections(story: Story) -> None:
    text = story.text
    previous_end = 0
    covered = []
    for s in story.sections:
        assert 0 <= s.start <= s.end <= len(text), s
        assert s.start >= previous_end, ("overlap or out of order", s)
        previous_end = s.end
        if s.kind != "scene_break":  # a blank-line scene break is the whitespace between two blocks
            assert s.start < s.end and text[s.start:s.end] == text[s.start:s.end].strip(), s
        covered.append((s.start, s.end))
    assert story.paragraphs == [(s.start, s.end) for s in story.sections if s.kind == "body"]
    # Nothing is lost: outside the sections there is only whitespace.
    pos = 0
    for start, end in covered + [(len(text), len(text))]:
        assert not text[pos:start].strip(), ("text outside every section", text[pos:start])
        pos = end


def check_quotes(story: Story) -> None:
    text = story.text
    paragraphs = story.paragraphs
    assert [q.id for q in story.quotes] == list(range(len(story.quotes)))
    previous_end = 0
    previous_utterance = -1
    for q in story.quotes:
        assert q.start < q.end, q
        assert q.start >= previous_end, ("overlap or out of order", q)
        previous_end = q.end
        inside = [(s, e) for s, e in paragraphs if s <= q.start and q.end <= e]
        assert len(inside) == 1, ("not inside one body paragraph", q)
        assert text[q.start] in "\"'" or q.start == inside[0][0], q
        if q.closed and text[q.start] in "\"'" and q.end - q.start > 1:
            assert text[q.end - 1] in "\"'", q
        assert q.utterance in (previous_utterance, previous_utterance + 1), q
        previous_utterance = q.utterance


def read_text(text: str) -> Story:
    return story_from_text(text, Source(path="<test>", format="txt", encoding="utf-8"))


# -- readers ------------------------------------------------------------------------------------------
@SETTINGS
@given(raw=st.binary(max_size=3000), fmt=st.sampled_from([None, "txt", "html", "epub"]),
       name=st.sampled_from(["s.txt", "s.html", "s.epub", "s", "s.md"]))
def test_read_bytes_raises_only_input_errors(raw, fmt, name):
    try:
        story = read_bytes(raw, name, fmt=fmt)
    except InputError:
        return
    check_offsets(story, strict=story.source.format == "txt")
    if story.source.format == "txt":
        check_characters_round_trip(story)


@SETTINGS
@given(text=any_text, line_end=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_plain_text_offsets_round_trip(text, line_end, encoding):
    text = text.replace("\n", line_end)
    raw = text.encode(encoding, errors="surrogatepass")
    try:
        story = read_bytes(raw, "s.txt", fmt="txt")
    except InputError:
        # Only text that looks like binary data (control characters) is refused.
        assume(False)
    # The decoded source is the text itself (a leading BOM belongs to the encoding, not the text).
    assert story.source_text in (text, text.removeprefix("\ufeff"))
    check_offsets(story, strict=True)
    check_characters_round_trip(story)
    assert story.text == normalize(story.source_text)[0]
    # Any span of the text maps back to a source slice that normalizes to the span.
    to_src = story.offsets.to_source
    n = len(story.text)
    for a, b in ((0, n), (n // 3, 2 * n // 3), (n // 2, n)):
        assert normalize(story.source_text[to_src(a):to_src(b)])[0] == story.text[a:b]


@SETTINGS
@given(text=any_text)
def test_normalize_is_idempotent_and_drops_only_what_it_says(text):
    out, offsets = normalize(text)
    assert normalize(out)[0] == out
    assert "\r" not in out and "\ufeff" not in out and "\u200b" not in out
    assert not set(out) & set("\u201c\u201d\u2018\u2019\u00a0")
    assert len(out) <= len(text)


@SETTINGS
@given(html=html_text)
def test_html_offsets_point_at_their_source(html):
    story = read_bytes(html.encode("utf-8"), "s.html", fmt="html")
    check_offsets(story, strict=False)
    src = story.source_text
    to_src = story.offsets.to_source
    for i, ch in enumerate(story.text):
        j = to_src(i)
        # A text character maps to itself, a reference's text to its "&", a break made for a tag to
        # its "<", and collapsed whitespace to the whitespace it came from.
        source_char = normalize(src[j])[0] if src[j] not in "<&" else src[j]
        assert source_char == ch or source_char in "<&" or (ch.isspace() and src[j].isspace()), (i, ch, src[j:j + 10])


def small_epub(chapters: list[str]) -> bytes:
    buf = io.BytesIO()
    items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
                    for i in range(len(chapters)))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml",
                    '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                    '<rootfile full-path="content.opf"/></rootfiles></container>')
        zf.writestr("content.opf", '<package xmlns="http://www.idpf.org/2007/opf"><metadata/>'
                                   f"<manifest>{items}</manifest><spine>{refs}</spine></package>")
        for i, body in enumerate(chapters):
            zf.writestr(f"c{i}.xhtml", f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>')
    return buf.getvalue()


BASE_EPUB = small_epub(["<p>\u201cStay,\u201d Ines said.</p>", "<p>The lamp went out.</p>"])


@FEW
@given(flips=st.lists(st.tuples(st.integers(0, len(BASE_EPUB) - 1), st.integers(1, 255)), max_size=8),
       cut=st.integers(0, len(BASE_EPUB)))
def test_damaged_epubs_raise_only_input_errors(flips, cut):
    raw = bytearray(BASE_EPUB[:cut] if cut > 40 else BASE_EPUB)
    for pos, xor in flips:
        if pos < len(raw):
            raw[pos] ^= xor
    try:
        story = read_bytes(bytes(raw), "s.epub")
    except InputError:
        return
    check_offsets(story, strict=False)


@FEW
@given(chapters=st.lists(html_text, min_size=1, max_size=3))
def test_epub_chapters_of_any_markup(chapters):
    try:
        story = read_bytes(small_epub(chapters), "s.epub")
    except InputError:
        return
    check_offsets(story, strict=False)
    assert story.text == normalize(story.source_text)[0]


# -- structure and quotes -----------------------------------------------------------------------------
@SETTINGS
@given(text=any_text)
def test_structure_sections(text):
    story = read_text(text)
    StructureStage()(story)
    check_sections(story)


@SETTINGS
@given(html=html_text)
def test_structure_sections_of_html(html):
    story = read_bytes(html.encode("utf-8"), "s.html", fmt="html")
    StructureStage()(story)
    check_sections(story)


@SETTINGS
@given(text=st.one_of(dialogue, story_text), style=st.sampled_from(["auto", "double", "single"]))
def test_quotes(text, style):
    story = read_text(text)
    StructureStage()(story)
    QuoteStage(style=style)(story)
    check_quotes(story)


@SETTINGS
@given(raw=st.binary(max_size=2000), fmt=st.sampled_from(["txt", "html"]))
def test_arbitrary_bytes_through_structure_and_quotes(raw, fmt):
    try:
        story = read_bytes(raw, "s." + fmt, fmt=fmt)
    except InputError:
        return
    StructureStage()(story)
    QuoteStage()(story)
    check_sections(story)
    check_quotes(story)


def test_the_checks_can_fail():
    """The checks above are not vacuous: a story with a hand-broken layer fails them."""
    story = read_text('"Stay," she said.\n\nHe went.\n')
    StructureStage()(story)
    QuoteStage()(story)
    check_sections(story)
    check_quotes(story)
    story.quotes[0].start += 1  # no longer at a quote mark
    try:
        check_quotes(story)
    except AssertionError:
        pass
    else:
        raise AssertionError("check_quotes accepted a quote that does not start at a mark")
    story.paragraphs = story.paragraphs[:1]
    try:
        check_sections(story)
    except AssertionError:
        pass
    else:
        raise AssertionError("check_sections accepted paragraphs that are not the body sections")
