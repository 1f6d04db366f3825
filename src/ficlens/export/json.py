"""The JSON document (schema "ficlens/1", see src/ficlens/schema/ficlens-1.schema.json).

Every span is written as code-point offsets into the decoded source text, so that
`source_text[start:end]` of the original file gives the span back.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .. import __version__
from ..model import SCHEMA, Story


def story_to_dict(story: Story) -> dict[str, Any]:
    to_src = story.offsets.span_to_source

    def span(start: int, end: int) -> dict[str, int]:
        s, e = to_src(start, end)
        return {"start": s, "end": e}

    def pair(se):
        return list(to_src(*se)) if se else None

    meta = {
        "title": story.meta.get("title") or story.headers.get("title") or story.title,
        "author": story.meta.get("author") or story.headers.get("author"),
        "summary": story.meta.get("summary") or story.headers.get("summary"),
        "declared": story.meta,
        "headers": story.headers,
    }
    return {
        "schema": SCHEMA,
        "ficlens_version": __version__,
        "id": story.id,
        "source": asdict(story.source),
        "meta": meta,
        "stats": {
            "words": story.body_words(),
            "paragraphs": len(story.paragraphs),
            "quotes": len(story.quotes),
        },
        "layers": sorted(story.layers),
        "sections": [{"kind": s.kind, **span(s.start, s.end), "label": s.label} for s in story.sections],
        "quotes": [
            {
                "id": q.id, **span(q.start, q.end), "text": story.text[q.start:q.end],
                "utterance": q.utterance, "closed": q.closed,
                "speaker": q.speaker, "addressees": q.addressees, "kind": q.kind,
                "confidence": q.confidence, "evidence": pair(q.evidence),
            }
            for q in story.quotes
        ],
        "mentions": [
            {**span(m.start, m.end), "kind": m.kind, "character": m.character} for m in story.mentions
        ],
        "characters": [asdict(c) for c in story.characters],
        "narration": {
            "person": story.narration.person,
            "narrator": story.narration.narrator,
            "reader_insert": story.narration.reader_insert,
            "segments": [
                {**span(g.start, g.end), "person": g.person, "narrator": g.narrator}
                for g in story.narration.segments
            ],
        },
        "relations": [
            {"a": r.a, "b": r.b, "kind": r.kind, "weight": r.weight,
             "evidence": [pair(e) for e in r.evidence]}
            for r in story.relations
        ],
        "tags": _tags_to_source(story.tags, to_src),
    }


def _tags_to_source(tags: dict[str, Any], to_src) -> dict[str, Any]:
    """Tag evidence is stored as normalized spans; rewrite every [start, end] pair to source offsets."""

    def fix(value):
        if isinstance(value, dict):
            return {k: ([list(to_src(*e)) for e in v] if k == "evidence" else fix(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(tags)


def dumps(story: Story, *, indent: int | None = 2) -> str:
    return json.dumps(story_to_dict(story), ensure_ascii=False, indent=indent)
