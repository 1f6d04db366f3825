"""The HTML report of one story: one self-contained file that works offline.

The report shows the header (title, fandom, rating, warnings, POV, relationship and freeform tags,
each linked to the passages that justify it), the story text with notes folded away and every quote
tinted and labelled by speaker (hover or keyboard focus shows speaker, addressees, kind and
confidence), the cast, the relationship graph (inline SVG) and a strip of who speaks along the story.

It is rendered from the JSON document (`story_to_dict`) and a text its spans point into, so the same
code serves `ficlens report` (a Story in memory) and `ficlens serve` (a document from the store).
Every string that comes from the story goes through Jinja2 autoescaping; nothing story-derived is
ever marked safe. Layers that are still empty (no speakers, no characters) render as such.
"""
from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..model import OffsetMap, Story
from .graph_svg import EDGE_DASH, GraphEdge, GraphNode, layout_circle, render_graph_svg

PALETTE_SIZE = 10  # speaker colours; past ten they repeat, the name label still tells speakers apart
NOTE_KINDS = frozenset({"header", "summary", "author_note", "disclaimer"})
NOTE_TITLES = {"author_note": "Author's note", "disclaimer": "Disclaimer", "header": "Story header",
               "summary": "Summary"}
# Header rows: tag-layer key and the label AO3 uses for it.
TAG_ROWS = (("fandoms", "Fandom"), ("rating", "Rating"), ("warnings", "Archive warnings"),
            ("category", "Category"), ("relationships", "Relationships"), ("characters", "Characters"),
            ("freeform", "Additional tags"))
MAX_EVIDENCE_LINKS = 6  # per tag, besides the tag's own link
KIND_WORDS = {"explicit": "explicit (named by a speech tag)", "anaphoric": "anaphoric (a pronoun in the tag)",
              "implicit": "implicit (turn-taking)"}


@lru_cache(maxsize=1)
def template_env() -> Environment:
    """The Jinja2 environment of the report templates; autoescape is on for every template."""
    env = Environment(loader=PackageLoader("ficlens.export", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    env.globals["edge_dash"] = EDGE_DASH
    return env


def asset_text(name: str) -> str:
    """report.css or report.js, read from the package (inlined into the standalone file)."""
    return resources.files("ficlens.export").joinpath("templates", name).read_text(encoding="utf-8")


def render_report(story: Story, *, assets_url: str | None = None,
                  links: Sequence[tuple[str, str]] = ()) -> str:
    """The report of an analysed Story as one HTML document.

    assets_url: None inlines the CSS and JS (a standalone file); a URL prefix links
        `report.css` and `report.js` from there instead (the web app, whose CSP forbids inline script).
    links: (label, url) pairs for a navigation bar at the top (the web app's "Library" link).
    """
    from .json import story_to_dict

    # Spans in normalized-text offsets: with an identity map the document points into story.text.
    doc = story_to_dict(dataclasses.replace(story, offsets=OffsetMap.identity()))
    return _render(doc, story.text, lambda i: i, assets_url=assets_url, links=links)


def render_report_from_document(doc: dict[str, Any], text: str, *, source_text: str | None = None,
                                assets_url: str | None = None,
                                links: Sequence[tuple[str, str]] = ()) -> str:
    """The report from a stored JSON document (schema ficlens/1) and its text.

    The document's spans are offsets into the decoded source text. text: the normalized story text;
    source_text: the decoded source when it differs from `text` (None when they are equal). The
    source is read again (normalized, or extracted from HTML) to map spans onto `text`; if that does
    not give `text` back, the source text itself is shown.
    """
    if source_text is None or source_text == text:
        return _render(doc, text, lambda i: i, assets_url=assets_url, links=links)
    offsets = _reread_offsets(doc, text, source_text)
    if offsets is None:
        return _render(doc, source_text, lambda i: i, assets_url=assets_url, links=links)
    return _render(doc, text, source_to_text(offsets, len(text)), assets_url=assets_url, links=links)


def _reread_offsets(doc: dict[str, Any], text: str, source_text: str) -> OffsetMap | None:
    """The normalized-text -> source map, rebuilt the way the reader built it; None if it differs."""
    source = doc.get("source") or {}
    if source.get("format") == "html":
        from ..read.html import read_html

        story = read_html(source_text, str(source.get("path") or ""), source.get("encoding"))
        normalized, offsets = story.text, story.offsets
    else:
        from ..read.normalize import normalize

        normalized, offsets = normalize(source_text)
    return offsets if normalized == text else None


def source_to_text(offsets: OffsetMap, length: int) -> Callable[[int], int]:
    """The inverse of an OffsetMap: a source offset -> the first normalized offset at or after it."""
    starts = [offsets.to_source(i) for i in range(length + 1)]
    return lambda s: bisect_left(starts, s)


def _render(doc: dict[str, Any], text: str, to_text: Callable[[int], int], *, assets_url: str | None,
            links: Sequence[tuple[str, str]]) -> str:
    view = build_view(doc, text, to_text)
    env = template_env()
    inline = assets_url is None
    return env.get_template("report.html.j2").render(
        v=view,
        links=list(links),
        assets_url=assets_url,
        # The stylesheet and script are package files, not story text: safe to inline.
        css=Markup(asset_text("report.css")) if inline else None,
        js=Markup(asset_text("report.js")) if inline else None,
    )


# --- the view: plain dicts and lists the template walks ---------------------------------------


class _Evidence:
    """Evidence passages get one anchor id each (`ev-N`), shared by every tag that cites them."""

    def __init__(self, span: Callable[[Any], tuple[int, int] | None]):
        self.span = span
        self.ids: dict[tuple[int, int], str] = {}
        self.labels: dict[str, list[str]] = {}

    def ref(self, pair: Any, label: str) -> str | None:
        se = self.span(pair)
        if se is None or se[0] >= se[1]:
            return None
        ev = self.ids.setdefault(se, f"ev-{len(self.ids) + 1}")
        labels = self.labels.setdefault(ev, [])
        if label not in labels:
            labels.append(label)
        return ev

    def spans(self) -> list[tuple[int, int, str]]:
        return sorted((s, e, ev) for (s, e), ev in self.ids.items())


def build_view(doc: dict[str, Any], text: str, to_text: Callable[[int], int]) -> dict[str, Any]:
    """Everything the template shows, computed once, with spans as offsets into `text`."""
    n = len(text)

    def span(pair: Any) -> tuple[int, int] | None:
        if not pair or len(pair) != 2:
            return None
        s, e = (min(max(to_text(int(x)), 0), n) for x in pair)
        return (s, e) if s <= e else None

    def section_span(d: dict) -> tuple[int, int] | None:
        return span((d.get("start", 0), d.get("end", 0)))

    evidence = _Evidence(span)
    cast = _cast(doc)
    by_id = {c["id"]: c for c in cast["all"]}
    quotes = _quotes(doc, text, span, by_id)
    tags = _tags(doc.get("tags") or {}, evidence)
    relation_edges = _relations(doc, cast, evidence)
    blocks, paragraphs = _blocks(doc, text, section_span)
    anchored = _fill_runs(text, paragraphs, quotes, evidence)
    # A tag or an edge links only to passages the text actually shows.
    for row in tags:
        for t in row["tags"]:
            t["evidence"] = [ev for ev in t["evidence"] if ev in anchored]
    graph = _graph(cast, relation_edges, anchored)
    meta = doc.get("meta") or {}
    title = meta.get("title") or _title_from_sections(doc, text, section_span)
    narration = doc.get("narration") or {}
    narrator = by_id.get(narration.get("narrator") or "")
    attributed = sum(1 for q in quotes if q["speaker"])
    return {
        "id": doc.get("id", ""),
        "title": title or "(untitled)",
        "has_title": bool(title),
        "author": meta.get("author"),
        "summary": meta.get("summary"),
        "source": (doc.get("source") or {}).get("path"),
        "tags": tags,
        "pov": _pov(narration, narrator),
        "declared": (doc.get("tags") or {}).get("declared_vs_inferred") or [],
        "stats": {
            "words": (doc.get("stats") or {}).get("words", 0),
            "quotes": len(quotes),
            "utterances": len({q["utterance"] for q in quotes}),
            "attributed": attributed,
            "characters": len(cast["speaking"]),
        },
        "layers": list(doc.get("layers") or []),
        "blocks": blocks,
        "quotes": quotes,
        "strip": _strip(quotes),
        "legend": _legend(quotes, cast),
        "cast": cast,
        "graph": graph,
        "edge_kinds": [(k, d) for k, d in EDGE_DASH.items() if graph and any(e.kind == k for e in graph["edges"])],
        "palette": PALETTE_SIZE,
    }


def _title_from_sections(doc: dict, text: str, section_span) -> str | None:
    for s in doc.get("sections") or []:
        if s.get("kind") == "title":
            se = section_span(s)
            if se:
                return text[se[0]:se[1]].strip() or None
    return None


def _cast(doc: dict) -> dict[str, Any]:
    """Characters in palette order (most lines first), with the short label shown before quotes."""
    chars = [c for c in doc.get("characters") or [] if isinstance(c, dict) and c.get("id")]
    known = {c["id"] for c in chars}
    # A speaker id the characters layer does not list still gets a colour and a label.
    for q in doc.get("quotes") or []:
        sid = q.get("speaker")
        if sid and sid not in known:
            known.add(sid)
            chars.append({"id": sid, "name": sid})

    def counts(c):
        return c.get("counts") or {}

    chars.sort(key=lambda c: (bool(c.get("mentioned_only")), -int(counts(c).get("lines") or 0),
                              -int(counts(c).get("mentions") or 0), str(c.get("name") or c["id"]).lower()))
    first_names = Counter(str(c.get("name") or c["id"]).split()[0] if str(c.get("name") or c["id"]).split()
                          else c["id"] for c in chars)
    names = {c["id"]: str(c.get("name") or c["id"]) for c in chars}
    out = []
    for i, c in enumerate(chars):
        name = names[c["id"]]
        first = name.split()[0] if name.split() else name
        spoken_to = c.get("spoken_to") or {}
        out.append({
            "id": c["id"],
            "name": name,
            "short": first if first_names[first] == 1 else name,
            "colour": i % PALETTE_SIZE,
            "aliases": [a for a in c.get("aliases") or [] if a != name],
            "gender": c.get("gender"),
            "mentions": int(counts(c).get("mentions") or 0),
            "lines": int(counts(c).get("lines") or 0),
            "words": int(counts(c).get("words") or 0),
            "talks_to": sorted(((names.get(k, k), int(v)) for k, v in spoken_to.items()), key=lambda t: (-t[1], t[0])),
            "mentioned_only": bool(c.get("mentioned_only")),
            "canon": c.get("canon"),
        })
    return {
        "all": out,
        "speaking": [c for c in out if not c["mentioned_only"]],
        "mentioned": [c for c in out if c["mentioned_only"]],
    }


def _fmt_conf(value: Any) -> str | None:
    return f"{float(value):.2f}" if isinstance(value, (int, float)) else None


def _quotes(doc: dict, text: str, span, by_id: dict[str, dict]) -> list[dict[str, Any]]:
    out = []
    seen_utterances: set = set()
    for q in doc.get("quotes") or []:
        se = span((q.get("start", 0), q.get("end", 0)))
        if se is None or se[0] >= se[1]:
            continue
        speaker = by_id.get(q.get("speaker") or "")
        ev = span(q.get("evidence"))
        snippet = text[ev[0]:ev[1]].strip() if ev else ""
        if len(snippet) > 120:
            snippet = snippet[:117] + "..."
        utterance = q.get("utterance", q.get("id"))
        addressees = [by_id[a]["name"] if a in by_id else str(a) for a in q.get("addressees") or []]
        kind = q.get("kind")
        conf = _fmt_conf(q.get("confidence"))
        who = speaker["name"] if speaker else "unattributed"
        label = f"{who}" + (f" to {', '.join(addressees)}" if addressees else "")
        out.append({
            "id": q.get("id"),
            "start": se[0],
            "end": se[1],
            "utterance": utterance,
            "first_of_utterance": utterance not in seen_utterances,
            "speaker": speaker["id"] if speaker else None,
            "speaker_name": speaker["name"] if speaker else None,
            "short": speaker["short"] if speaker else "?",
            "colour": speaker["colour"] if speaker else None,
            "addressees": addressees,
            "kind": kind,
            "kind_words": KIND_WORDS.get(kind or "", kind),
            "confidence": conf,
            "evidence": snippet,
            "aria": f"Quote, {label}" + (f", {kind}" if kind else "") + (f", confidence {conf}" if conf else ""),
            "excerpt": _excerpt(text[se[0]:se[1]]),
        })
        seen_utterances.add(utterance)
    out.sort(key=lambda q: q["start"])
    return out


def _excerpt(s: str, limit: int = 70) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _tags(tags: dict[str, Any], evidence: _Evidence) -> list[dict[str, Any]]:
    """Header rows; each tag links to its first evidence passage and lists a few more."""
    rows = []
    for key, label in TAG_ROWS:
        value = tags.get(key)
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        shown = []
        for t in items:
            if not isinstance(t, dict) or not t.get("name"):
                continue
            name = str(t["name"])
            ids = []
            for pair in t.get("evidence") or []:
                ev = evidence.ref(pair, f"{label}: {name}")
                if ev and ev not in ids:
                    ids.append(ev)
            shown.append({"name": name, "confidence": _fmt_conf(t.get("confidence")), "evidence": ids[:1 + MAX_EVIDENCE_LINKS],
                          "more": max(0, len(ids) - 1 - MAX_EVIDENCE_LINKS), "kind": t.get("kind")})
        rows.append({"key": key, "label": label, "tags": shown})
    return rows


def _pov(narration: dict, narrator: dict | None) -> str | None:
    person = narration.get("person")
    if not person:
        return None
    out = f"{person.capitalize()} person"
    if narrator:
        out += f", narrated by {narrator['name']}"
    if narration.get("reader_insert"):
        out += " (reader-insert)"
    return out


def _relations(doc: dict, cast: dict, evidence: _Evidence) -> list[tuple[GraphEdge, list[str]]]:
    """Edges of the relationship graph, each with the evidence ids of its passages."""
    by_id = {c["id"]: c for c in cast["all"]}
    out = []
    for r in doc.get("relations") or []:
        if not isinstance(r, dict) or not r.get("a") or not r.get("b"):
            continue
        a = by_id[r["a"]]["name"] if r["a"] in by_id else str(r["a"])
        b = by_id[r["b"]]["name"] if r["b"] in by_id else str(r["b"])
        kind = r.get("kind") if r.get("kind") in EDGE_DASH else "unknown"
        ids = [x for x in (evidence.ref(p, f"Relationship: {a} and {b} ({kind})") for p in r.get("evidence") or []) if x]
        weight = float(r.get("weight") or 0.0)
        edge = GraphEdge(a=str(r["a"]), b=str(r["b"]), kind=kind, weight=weight,
                         title=f"{a} and {b}: {kind}, weight {weight:g}, {len(ids)} passage(s)")
        out.append((edge, ids))
    return out


def _graph(cast: dict, relation_edges: list[tuple[GraphEdge, list[str]]], anchored: set[str]) -> dict[str, Any] | None:
    if not relation_edges:
        return None
    by_id = {c["id"]: c for c in cast["all"]}
    ids = sorted({e.a for e, _ in relation_edges} | {e.b for e, _ in relation_edges})
    nodes = []
    for cid in ids:
        c = by_id.get(cid)
        weight = (c["lines"] or c["mentions"] / 4) if c else 0.0
        nodes.append(GraphNode(id=cid, label=c["name"] if c else cid, weight=float(weight),
                               colour=c["colour"] if c else None))
    edges = []
    for edge, ev_ids in relation_edges:
        shown = [ev for ev in ev_ids if ev in anchored]
        edge.href = f"#{shown[0]}" if shown else None
        edges.append(edge)
    layout = layout_circle(nodes, edges)
    return {"svg": render_graph_svg(layout, title="Relationship graph"), "edges": layout.edges,
            "pairs": [(e.title, e.href) for e in sorted(layout.edges, key=lambda e: (-e.weight, e.title))]}


def _strip(quotes: list[dict]) -> list[dict[str, Any]]:
    out = []
    for q in quotes:
        who = q["speaker_name"] or "unattributed"
        to = f" to {', '.join(q['addressees'])}" if q["addressees"] else ""
        out.append({"href": f"#q-{q['id']}", "colour": q["colour"], "title": f"{who}{to}: {q['excerpt']}"})
    return out


def _legend(quotes: list[dict], cast: dict) -> list[dict[str, Any]]:
    spoken = Counter(q["speaker"] for q in quotes)
    out = [{"name": c["name"], "colour": c["colour"], "count": spoken[c["id"]]} for c in cast["all"] if spoken[c["id"]]]
    out.sort(key=lambda x: -x["count"])
    if spoken[None]:
        out.append({"name": "unattributed", "colour": None, "count": spoken[None]})
    return out


# --- the story text: blocks of paragraphs, each a list of runs --------------------------------


def _blocks(doc: dict, text: str, section_span) -> tuple[list[dict], list[dict]]:
    """Sections in text order; consecutive notes fold into one <details>. Text that no section
    covers is shown as body text, so nothing of the story is ever dropped from the report."""
    sections = []
    for s in doc.get("sections") or []:
        se = section_span(s)
        if se and se[0] < se[1]:
            sections.append((se[0], se[1], s.get("kind") or "body", s.get("label")))
    sections.sort()
    covered: list[tuple[int, int, str, Any]] = []
    pos = 0
    for s, e, kind, label in sections:
        if s > pos and text[pos:s].strip():
            covered.append((pos, s, "body", None))
        if e > pos:
            covered.append((max(s, pos), e, kind, label))
            pos = e
    if pos < len(text) and text[pos:].strip():
        covered.append((pos, len(text), "body", None))

    blocks: list[dict] = []
    paragraphs: list[dict] = []

    def paras(s: int, e: int) -> list[dict]:
        out = []
        for ls, le in _lines(text, s, e):
            p = {"start": ls, "end": le, "runs": []}
            out.append(p)
            paragraphs.append(p)
        return out

    for s, e, kind, label in covered:
        if kind in NOTE_KINDS:
            if blocks and blocks[-1]["type"] == "notes":
                blocks[-1]["paras"].extend(paras(s, e))
                if NOTE_TITLES.get(kind) not in blocks[-1]["kinds"]:
                    blocks[-1]["kinds"].append(NOTE_TITLES.get(kind, "Notes"))
            else:
                blocks.append({"type": "notes", "kinds": [NOTE_TITLES.get(kind, "Notes")], "paras": paras(s, e)})
        elif kind == "title":
            # Shown as the page's heading; the block stays only when it says something else.
            blocks.append({"type": "title", "text": text[s:e].strip(), "paras": paras(s, e)})
        elif kind == "pov_header":
            blocks.append({"type": "pov", "label": label, "paras": paras(s, e)})
        elif kind == "chapter_heading":
            blocks.append({"type": "chapter", "label": label, "paras": paras(s, e)})
        elif kind == "scene_break":
            blocks.append({"type": "break", "text": text[s:e].strip()})
        elif blocks and blocks[-1]["type"] == "body":
            blocks[-1]["paras"].extend(paras(s, e))
        else:
            blocks.append({"type": "body", "paras": paras(s, e)})
    return blocks, paragraphs


def _lines(text: str, s: int, e: int):
    """Non-blank lines of text[s:e] as (start, end) with their outer whitespace trimmed."""
    pos = s
    while pos < e:
        nl = text.find("\n", pos, e)
        end = e if nl < 0 else nl
        line = text[pos:end]
        stripped = line.strip()
        if stripped:
            ls = pos + (len(line) - len(line.lstrip()))
            yield ls, ls + len(stripped)
        pos = end + 1


def _fill_runs(text: str, paragraphs: list[dict], quotes: list[dict], evidence: _Evidence) -> set[str]:
    """Cut each paragraph at quote and evidence boundaries into runs of parts.

    A run is a stretch inside one quote (or outside any); a part is a stretch with one set of
    evidence passages. The first part of each evidence passage carries its anchor, the first run of
    each quote its id and speaker label. Returns the evidence ids that got an anchor.
    """
    starts = [p["start"] for p in paragraphs]
    per_para: dict[int, list[tuple[int, int, str]]] = {}
    for s, e, ev in evidence.spans():
        i = max(0, bisect_right(starts, s) - 1)
        while i < len(paragraphs) and paragraphs[i]["start"] < e:
            p = paragraphs[i]
            if s < p["end"] and e > p["start"]:
                per_para.setdefault(i, []).append((max(s, p["start"]), min(e, p["end"]), ev))
            i += 1
    q_starts = [q["start"] for q in quotes]
    anchored: set[str] = set()
    labelled: set[Any] = set()
    for i, p in enumerate(paragraphs):
        ps, pe = p["start"], p["end"]
        j = max(0, bisect_right(q_starts, ps) - 1)
        qs = []
        while j < len(quotes) and quotes[j]["start"] < pe:
            q = quotes[j]
            if q["end"] > ps:
                qs.append((max(q["start"], ps), min(q["end"], pe), q))
            j += 1
        evs = per_para.get(i, [])
        bounds = sorted({ps, pe} | {x for s, e, _ in qs for x in (s, e)} | {x for s, e, _ in evs for x in (s, e)})
        runs: list[dict] = []
        for a, b in zip(bounds, bounds[1:]):
            if a >= b:
                continue
            quote = next((q for s, e, q in qs if s <= a < e), None)
            ev_ids = [ev for s, e, ev in evs if s <= a < e]
            anchors = [ev for ev in ev_ids if ev not in anchored]
            anchored.update(anchors)
            part = {"text": text[a:b], "ev": " ".join(ev_ids),
                    "why": "; ".join(label for ev in ev_ids for label in evidence.labels.get(ev, [])),
                    "anchors": anchors}
            if runs and runs[-1]["quote"] is quote:
                runs[-1]["parts"].append(part)
                continue
            first = quote is not None and quote["id"] not in labelled
            if quote is not None:
                labelled.add(quote["id"])
            runs.append({"quote": quote, "first": first, "parts": [part]})
        p["runs"] = runs
    return anchored
