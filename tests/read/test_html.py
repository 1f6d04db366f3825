"""HTML reader: AO3 downloads, FanFiction.net pages, generic pages, hostile markup; offsets map back."""
from __future__ import annotations

import re
import time

import pytest

from ficlens.read import read_bytes
from ficlens.read.html import SCENE_BREAK, extract, read_html
from ficlens.read.normalize import normalize

# An AO3 "Download -> HTML" file in AO3's layout, with a story written for this test.
AO3_DOWNLOAD = """<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8"/>
<title>The Lighthouse Keeper&#39;s Ledger - saltwater_quill - Harbour Lights (TV) [Archive of Our Own]</title>
<style type="text/css">
p.message { text-align: center; }
dl.tags { border: 1px solid; padding: 1em; }
</style>
</head>
<body>
<div id="preface">
  <h2 class="toc-heading">Preface</h2>
  <p class="message">
    <b>The Lighthouse Keeper's Ledger</b><br/>
    Posted originally on the <a href="https://archiveofourown.org/">Archive of Our Own</a> at <a href="https://archiveofourown.org/works/1">https://archiveofourown.org/works/1</a>.
  </p>
  <div class="meta">
    <dl class="tags">
      <dt>Rating:</dt>
      <dd><a href="https://archiveofourown.org/tags/Teen%20And%20Up%20Audiences">Teen And Up Audiences</a></dd>
      <dt>Archive Warning:</dt>
      <dd><a href="https://archiveofourown.org/tags/No%20Archive%20Warnings%20Apply">No Archive Warnings Apply</a></dd>
      <dt>Category:</dt>
      <dd><a href="https://archiveofourown.org/tags/F*s*M">F/M</a></dd>
      <dt>Fandom:</dt>
      <dd><a href="https://archiveofourown.org/tags/Harbour%20Lights%20(TV)">Harbour Lights (TV)</a></dd>
      <dt>Relationship:</dt>
      <dd><a href="https://archiveofourown.org/tags/Mara%20Quill*s*Tobias%20Venn">Mara Quill/Tobias Venn</a></dd>
      <dt>Characters:</dt>
      <dd><a href="https://archiveofourown.org/tags/Mara%20Quill">Mara Quill</a>, <a href="https://archiveofourown.org/tags/Tobias%20Venn">Tobias Venn</a>, <a href="https://archiveofourown.org/tags/Old%20Finch">Old Finch</a></dd>
      <dt>Additional Tags:</dt>
      <dd><a href="https://archiveofourown.org/tags/Slow%20Burn">Slow Burn</a>, <a href="https://archiveofourown.org/tags/Hurt*s*Comfort">Hurt/Comfort</a>, <a href="https://archiveofourown.org/tags/Storms">Storms &amp; Shipwrecks</a></dd>
      <dt>Language:</dt>
      <dd>English</dd>
      <dt>Stats:</dt>
      <dd>
        Published: 2024-02-11
          Completed: 2024-03-02
        Words: 312
        Chapters: 2/2
      </dd>
    </dl>
    <h1>The Lighthouse Keeper's Ledger</h1>
    <div class="byline">by <a rel="author" href="https://archiveofourown.org/users/saltwater_quill/pseuds/saltwater_quill">saltwater_quill</a></div>
    <p>Summary</p>
    <blockquote class="userstuff"><p>Mara keeps the light. Tobias keeps the books. The sea keeps everything else.</p></blockquote>
    <p>Notes</p>
    <blockquote class="userstuff"><p>Written for a prompt about ledgers and weather.</p></blockquote>
    <div class="endnote-link">See the end of the work for more <a href="#endnotes">notes</a></div>
  </div>
</div>
<div id="chapters" class="userstuff">
  <div class="meta group">
    <h2 class="heading">Chapter 1: Low Tide</h2>
    <p>Chapter Summary</p>
    <blockquote class="userstuff"><p>The ledger arrives.</p></blockquote>
  </div>
  <!--chapter content-->
  <div class="userstuff">
    <p>The ledger came in on the Tuesday boat, wrapped in oilcloth and string.</p>
    <p>\u201cYou\u2019ll sign for it,\u201d said Tobias, holding out a pencil stub. \u201cEvery page.\u201d</p>
    <p>Mara looked at the columns&#8212;tides, lamps, oil, wicks&nbsp;&amp; weather&#x2014;and laughed.</p>
  </div>
  <!--/chapter content-->
  <div class="meta group">
    <h2 class="heading">Chapter 2: High Water</h2>
    <p>Chapter Notes</p>
    <blockquote class="userstuff"><p>Storm warning for this one.</p></blockquote>
  </div>
  <div class="userstuff">
    <p>By nightfall the water had reached the third step.</p>
    <hr />
    <p>Old Finch came up the stairs at dawn, wet to the knees. \u201cStill burning?\u201d he asked.</p>
    <p>\u201cStill burning,\u201d Mara said.</p>
  </div>
  <div class="meta" id="endnotes2">
    <p>Chapter End Notes</p>
    <blockquote class="userstuff"><p>Thank you for reading this far.</p></blockquote>
  </div>
</div>
<div id="afterword">
  <h2 class="toc-heading">Afterword</h2>
  <div class="meta">
    <div id="endnotes">
      <p>End Notes</p>
      <blockquote class="userstuff"><p>The lighthouse is real; the ledger is not.</p></blockquote>
    </div>
  </div>
  <p class="message">Please <a href="https://archiveofourown.org/works/1/comments/new">drop by the Archive and comment</a> to let the creator know if you enjoyed their work!</p>
</div>
</body>
</html>
"""

FFN_PAGE = """<!DOCTYPE html><html><head><title>The Quiet Orchard Chapter 1: Windfall, a gardening fanfic | FanFiction</title>
<script>var storyid = 1; function alert_readers(){ alert('chapter'); }</script></head>
<body>
<div id=top><div class='menulink'>Just In</div></div>
<div id=pre_story_links><span class=lc-left><a class=xcontrast_txt href='/misc/'>Misc</a>
<span class='xcontrast_txt icon-chevron-right xicon-section-arrow'></span>
<a class=xcontrast_txt href="/misc/Orchard-Tales/">Orchard Tales</a></span></div>
<div id=profile_top style='min-height:112px;'>
<button class='btn pull-right' type=button onclick='follow()'>Follow/Fav</button>
<b class='xcontrast_txt'>The Quiet Orchard</b>
<span class='xcontrast_txt'><div style='height:5px'></div>By:</span> <a class='xcontrast_txt' href='/u/42/petal-ink'>petal-ink</a>
<div style='margin-top:2px' class='xcontrast_txt'>Two neighbours, one pear tree, and a fence that keeps moving.</div>
<span class='xgray xcontrast_txt'>Rated: <a class='xcontrast_txt' href='https://www.fictionratings.com/' target='rating'>Fiction  T</a> - English - Romance/Humor - [Ada W., Ben O.] Cal R. - Chapters: 3 - Words: 4,210 - Reviews: 12 - Favs: 30 - Follows: 41 - Updated: 6/2/2011 - Published: 5/1/2011 - id: 777</span>
</div>
<select id=chap_select><option value=1 selected>1. Windfall<option value=2>2. Graft</select>
<div role='main' aria-label='story content' style='font-size:1.1em;'>
<div class='storytextp' id='storytextp'><div class='storytext xcontrast_txt nocopy' id='storytext'>
<p>Ada found the first pear on her side of the fence and decided it was hers.</p>
<p>\u201cThat one\u2019s mine,\u201d Ben called over the palings.</p>
<p><strong>Disputed.</strong> She took a bite anyway.</p>
</div></div></div>
<div id=review><a href='/r/777/'>Reviews</a></div>
</body></html>
"""


def check_offsets(story) -> None:
    """Every character maps into the HTML: to itself, or to the `&` of its reference, or to the
    `<` of the tag that made a break."""
    src = story.source_text
    for i, ch in enumerate(story.text):
        s = story.offsets.to_source(i)
        c = src[s]
        if c == "&":
            continue
        if c == "<":
            assert ch in "\n *", (i, ch, src[s:s + 20])
            continue
        assert normalize(c)[0] == ch or (ch == " " and c.isspace()), (i, ch, src[s:s + 20])


def check_words(story) -> int:
    """Every word of the text is found verbatim (after normalization) at its mapped source span."""
    checked = 0
    for m in re.finditer(r"\w+", story.text):
        a, b = story.offsets.span_to_source(m.start(), m.end())
        raw = story.source_text[a:b]
        if "&" in raw or "<" in raw:
            continue
        assert normalize(raw)[0] == m.group(), (m.group(), raw)
        checked += 1
    return checked


def ao3_story():
    return read_bytes(AO3_DOWNLOAD.encode("utf-8"), "ledger.html")


def test_ao3_meta_is_read_as_declared():
    meta = ao3_story().meta
    assert meta["title"] == "The Lighthouse Keeper's Ledger"
    assert meta["author"] == "saltwater_quill"
    assert meta["rating"] == "Teen And Up Audiences"
    assert meta["warnings"] == ["No Archive Warnings Apply"]
    assert meta["categories"] == ["F/M"]
    assert meta["fandoms"] == ["Harbour Lights (TV)"]
    assert meta["relationships"] == ["Mara Quill/Tobias Venn"]
    assert meta["characters"] == ["Mara Quill", "Tobias Venn", "Old Finch"]
    assert meta["freeform"] == ["Slow Burn", "Hurt/Comfort", "Storms & Shipwrecks"]
    assert meta["language"] == "English"
    assert meta["summary"] == "Mara keeps the light. Tobias keeps the books. The sea keeps everything else."
    assert meta["notes"] == ["Written for a prompt about ledgers and weather.",
                             "The lighthouse is real; the ledger is not."]
    assert meta["stats"]["words"] == "312" and meta["stats"]["chapters"] == "2/2"
    labels = [(n["chapter"], n["label"], n["text"]) for n in meta["chapter_notes"]]
    assert labels == [("Chapter 1: Low Tide", "Chapter Summary", "The ledger arrives."),
                      ("Chapter 2: High Water", "Chapter Notes", "Storm warning for this one."),
                      ("Chapter 2: High Water", "Chapter End Notes", "Thank you for reading this far.")]


def test_ao3_text_is_only_the_chapters():
    story = ao3_story()
    text = story.text
    assert story.source.format == "html" and story.source_text == AO3_DOWNLOAD
    lines = text.split("\n")
    assert lines[0] == "Chapter 1: Low Tide"
    assert "Chapter 2: High Water" in lines
    assert text.endswith('"Still burning," Mara said.')
    assert '"You\'ll sign for it," said Tobias, holding out a pencil stub. "Every page."' in lines
    assert "Mara looked at the columns\u2014tides, lamps, oil, wicks & weather\u2014and laughed." in lines
    for absent in ("Posted originally", "Summary", "The sea keeps", "Written for a prompt",
                   "Chapter Notes", "Storm warning", "Thank you for reading", "lighthouse is real",
                   "drop by", "Slow Burn", "Teen And Up", "Preface", "Afterword", "text-align"):
        assert absent not in text, absent
    # The <hr> in chapter 2 is a scene-break line, mapped to the <hr> tag.
    i = text.index(SCENE_BREAK)
    assert story.source_text.startswith("<hr", story.offsets.to_source(i))
    assert text[i - 2:i] == "\n\n" and text[i + len(SCENE_BREAK):i + len(SCENE_BREAK) + 2] == "\n\n"
    # Paragraphs are separated by one blank line, never more.
    assert "\n\n\n" not in text


def test_ao3_offsets_round_trip():
    story = ao3_story()
    check_offsets(story)
    assert check_words(story) > 60
    # A whole paragraph with curly quotes maps back to its source span.
    para = '"Still burning?" he asked.'
    i = story.text.index(para)
    a, b = story.offsets.span_to_source(i, i + len(para))
    assert story.source_text[a:b] == "\u201cStill burning?\u201d he asked."
    # A character from a numeric reference maps to the "&" that starts it.
    dash = story.text.index("\u2014tides")
    assert story.source_text.startswith("&#8212;", story.offsets.to_source(dash))


def test_ffn_page():
    story = read_bytes(FFN_PAGE.encode("utf-8"), "orchard.htm")
    meta = story.meta
    assert meta["title"] == "The Quiet Orchard"
    assert meta["author"] == "petal-ink"
    assert meta["rating"] == "T"
    assert meta["language"] == "English"
    assert meta["genres"] == ["Romance", "Humor"]
    assert meta["characters"] == ["Ada W.", "Ben O.", "Cal R."]
    assert meta["relationships"] == ["Ada W./Ben O."]
    assert meta["summary"] == "Two neighbours, one pear tree, and a fence that keeps moving."
    assert meta["fandoms"] == ["Orchard Tales"]
    assert meta["stats"]["words"] == "4,210" and meta["stats"]["chapters"] == "3"
    assert story.text == ("Ada found the first pear on her side of the fence and decided it was hers.\n\n"
                          "\"That one's mine,\" Ben called over the palings.\n\n"
                          "Disputed. She took a bite anyway.")
    check_offsets(story)
    assert check_words(story) == len(re.findall(r"\w+", story.text))


def test_generic_page_title_and_body():
    page = ("<html><head><title>  A   Walk &amp; a Talk </title><link rel=stylesheet href=x.css></head>"
            "<body><nav>Home</nav><h1>Ignored as title</h1><p>First   line\nof text.</p>"
            "<ul><li>one</li><li>two</li></ul><p>Tabs\tand<br>breaks.</p></body></html>")
    story = read_bytes(page.encode(), "walk.html")
    assert story.meta == {"title": "A Walk & a Talk"}
    assert story.text == "Home\n\nIgnored as title\n\nFirst line of text.\n\none\n\ntwo\n\nTabs and\nbreaks."
    check_offsets(story)


def test_generic_page_title_falls_back_to_h1_and_sniffs_html_without_suffix():
    page = b"<!doctype html><body><h1>The  Long Road</h1><p>It went on.</p></body>"
    story = read_bytes(page, "story")  # no suffix: recognised by its content
    assert story.source.format == "html"
    assert story.meta["title"] == "The Long Road"
    assert story.text == "The Long Road\n\nIt went on."


def test_empty_paragraph_runs_are_scene_breaks_unless_used_as_spacing():
    rare = "<p>One.</p><p>Two.</p><p>&nbsp;</p><p>Three.</p><p>Four.</p><p>Five.</p>"
    assert extract(rare).text == f"One.\n\nTwo.\n\n{SCENE_BREAK}\n\nThree.\n\nFour.\n\nFive."
    # An empty paragraph between every paragraph is spacing; a run of two is then the break.
    spaced = ("<p>One.</p><p>&nbsp;</p><p>Two.</p><p> </p><p>Three.</p><p>&nbsp;</p><p>&nbsp;</p>"
              "<p>Four.</p>")
    assert extract(spaced).text == f"One.\n\nTwo.\n\nThree.\n\n{SCENE_BREAK}\n\nFour."
    # Breaks at the very start or end are dropped; <br> runs of three make one.
    assert extract("<hr><p>A</p><hr>").text == "A"
    assert extract("A<br>B<br><br>C<br><br><br>D").text == f"A\nB\n\nC\n\n{SCENE_BREAK}\n\nD"


def test_pre_keeps_whitespace_and_cells_are_spaced():
    ex = extract("<pre>  two  spaces\n  indented</pre><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>")
    assert ex.text == "  two  spaces\n  indented\n\na b\n\nc"


# ------------------------------------------------------------------------------------------------
# Hostile markup
HOSTILE_SCRIPTS = [
    "<script>alert(1)</script>",
    "<SCRIPT type='text/javascript'>alert(2)</SCRIPT >",
    "<script><!--<script>alert(3)</script>alert(4)--></script>",
    "<img src=x onerror=\"alert(6)\"><img src='y' onerror=alert(61)>",
    "<a href=\"javascript:alert(7)\" onclick=alert(71)>link</a>",
    "<style>body{background:url(alert)}</style>",
    "<noscript>alert(8)</noscript>",
    "<svg><script>alert(9)</script><text>alert(91)</text></svg>",
    "<iframe srcdoc=\"<p>alert</p>\">alert(10)</iframe>",
    "<template><p>alert(11)</p></template>",
    "<!-- alert(12) --><!--> <!---> <?php alert(13) ?>",
    "<textarea>alert(14)</textarea><select><option>alert(15)</select>",
    "<div style=\"x:expression(alert(16))\" onmouseover='alert(17)'>hover</div>",
    "<object data=x>alert(18)</object><xmp>alert(19)</xmp>",
]


@pytest.mark.parametrize("snippet", HOSTILE_SCRIPTS)
def test_script_text_never_reaches_the_story(snippet):
    page = f"<html><body><p>Before.</p>{snippet}<p>After.</p></body></html>"
    story = read_bytes(page.encode(), "evil.html")
    assert "alert" not in story.text.lower()
    assert story.text.startswith("Before.")
    check_offsets(story)


def test_unclosed_script_swallows_the_rest_not_the_story():
    story = read_bytes(b"<p>Visible.</p><script>alert('never')<p>also script", "x.html")
    assert story.text == "Visible."


def test_deep_nesting_is_fast():
    depth = 10_000
    page = "<div>" * depth + "<b><i><span>" * depth + "deep text" + "</div>" * depth
    t0 = time.perf_counter()
    story = read_bytes(page.encode(), "deep.html")
    elapsed = time.perf_counter() - t0
    assert story.text == "deep text"
    assert elapsed < 3.0, elapsed
    # Deep nesting of AO3's own classes goes through the layout code, still linear.
    ao3ish = '<div id="chapters" class="userstuff">' + '<div class="userstuff">' * depth + "x" + "</div>" * depth
    t0 = time.perf_counter()
    assert extract(ao3ish).text == "x"
    assert time.perf_counter() - t0 < 3.0


def test_huge_and_unterminated_attributes():
    big = "<p title=\"" + "x" * 5_000_000 + "\">after</p>"
    t0 = time.perf_counter()
    assert extract(big).text == "after"
    # An attribute quote that never closes: the tag runs to the end of the file and is dropped.
    assert extract("<p>kept</p><p title=\"" + "y" * 1_000_000).text == "kept"
    assert time.perf_counter() - t0 < 3.0


@pytest.mark.parametrize("junk", ["<a" * 200_000, "&#" * 200_000, "</" * 200_000, "<!" * 200_000,
                                  "&amp" * 200_000, "<a b='" * 100_000, "<!--" * 200_000, "&#x" * 200_000])
def test_pathological_markup_is_linear(junk):
    t0 = time.perf_counter()
    extract("<p>start</p>" + junk + "<p>end</p>")
    assert time.perf_counter() - t0 < 3.0


def test_unclosed_tags_and_entities():
    ex = extract("<p>one<p>two<div>three<b>bold<i>both</div>four &amp five &#99999999; "
                 "&#0;&#xD800;&#; &unknown; &lt;3 a < b &#65&#x42; &nbsp;")
    assert ex.text == ("one\n\ntwo\n\nthreeboldboth\n\nfour & five \ufffd \ufffd\ufffd&#; &unknown; "
                       "<3 a < b AB")
    # Numeric references far past U+10FFFF are one U+FFFD, not an error.
    assert extract("&#" + "9" * 5000 + ";x").text == "\ufffdx"


def test_xhtml_self_closing_and_cdata():
    doc = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
           '<title/><script src="a.js"/></head><body><p>Seen<br/>here</p><div/><p><![CDATA[raw <text>]]></p></body></html>')
    assert extract(doc, xml=True).text == "Seen\nhere\n\nraw <text>"


def test_read_html_accepts_the_decoder_encoding():
    story = read_html("<p>caf\u00e9</p>", "c.html", "cp1252")
    assert story.source.encoding == "cp1252" and story.text == "caf\u00e9"


def test_tag_case_and_spacing_do_not_matter():
    ex = extract("<P >One</P\n><DIV class=x>Two</Div><Script>alert(1)</sCrIpT ><BR/>Three<Hr>Four")
    assert ex.text == f"One\n\nTwo\n\nThree\n\n{SCENE_BREAK}\n\nFour"


def test_page_borrowing_ao3_class_names_is_read_as_a_generic_page():
    page = '<html><body><dl class="tags"><dt>Tags:</dt><dd>cats</dd></dl><p>A blog post.</p></body></html>'
    ex = extract(page)
    assert ex.layout == "generic" and ex.text == "Tags:\n\ncats\n\nA blog post."
