"""Turn one per-story JSON document (`story_to_dict`) into the store's rows.

Everything is derived from the JSON contract, generically where it can be, so a layer that is still
empty (no characters yet, no tags) gives no rows and a layer that appears later fills its table
without a change here. Runs in the worker: the writer only inserts.
"""
from __future__ import annotations

import json
import re
from typing import Any

# Keys a source may use for the tags it declares (AO3 downloads), folded to the tags-layer type.
_DECLARED_KEYS = {
    "rating": "rating", "ratings": "rating",
    "archivewarning": "warnings", "archivewarnings": "warnings", "warning": "warnings", "warnings": "warnings",
    "category": "category", "categories": "category",
    "fandom": "fandoms", "fandoms": "fandoms",
    "relationship": "relationships", "relationships": "relationships", "pairing": "relationships",
    "pairings": "relationships",
    "character": "characters", "characters": "characters",
    "additionaltags": "freeform", "additionaltag": "freeform", "freeform": "freeform", "freeforms": "freeform",
}
TAG_TYPES = ("rating", "warnings", "category", "fandoms", "relationships", "characters", "freeform")
_SPACES = re.compile(r"\s+")
_REL_SPLIT = re.compile(r"\s*(/|&)\s*")


def tag_key(type_: str, name: str) -> str:
    """The match key of a tag: case and spacing folded; relationship members sorted (A/B = B/A)."""
    key = _SPACES.sub(" ", name.strip().lower())
    if type_ == "relationships":
        parts = _REL_SPLIT.split(key)
        members, seps = parts[0::2], set(parts[1::2])
        if len(members) > 1 and len(seps) == 1:
            sep = seps.pop()
            key = (" & " if sep == "&" else "/").join(sorted(m for m in members if m))
    return key


def story_rows(doc: dict[str, Any], *, text: str, source_text: str) -> dict[str, list[dict[str, Any]]]:
    """Rows per table for one story (no run id or timestamps: the writer adds those)."""
    sid = doc["id"]
    names = {c["id"]: c.get("name") for c in doc.get("characters") or []}
    tags = tag_rows(sid, doc)
    by_type: dict[str, list[str]] = {}
    for t in tags:
        by_type.setdefault(t["type"], []).append(t["name"])
    quotes = [
        {
            "story_id": sid, "id": q["id"], "utterance": q.get("utterance"), "start": q["start"],
            "end": q["end"], "text": q.get("text") or source_text[q["start"]:q["end"]],
            "words": len((q.get("text") or source_text[q["start"]:q["end"]]).split()),
            "speaker": q.get("speaker"), "speaker_name": names.get(q.get("speaker")),
            "addressees": list(q.get("addressees") or []), "kind": q.get("kind"),
            "confidence": q.get("confidence"), "closed": q.get("closed"),
        }
        for q in doc.get("quotes") or []
    ]
    narration = doc.get("narration") or {}
    meta = doc.get("meta") or {}
    source = doc.get("source") or {}
    stats = doc.get("stats") or {}
    story = {
        "id": sid,
        "source_path": source.get("path"),
        "source_format": source.get("format"),
        "encoding": source.get("encoding"),
        "title": _str_or_none(meta.get("title")),
        "author": _str_or_none(meta.get("author")),
        "summary": _str_or_none(meta.get("summary")),
        "rating": (by_type.get("rating") or [None])[0],
        "fandoms": by_type.get("fandoms", []),
        "relationships": by_type.get("relationships", []),
        "warnings": by_type.get("warnings", []),
        "category": by_type.get("category", []),
        "pov": narration.get("person"),
        "narrator": narration.get("narrator"),
        "narrator_name": names.get(narration.get("narrator")),
        "reader_insert": bool(narration.get("reader_insert")),
        "language": _str_or_none((doc.get("tags") or {}).get("language")),
        "words": stats.get("words", 0),
        "paragraphs": stats.get("paragraphs", 0),
        "quotes": len(quotes),
        "utterances": len({q["utterance"] for q in quotes}),
        "dialogue_words": sum(q["words"] for q in quotes),
        "characters": len(doc.get("characters") or []),
        "layers": list(doc.get("layers") or []),
        "ficlens_version": doc.get("ficlens_version"),
        "text": text,
        "source_text": None if source_text == text else source_text,
        "document": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
    }
    sections = [
        {"story_id": sid, "idx": i, "kind": s["kind"], "start": s["start"], "end": s["end"],
         "label": s.get("label"), "words": len(source_text[s["start"]:s["end"]].split())}
        for i, s in enumerate(doc.get("sections") or [])
    ]
    characters = []
    for c in doc.get("characters") or []:
        counts = c.get("counts") or {}
        canon = c.get("canon")
        characters.append({
            "story_id": sid, "id": c["id"], "name": c.get("name"), "aliases": list(c.get("aliases") or []),
            "gender": c.get("gender"),
            "canon_id": _str_or_none(canon.get("id")) if isinstance(canon, dict) else None,
            "canon": None if canon is None else json.dumps(canon, ensure_ascii=False),
            "mentioned_only": bool(c.get("mentioned_only")),
            "mentions": counts.get("mentions"), "lines": counts.get("lines"), "words": counts.get("words"),
            "counts": json.dumps(counts, ensure_ascii=False),
            "spoken_to": json.dumps(c.get("spoken_to") or {}, ensure_ascii=False),
        })
    mention_counts: dict[tuple[Any, str], int] = {}
    for m in doc.get("mentions") or []:
        key = (m.get("character"), m["kind"])
        mention_counts[key] = mention_counts.get(key, 0) + 1
    relations = [
        {"story_id": sid, "a": r["a"], "b": r["b"], "a_name": names.get(r["a"]), "b_name": names.get(r["b"]),
         "kind": r.get("kind"), "weight": r.get("weight"), "evidence": len(r.get("evidence") or [])}
        for r in doc.get("relations") or []
    ]
    segments = [
        {"story_id": sid, "idx": i, "start": g["start"], "end": g["end"], "person": g["person"],
         "narrator": g.get("narrator")}
        for i, g in enumerate(narration.get("segments") or [])
    ]
    return {
        "stories": [story],
        "sections": sections,
        "quotes": quotes,
        "characters": characters,
        # Sorted so that the rows do not depend on the order mentions were found in.
        "mention_counts": [
            {"story_id": sid, "character": ch, "kind": kind, "count": n}
            for (ch, kind), n in sorted(mention_counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        ],
        "relations": relations,
        "narration": segments,
        "tags": tags,
    }


def tag_rows(story_id: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the tags table: the tags layer, plus the tags the source itself declares.

    A tag found both ways is kept once (by its match key), with the higher confidence.
    """
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def add(type_: str, name: Any, confidence: Any, origin: str, evidence: Any) -> None:
        if not isinstance(name, str) or not name.strip():
            return
        name = name.strip()
        key = (type_, tag_key(type_, name))
        conf = float(confidence) if isinstance(confidence, (int, float)) else None
        row = {"story_id": story_id, "type": type_, "name": name, "key": key[1], "confidence": conf,
               "origin": origin, "evidence": json.dumps(evidence or [])}
        old = found.get(key)
        if old is None or (conf or 0.0) > (old["confidence"] or 0.0):
            found[key] = row

    for type_, value in (doc.get("tags") or {}).items():
        for tag in value if isinstance(value, list) else [value]:
            if isinstance(tag, dict) and "name" in tag:
                add(type_, tag["name"], tag.get("confidence"), "inferred", tag.get("evidence"))
    declared = (doc.get("meta") or {}).get("declared") or {}
    for raw_key, value in declared.items():
        type_ = _DECLARED_KEYS.get(re.sub(r"[^a-z]", "", str(raw_key).lower()))
        if type_ is None:
            continue
        for name in _declared_values(value):
            add(type_, name, 1.0, "declared", [])
    # The rating is one tag: keep the most confident if the layer and the source disagree.
    ratings = [k for k in found if k[0] == "rating"]
    if len(ratings) > 1:
        best = max(ratings, key=lambda k: (found[k]["confidence"] or 0.0, found[k]["origin"] == "declared"))
        for k in ratings:
            if k != best:
                del found[k]
    order = {t: i for i, t in enumerate(TAG_TYPES)}
    return sorted(found.values(), key=lambda r: (order.get(r["type"], len(order)), r["type"], r["key"]))


def _declared_values(value: Any) -> list[str]:
    """A declared tag value: a string (AO3 tags never contain commas), a list, or tag dicts."""
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    if isinstance(value, dict):
        return [value["name"]] if isinstance(value.get("name"), str) else []
    if isinstance(value, (list, tuple)):  # already split by the reader: keep each item whole
        return [n for v in value for n in ([v.strip()] if isinstance(v, str) else _declared_values(v)) if n]
    return []


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
