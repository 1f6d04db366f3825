"""An AO3-style tag block a person can paste into AO3's posting form or a story's header."""
from __future__ import annotations

from ..model import Story

FIELDS = (("Rating", "rating"), ("Archive Warning", "warnings"), ("Category", "category"),
          ("Fandom", "fandoms"), ("Relationship", "relationships"), ("Characters", "characters"),
          ("Additional Tags", "freeform"), ("Language", "language"), ("Words", "words"))


def tag_block(story: Story, *, with_confidence: bool = False) -> str:
    lines = []
    for label, key in FIELDS:
        value = story.tags.get(key)
        if value in (None, [], ""):
            continue
        if isinstance(value, dict):
            value = [value]
        if isinstance(value, list):
            text = ", ".join(
                f"{t['name']} ({t['confidence']:.0%})" if with_confidence else t["name"] for t in value)
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = str(value)
        lines.append(f"{label}: {text}")
    return "\n".join(lines)
