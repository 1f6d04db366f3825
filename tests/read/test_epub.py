"""EPUB reader: AO3 and FanFicFare layouts built here with zipfile, and every way an EPUB can be bad."""
from __future__ import annotations

import io
import time
import zipfile

import pytest

from ficlens.errors import InputError, LimitError
from ficlens.limits import Limits
from ficlens.read import read_bytes, read_path
from ficlens.read.epub import _Archive
from ficlens.read.normalize import normalize

XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title>
<link rel="stylesheet" type="text/css" href="style.css"/></head>
<body>{body}</body></html>"""

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="{opf}" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

OPF = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    {metadata}
  </metadata>
  <manifest>
    {manifest}
    <item id="css" href="style.css" media-type="text/css"/>
  </manifest>
  <spine toc="ncx">
    {spine}
  </spine>
</package>"""

AO3_PREFACE = """<div id="preface">
<h2 class="toc-heading">Preface</h2>
<p class="message"><b>Salt and Signal</b><br/>Posted originally on the <a href="https://archiveofourown.org/">Archive of Our Own</a>.</p>
<div class="meta"><dl class="tags">
<dt>Rating:</dt><dd><a href="t/1">General Audiences</a></dd>
<dt>Archive Warning:</dt><dd><a href="t/2">No Archive Warnings Apply</a></dd>
<dt>Category:</dt><dd><a href="t/3">Gen</a></dd>
<dt>Fandom:</dt><dd><a href="t/4">Harbour Lights (TV)</a></dd>
<dt>Characters:</dt><dd><a href="t/5">Mara Quill</a>, <a href="t/6">Old Finch</a></dd>
<dt>Additional Tags:</dt><dd><a href="t/7">Found Family</a>, <a href="t/8">Radio</a></dd>
<dt>Language:</dt><dd>English</dd>
<dt>Stats:</dt><dd>Published: 2024-05-01 Words: 120 Chapters: 2/2</dd>
</dl>
<h1>Salt and Signal</h1>
<div class="byline">by <a rel="author" href="u/1">saltwater_quill</a></div>
<p>Summary</p>
<blockquote class="userstuff"><p>The radio says one thing. The sea says another.</p></blockquote>
<p>Notes</p>
<blockquote class="userstuff"><p>A short one, for the winter exchange.</p></blockquote>
</div></div>"""

AO3_CH1 = """<div id="chapters" class="userstuff"><div class="meta group"><h2 class="heading">Chapter 1: Static</h2></div>
<div class="userstuff"><p>The radio in the lamp room crackled at midnight.</p>
<p>\u201cAnyone there?\u201d Mara asked the static.</p></div></div>"""

AO3_CH2 = """<div class="meta group"><h2 class="heading">Chapter 2: Answer</h2>
<p>Chapter Notes</p><blockquote class="userstuff"><p>Nearly done.</p></blockquote></div>
<div class="userstuff"><p>Old Finch answered from the harbour: \u201cOnly me.\u201d</p>
<p>&#160;</p><p>&#160;</p><p>She laughed &amp; switched it off.</p></div>"""

AO3_AFTERWORD = """<div id="afterword"><h2 class="toc-heading">Afterword</h2>
<div class="meta"><div id="endnotes"><p>End Notes</p>
<blockquote class="userstuff"><p>Thanks to my beta.</p></blockquote></div></div>
<p class="message">Please drop by the Archive and comment.</p></div>"""


def make_epub(docs: list[tuple[str, str]], *, metadata: str = "", opf_path: str = "OEBPS/content.opf",
              container: str | None = None, opf: str | None = None, extra: dict[str, bytes] | None = None,
              skip_docs: bool = False) -> bytes:
    """Build an EPUB: docs are (file name, xhtml) pairs in spine order, stored next to the OPF."""
    base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
    manifest = "\n".join(f'<item id="{name.split(".")[0]}" href="{name}" media-type="application/xhtml+xml"/>'
                         for name, _ in docs)
    spine = "\n".join(f'<itemref idref="{name.split(".")[0]}"/>' for name, _ in docs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        zf.writestr("META-INF/container.xml", container if container is not None else CONTAINER.format(opf=opf_path))
        if opf is None:
            opf = OPF.format(metadata=metadata, manifest=manifest, spine=spine)
        if opf:
            zf.writestr(opf_path, opf)
        zf.writestr(base + "style.css", "p { margin: 0 }")
        if not skip_docs:
            for name, xhtml in docs:
                zf.writestr(base + name, xhtml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


AO3_METADATA = """<dc:title>Salt and Signal</dc:title><dc:creator opf:role="aut">saltwater_quill</dc:creator>
<dc:subject>General Audiences</dc:subject><dc:subject>Harbour Lights (TV)</dc:subject>
<dc:description>&lt;p&gt;The radio says one thing. The sea says another.&lt;/p&gt;</dc:description>
<dc:language>en</dc:language><dc:publisher>Archive of Our Own</dc:publisher>"""


def ao3_epub() -> bytes:
    docs = [(f"split_{i:03d}.xhtml", XHTML.format(title="Salt and Signal", body=body))
            for i, body in enumerate([AO3_PREFACE, AO3_CH1, AO3_CH2, AO3_AFTERWORD])]
    return make_epub(docs, metadata=AO3_METADATA)


def test_ao3_epub_meta_and_text():
    story = read_bytes(ao3_epub(), "salt.epub")
    meta = story.meta
    assert story.source.format == "epub"
    assert meta["title"] == "Salt and Signal"
    assert meta["author"] == "saltwater_quill"
    assert meta["rating"] == "General Audiences"
    assert meta["warnings"] == ["No Archive Warnings Apply"]
    assert meta["categories"] == ["Gen"]
    assert meta["fandoms"] == ["Harbour Lights (TV)"]
    assert meta["characters"] == ["Mara Quill", "Old Finch"]
    assert meta["freeform"] == ["Found Family", "Radio"]
    assert meta["language"] == "English"  # the preface's declaration wins over dc:language "en"
    assert meta["summary"] == "The radio says one thing. The sea says another."
    assert meta["notes"] == ["A short one, for the winter exchange.", "Thanks to my beta."]
    assert meta["subjects"] == ["General Audiences", "Harbour Lights (TV)"]
    assert meta["publisher"] == "Archive of Our Own"
    assert meta["chapter_notes"] == [{"label": "Chapter Notes", "text": "Nearly done.", "chapter": "Chapter 2: Answer"}]
    assert story.text == (
        "Chapter 1: Static\n\nThe radio in the lamp room crackled at midnight.\n\n"
        "\"Anyone there?\" Mara asked the static.\n\n"
        "Chapter 2: Answer\n\nOld Finch answered from the harbour: \"Only me.\"\n\n"
        "* * *\n\nShe laughed & switched it off.")


def test_epub_source_text_is_the_extracted_text_and_offsets_map_into_it():
    story = read_bytes(ao3_epub(), "salt.epub")
    assert "<" not in story.source_text and "\u201cAnyone there?\u201d" in story.source_text
    assert normalize(story.source_text)[0] == story.text
    i = story.text.index('"Only me."')
    a, b = story.offsets.span_to_source(i, i + len('"Only me."'))
    assert story.source_text[a:b] == "\u201cOnly me.\u201d"


def test_fanficfare_style_epub(tmp_path):
    title_page = XHTML.format(title="Lanterns", body="<h3>Lanterns by petal-ink</h3><div><b>Rating:</b> T<br/>"
                                                     "<b>Words:</b> 90</div>")
    toc_page = XHTML.format(title="Contents", body="<p><a href='file0001.xhtml'>One</a></p>")
    ch1 = XHTML.format(title="One", body="<h3>Chapter 1: One</h3><p>The lanterns went up at dusk.</p>")
    ch2 = XHTML.format(title="Two", body="<h3>Chapter 2: Two</h3><p>By morning only one was left.</p>")
    metadata = ("<dc:title>Lanterns</dc:title><dc:creator>petal-ink</dc:creator>"
                "<dc:subject>Romance</dc:subject><dc:subject>Complete</dc:subject>"
                "<dc:description>Paper, fire, and one stubborn lantern.</dc:description>"
                "<dc:source>https://www.fanfiction.net/s/777/1/</dc:source>")
    raw = make_epub([("title_page.xhtml", title_page), ("toc_page.xhtml", toc_page),
                     ("file0001.xhtml", ch1), ("file0002.xhtml", ch2)], metadata=metadata)
    path = tmp_path / "lanterns.epub"
    path.write_bytes(raw)
    story = read_path(path)
    assert story.meta["title"] == "Lanterns" and story.meta["author"] == "petal-ink"
    assert story.meta["subjects"] == ["Romance", "Complete"]
    assert story.meta["summary"] == "Paper, fire, and one stubborn lantern."
    assert story.meta["source"] == "https://www.fanfiction.net/s/777/1/"
    assert story.text == ("Chapter 1: One\n\nThe lanterns went up at dusk.\n\n"
                          "Chapter 2: Two\n\nBy morning only one was left.")


def test_epub3_nav_and_non_linear_items_are_skipped_and_hrefs_resolved():
    nav = XHTML.format(title="Nav", body="<nav epub:type='toc'><ol><li>Contents</li></ol></nav>")
    text = XHTML.format(title="T", body="<p>Only this.</p>")
    opf = OPF.format(
        metadata="<dc:title>Nav Test</dc:title>",
        manifest=('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
                  '<item id="cover" href="Text/cover%20page.xhtml" media-type="application/xhtml+xml"/>'
                  '<item id="c1" href="Text/ch%201.xhtml#start" media-type="application/xhtml+xml"/>'),
        spine='<itemref idref="nav"/><itemref idref="cover" linear="no"/><itemref idref="c1"/>')
    raw = make_epub([], opf=opf, extra={"OEBPS/nav.xhtml": nav.encode(), "OEBPS/Text/ch 1.xhtml": text.encode(),
                                        "OEBPS/Text/cover page.xhtml": XHTML.format(title="c", body="<p>Cover</p>").encode()})
    story = read_bytes(raw, "nav.epub")
    assert story.text == "Only this." and story.meta["title"] == "Nav Test"


def test_xhtml_in_a_declared_legacy_encoding():
    doc = ('<?xml version="1.0" encoding="windows-1252"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
           '<p>\u201cCaf\u00e9,\u201d she said.</p></body></html>').encode("cp1252")
    raw = make_epub([], opf=OPF.format(metadata="", manifest='<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>',
                                       spine='<itemref idref="c"/>'), extra={"OEBPS/c.xhtml": doc})
    assert read_bytes(raw, "enc.epub").text == '"Caf\u00e9," she said.'


# ------------------------------------------------------------------------------------------------
# Bad EPUBs
def assert_input_error(raw: bytes, name: str, *needles: str, limits: Limits | None = None, kind=InputError):
    with pytest.raises(kind) as err:
        read_bytes(raw, name, limits=limits or Limits())
    message = str(err.value)
    assert message.startswith(name + ":"), message
    for needle in needles:
        assert needle in message, message
    return message


def test_truncated_epub():
    raw = ao3_epub()
    assert_input_error(raw[: len(raw) // 2], "cut.epub", "not a valid EPUB", "zip")


def test_not_a_zip_with_epub_suffix():
    assert_input_error(b"This is plain text pretending to be a book.\n" * 20, "fake.epub", "not a valid EPUB")


def test_zip_that_is_not_an_epub_is_caught_even_with_a_txt_suffix():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert_input_error(buf.getvalue(), "archive.txt", "META-INF/container.xml is missing")


def test_missing_opf():
    raw = make_epub([("c.xhtml", XHTML.format(title="c", body="<p>x</p>"))], opf="")
    assert_input_error(raw, "noopf.epub", "OEBPS/content.opf", "missing")


def test_container_naming_no_package():
    raw = make_epub([("c.xhtml", XHTML.format(title="c", body="<p>x</p>"))],
                    container='<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"/>')
    assert_input_error(raw, "nopkg.epub", "names no package")


def test_spine_naming_a_missing_document():
    raw = make_epub([("c.xhtml", XHTML.format(title="c", body="<p>x</p>"))], skip_docs=True)
    assert_input_error(raw, "hole.epub", "OEBPS/c.xhtml", "missing")


def test_malformed_opf():
    raw = make_epub([], opf="<package><metadata><dc:title>unclosed")
    assert_input_error(raw, "bad.epub", "not well-formed XML")


def test_empty_spine():
    raw = make_epub([], opf=OPF.format(metadata="", manifest="", spine=""))
    assert_input_error(raw, "empty.epub", "no readable text documents")


def test_zip_bomb_is_refused_before_extraction():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/container.xml", CONTAINER.format(opf="content.opf"))
        zf.writestr("bomb.xhtml", b"\0" * 20_000_000)
    raw = buf.getvalue()
    assert len(raw) < 100_000
    t0 = time.perf_counter()
    assert_input_error(raw, "bomb.epub", "expands past the limit of 1,000,000 bytes", "zip bomb",
                       limits=Limits(max_expanded_bytes=1_000_000), kind=LimitError)
    assert time.perf_counter() - t0 < 1.0


def test_reads_are_bounded_even_when_declared_sizes_pass():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.xhtml", b"a" * 3_000_000)
    book = _Archive(buf.getvalue(), "b.epub", Limits(max_expanded_bytes=4_000_000))
    book.used = 2_000_000  # earlier members already used half the budget
    with pytest.raises(LimitError):
        book.read("big.xhtml")


def test_lying_declared_size_is_a_damaged_member():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/container.xml", b"<container>" + b" " * 5_000_000 + b"</container>")
    raw = bytearray(buf.getvalue())
    # Rewrite the uncompressed size (local header offset 22, central directory offset 24) to 100.
    raw[22:26] = (100).to_bytes(4, "little")
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    assert_input_error(bytes(raw), "liar.epub", "damaged")


def test_too_many_members():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(12):
            zf.writestr(f"f{i}.xhtml", "x")
    assert_input_error(buf.getvalue(), "many.epub", "12 files", "limit of 10",
                       limits=Limits(max_members=10), kind=LimitError)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def test_billion_laughs_in_the_opf():
    opf = BILLION_LAUGHS + OPF.format(metadata="<dc:title>&lol9;</dc:title>", manifest="", spine="")
    t0 = time.perf_counter()
    assert_input_error(make_epub([], opf=opf), "lol.epub", "entities", "billion-laughs")
    assert time.perf_counter() - t0 < 2.0


def test_external_entity_in_the_container():
    container = ('<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                 '<rootfile full-path="&x;"/></rootfiles></container>')
    assert_input_error(make_epub([], container=container), "xxe.epub", "META-INF/container.xml", "refused")


def test_billion_laughs_in_a_chapter_is_never_expanded():
    doc = BILLION_LAUGHS + '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Ha &lol9; ha.</p></body></html>'
    raw = make_epub([("c.xhtml", doc)])
    t0 = time.perf_counter()
    story = read_bytes(raw, "lolchapter.epub")
    assert story.text == "Ha &lol9; ha."
    # Without a <body>, the whole document is read: the DTD's internal subset is still no text.
    raw = make_epub([("c.xhtml", BILLION_LAUGHS + "<p>Ha &lol9; ha.</p>")])
    assert read_bytes(raw, "lolbare.epub").text == "Ha &lol9; ha."
    assert time.perf_counter() - t0 < 2.0


def test_ao3_preface_without_its_div_is_still_metadata():
    """An EPUB converter may split the preface out of div#preface: the tag list still marks it."""
    bare = AO3_PREFACE.replace('<div id="preface">', "<div>")
    docs = [(f"split_{i:03d}.xhtml", XHTML.format(title="Salt and Signal", body=body))
            for i, body in enumerate([bare, AO3_CH1, AO3_CH2])]
    story = read_bytes(make_epub(docs), "bare.epub")
    assert story.meta["title"] == "Salt and Signal" and story.meta["author"] == "saltwater_quill"
    assert story.meta["summary"] == "The radio says one thing. The sea says another."
    assert story.meta["freeform"] == ["Found Family", "Radio"]
    assert story.text.startswith("Chapter 1: Static\n\n")
    assert "Posted originally" not in story.text and "winter exchange" not in story.text
