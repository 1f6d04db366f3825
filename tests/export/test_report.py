"""The HTML report: structure, speaker labels, evidence links, graph, escaping, and both render paths.

Stories with speakers, characters, relations and tags are built here by hand from the model classes
on top of real structure/quote stages, so the renderer is tested on full layers even while the
pipeline's own layers are still being built; seed 001 runs through the whole current pipeline.
"""
from __future__ import annotations

import re

import pytest
from selectolax.lexbor import LexborHTMLParser

from ficlens.api import analyze_path, analyze_text, get_pipeline
from ficlens.export.graph_svg import GraphEdge, GraphNode, layout_circle, render_graph_svg
from ficlens.export.json import story_to_dict
from ficlens.export.report import asset_text, render_report, render_report_from_document
from ficlens.model import Character, Relation, Segment, Source
from ficlens.read import story_from_text

LANTERN = """The Lantern Keeper

Author's note: Thanks for reading! This one is for the rainy-day crowd.

Chapter 1: The Ferry

Nora's POV:

"You're late again," Nora said to Tobias, folding her arms.

"The ferry was slow," he answered. "Blame the fog, not me."

Nora laughed and kissed his cheek. "I love you anyway."

* * *

Mags waited at the dock with a lantern. "Dinner is getting cold, you two."

"Coming, Aunt Mags!"
"""


def span_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def tag(name, confidence, evidence, **extra):
    return {"name": name, "confidence": confidence, "evidence": [list(e) for e in evidence], **extra}


def lantern_story(text: str = LANTERN):
    """A story with every layer filled by hand (speakers, cast, relations, tags) over real stages."""
    story = analyze_text(text, name="lantern.txt", until="quotes")
    t = story.text
    story.characters = [
        Character(id="nora", name="Nora Quill", aliases=["Nora"], gender="female",
                  counts={"mentions": 4, "lines": 3, "words": 10}, spoken_to={"tobias": 1, "mags": 1}),
        Character(id="tobias", name="Tobias Reed", aliases=["Tobias", "he"], gender="male",
                  counts={"mentions": 2, "lines": 2, "words": 8}, spoken_to={"nora": 2}),
        Character(id="mags", name="Mags", aliases=["Aunt Mags"], gender="female",
                  counts={"mentions": 2, "lines": 1, "words": 6}),
        Character(id="ferryman", name="Ferryman", mentioned_only=True, counts={"mentions": 1}),
    ]
    who = [("nora", ["tobias"], "explicit", 0.93, "Nora said to Tobias"),
           ("tobias", ["nora"], "anaphoric", 0.71, "he answered"),
           ("tobias", ["nora"], "anaphoric", 0.71, "he answered"),
           ("nora", ["tobias"], "implicit", 0.55, None),
           ("mags", [], "explicit", 0.88, "Mags waited"),
           ("nora", ["mags"], "implicit", 0.4, None)]
    assert len(story.quotes) == len(who)
    for q, (speaker, to, kind, conf, ev) in zip(story.quotes, who):
        q.speaker, q.addressees, q.kind, q.confidence = speaker, to, kind, conf
        q.evidence = span_of(t, ev) if ev else None
    kiss = span_of(t, "Nora laughed and kissed his cheek.")
    aunt = span_of(t, "Aunt Mags")
    love = span_of(t, '"I love you anyway."')
    thanks = span_of(t, "Thanks for reading!")
    story.relations = [Relation(a="nora", b="tobias", kind="romantic", weight=6.0, evidence=[kiss]),
                       Relation(a="mags", b="nora", kind="family", weight=2.0, evidence=[aunt])]
    story.narration.person = "third"
    story.narration.segments = [Segment(start=0, end=len(t), person="third")]
    story.tags = {
        "rating": tag("General Audiences", 0.7, []),
        "warnings": [tag("No Archive Warnings Apply", 0.6, [])],
        "category": [tag("F/M", 0.8, [kiss])],
        "fandoms": [tag("Original Work", 0.5, [thanks])],
        "relationships": [tag("Nora Quill/Tobias Reed", 0.7, [kiss], kind="romantic", characters=["nora", "tobias"])],
        "characters": [tag("Nora Quill", 0.9, []), tag("Tobias Reed", 0.6, [])],
        "freeform": [tag("Love Confessions", 0.5, [love]), tag("Fluff", 0.45, [kiss, love])],
        "words": story.body_words(),
        "language": "English",
    }
    story.layers |= {"characters", "attribution", "relations", "tags", "narration"}
    return story


def parse(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def story_text_of(tree) -> str:
    """The story as a reader sees it: labels and tooltips taken out (this edits the tree)."""
    for node in tree.css("main .who, main .tip, main .notice"):
        node.decompose()
    return tree.css_first("main").text(separator="")


@pytest.fixture(scope="module")
def lantern():
    return lantern_story()


@pytest.fixture(scope="module")
def lantern_html(lantern):
    return render_report(lantern)


def test_report_is_self_contained(lantern_html):
    tree = parse(lantern_html)
    # Offline: no external resource of any kind.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", lantern_html)
    assert "@import" not in lantern_html and "url(http" not in lantern_html
    assert not tree.css("link[rel=stylesheet]") and not tree.css("script[src]")
    styles = tree.css("style")
    assert len(styles) == 1 and "prefers-color-scheme" in styles[0].text()
    scripts = tree.css("script")
    assert len(scripts) == 1 and scripts[0].text().strip() == asset_text("report.js").strip()
    assert tree.css_first("meta[name=viewport]") is not None
    assert tree.css_first("[data-theme-toggle]") is not None


def test_structure_notes_headings_breaks(lantern, lantern_html):
    tree = parse(lantern_html)
    assert tree.css_first("h1").text() == "The Lantern Keeper"
    notes = tree.css("main details.notes")
    assert len(notes) == 1 and "Thanks for reading!" in notes[0].text()
    assert notes[0].attributes.get("open") is None  # folded away
    assert notes[0].css_first("summary").text() == "Author's note"
    assert "Chapter 1: The Ferry" in tree.css_first("main h3.chapter").text()
    pov = tree.css_first("main .pov-header")
    assert "Nora's POV:" in pov.text() and pov.attributes["role"] == "heading"
    brk = tree.css_first("main .scene-break")
    assert brk.attributes["role"] == "separator" and "* * *" in brk.text()
    # Every body paragraph's text is in the report, in order.
    main = story_text_of(tree)
    pos = 0
    for s, e in lantern.paragraphs:
        pos = main.index(lantern.text[s:e], pos)


def test_quotes_are_labelled_and_described(lantern, lantern_html):
    tree = parse(lantern_html)
    names = {"nora": "Nora Quill", "tobias": "Tobias Reed", "mags": "Mags"}
    colours = {}
    for q in lantern.quotes:
        el = tree.css_first(f"#q-{q.id}")
        assert el is not None, q.id
        assert el.attributes["tabindex"] == "0"
        assert lantern.text[q.start:q.end] in el.text(separator="")
        assert el.attributes["data-speaker"] == names[q.speaker]
        assert names[q.speaker] in el.attributes["aria-label"]
        tip = tree.css_first(f"#{el.attributes['aria-describedby']}")
        assert tip.attributes["role"] == "tooltip"
        assert names[q.speaker] in tip.text()
        assert q.kind in tip.text() and f"{q.confidence:.2f}" in tip.text()
        for a in q.addressees:
            assert names[a] in tip.text()
        cls = next(c for c in el.attributes["class"].split() if re.fullmatch(r"c\d|cn", c))
        assert colours.setdefault(q.speaker, cls) == cls  # one colour per speaker
    assert len(set(colours.values())) == 3
    # A label before each utterance's first quote; the continuation of utterance 1 has none.
    assert tree.css_first("#q-0 .who").text() == "Nora"
    assert tree.css_first("#q-1 .who").text() == "Tobias"
    assert tree.css_first("#q-2 .who") is None
    assert "the fog" in tree.css_first("#q-2").text()
    # The evidence that decided the first quote is shown in its tooltip.
    assert "Nora said to Tobias" in tree.css_first("#tip-0").text()


def test_tags_link_to_evidence_passages(lantern, lantern_html):
    tree = parse(lantern_html)
    links = {a.text(): a.attributes["href"] for a in tree.css(".taglist .tag > a")}
    assert set(links) >= {"F/M", "Original Work", "Nora Quill/Tobias Reed", "Love Confessions", "Fluff"}
    for name, href in links.items():
        anchor = tree.css_first(href)
        assert anchor is not None and "anchor" in anchor.attributes["class"], name
    # The romantic pair's link lands on the kiss sentence, marked and explained.
    ev = links["Nora Quill/Tobias Reed"][1:]
    marks = tree.css(f'mark.ev[data-ev~="{ev}"]')
    assert "".join(m.text() for m in marks) == "Nora laughed and kissed his cheek."
    assert "Relationships: Nora Quill/Tobias Reed" in marks[0].attributes["title"]
    # Evidence that is a whole quote is marked inside the quote element.
    love = tree.css_first(f'mark.ev[data-ev~="{links["Love Confessions"][1:]}"]')
    assert love.parent.attributes.get("id") == "q-3"
    # Fluff cites two passages: its second one is a numbered link.
    fluff = next(li for li in tree.css(".taglist .tag") if li.css_first("a") and li.css_first("a").text() == "Fluff")
    assert [a.text() for a in fluff.css(".evlinks a")] == ["2"]
    # Evidence in a folded note: the anchor sits inside the <details>.
    fandom = tree.css_first(links["Original Work"])
    assert any(n.tag == "details" for n in _ancestors(fandom))
    # Tags without evidence are plain text, not dead links.
    assert "General Audiences" in tree.css_first(".tagrow-rating").text()
    assert tree.css_first(".tagrow-rating a") is None


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def test_cast_panel(lantern_html):
    tree = parse(lantern_html)
    people = tree.css("#cast .person")
    assert [p.css_first("strong").text() for p in people] == ["Nora Quill", "Tobias Reed", "Mags"]
    nora = people[0].text(separator=" ")
    assert "3 lines" in nora and "10 words spoken" in nora and "4 mentions" in nora and "female" in nora
    assert "talks to:" in nora and "Tobias Reed (1)" in nora and "Mags (1)" in nora
    assert "also: Nora" in nora
    assert "Aunt Mags" in people[2].text()
    assert "Ferryman" in tree.css_first("#cast .mentioned").text()


def test_graph_and_strip(lantern, lantern_html):
    tree = parse(lantern_html)
    svg = tree.css_first("#graph svg.graph")
    assert svg is not None and svg.attributes["role"] == "img"
    labels = sorted(t.text() for t in svg.css(".node text"))
    assert labels == ["Mags", "Nora Quill", "Tobias Reed"]
    edges = svg.css(".edge")
    assert {next(c for c in e.attributes["class"].split() if c.startswith("k-")) for e in edges} == {"k-romantic", "k-family"}
    # Edges link to their evidence, which exists in the text.
    hrefs = [a.attributes["href"] for a in svg.css("a")]
    assert len(hrefs) == 2 and all(tree.css_first(h) is not None for h in hrefs)
    segs = tree.css(".strip .seg")
    assert [s.attributes["href"] for s in segs] == [f"#q-{q.id}" for q in lantern.quotes]
    assert segs[0].attributes["title"].startswith("Nora Quill to Tobias Reed:")
    legend = tree.css_first(".legend").text(separator=" ")
    assert "Nora Quill" in legend and "unattributed" not in legend


def test_empty_layers_render_as_unattributed():
    story = analyze_text(LANTERN, name="lantern.txt", until="quotes")
    tree = parse(render_report(story))
    for q in story.quotes:
        el = tree.css_first(f"#q-{q.id}")
        assert "cn" in el.attributes["class"].split()
        assert "unattributed" in el.attributes["aria-label"]
        assert "Unattributed" in tree.css_first(f"#tip-{q.id}").text()
    assert "No characters identified yet" in tree.css_first("#cast").text()
    assert "No relationships found yet" in tree.css_first("#graph").text()
    assert "unattributed" in tree.css_first(".legend").text()
    assert tree.css_first("svg.graph") is None


HOSTILE = """<script>alert("t")</script>

"Hello," said Vex. "\"><img src=x onerror=alert(1)>"

Plain </p><b>bold?</b> & done.
"""


def test_hostile_text_is_escaped():
    story = analyze_text(HOSTILE, name="<script>x</script>.txt", until="quotes")
    story.characters = [Character(id="vex", name='Vex"><script>alert(2)</script>', counts={"lines": 2})]
    for q in story.quotes:
        q.speaker = "vex"
    story.tags = {"freeform": [tag('<img src=x onerror=alert(3)>', 0.5, [span_of(story.text, "Plain")])]}
    html = render_report(story)
    tree = parse(html)
    assert len(tree.css("script")) == 1  # only the report's own script
    assert not tree.css("img") and not tree.css("main b")
    text = story_text_of(tree)
    assert '<script>alert("t")</script>' in text
    assert '"><img src=x onerror=alert(1)>' in text
    assert "</p><b>bold?</b> & done." in text
    assert 'Vex"><script>alert(2)</script>' in tree.css_first("#cast").text()
    assert "<img src=x onerror=alert(3)>" in tree.css_first(".taglist").text()


def test_render_from_document_matches_render_from_story():
    # CRLF line ends and curly quotes: source offsets differ from normalized ones.
    source = LANTERN.replace('"', "\u201c", 1).replace("\n", "\r\n")
    raw = story_from_text(source, Source(path="lantern.txt", format="txt", encoding="utf-8"))
    assert raw.text != raw.source_text
    story = get_pipeline("quotes")(raw)
    doc = story_to_dict(story)
    a = parse(render_report(story)).css_first("main").html
    b = parse(render_report_from_document(doc, story.text, source_text=story.source_text)).css_first("main").html
    assert a == b
    # Without a usable source text, spans are taken as offsets into the text given.
    c = render_report_from_document(story_to_dict(story), story.source_text)
    assert "Thanks for reading!" in parse(c).css_first("main").text()


def test_linked_assets_for_the_web_app(lantern):
    html = render_report(lantern, assets_url="/assets", links=[("Library", "/")])
    tree = parse(html)
    assert not tree.css("style") and all(s.attributes.get("src") for s in tree.css("script"))
    assert tree.css_first("link[rel=stylesheet]").attributes["href"] == "/assets/report.css"
    assert tree.css_first(".links a").attributes["href"] == "/"


def test_graph_layout_is_deterministic():
    def build():
        nodes = [GraphNode(id=f"n{i}", label=f"Name {i}", weight=float(i)) for i in range(6)]
        edges = [GraphEdge(a="n0", b="n5", kind="romantic", weight=3), GraphEdge(a="n1", b="n2", weight=1)]
        return layout_circle(nodes, edges)

    one, two = build(), build()
    assert str(render_graph_svg(one)) == str(render_graph_svg(two))
    points = {(n.x, n.y) for n in one.nodes}
    assert len(points) == 6
    assert one.nodes[0].label == "Name 5"  # heaviest first, at the top
    assert one.nodes[0].y < min(n.y for n in one.nodes[1:])
    assert all(0 <= n.x <= one.width and 0 <= n.y <= one.height for n in one.nodes)


def test_seed_report_end_to_end(seed_path, tmp_path):
    story = analyze_path(seed_path(1))
    html = render_report(story)
    tree = parse(html)
    assert len(tree.css(".strip .seg")) == len(story.quotes) > 0
    for q in story.quotes[:: max(1, len(story.quotes) // 25)]:
        assert story.text[q.start:q.end] in tree.css_first(f"#q-{q.id}").text(separator="")
    main = story_text_of(tree)
    for s, e in story.paragraphs[::10]:
        assert story.text[s:e].strip() in main


def test_cli_report_writes_file(tmp_path):
    from typer.testing import CliRunner

    from ficlens.cli import app

    src = tmp_path / "lantern.txt"
    src.write_text(LANTERN, encoding="utf-8")
    out = tmp_path / "out.html"
    result = CliRunner().invoke(app, ["report", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    tree = parse(out.read_text(encoding="utf-8"))
    assert tree.css_first("h1").text() == "The Lantern Keeper"
    assert len(tree.css("main .q[tabindex]")) == 6


def test_render_from_document_of_an_html_source():
    """An HTML story's spans point into the HTML file; the report maps them back onto the text."""
    from ficlens.read import read_bytes

    page = ("<html><head><title>Paper Cranes</title></head><body><h1>Paper Cranes</h1>"
            "<p>&ldquo;Fold it again,&rdquo; said <em>Mei</em>, &amp; she smiled.</p>"
            "<p>He folded it again. &ldquo;Like this?&rdquo;</p></body></html>")
    story = get_pipeline("quotes")(read_bytes(page.encode(), "cranes.html"))
    assert story.source.format == "html" and len(story.quotes) == 2
    doc = story_to_dict(story)
    assert doc["quotes"][0]["start"] > 50  # an offset into the HTML, past the markup
    from_doc = parse(render_report_from_document(doc, story.text, source_text=story.source_text))
    from_story = parse(render_report(story))
    assert from_doc.css_first("main").html == from_story.css_first("main").html
    assert from_doc.css_first("#q-1").text(separator="").endswith('"Like this?"')
    assert not from_doc.css("main em")  # markup of the source is not carried into the report
