"""Original stories and hand-attributed Story builders for the web tests (no seed text here)."""
from __future__ import annotations

import hashlib
from pathlib import Path

PLAIN_STORIES = {
    "ferry.txt": (
        "The Night Ferry\n\n"
        "The ferry left at midnight, and Odile was the only passenger who stayed on deck.\n\n"
        '"You will catch your death out here," the deckhand warned her.\n\n'
        '"Then I will catch it looking at the stars," Odile said, and pulled her scarf tighter.\n'
    ),
    "kettle.txt": (
        "I put the kettle on before I noticed the letter under the door. The envelope was blue, "
        "and the handwriting was my brother's.\n\n"
        '"Read it later," I told myself. "Tea first."\n\n'
        "I read it standing at the stove while the water boiled over.\n"
    ),
}
# Markup and attribute-breaking quotes that must show as text, never run.
HOSTILE_NAME = "hostile.txt"
HOSTILE = (
    'Title: <script>alert("title")</script>\n'
    'Author: "><img src=x onerror=alert(5)>\n\n'
    '"Hello there," said Quill. "\\"><img src=x onerror=alert(1)>"\n\n'
    "She chalked <b>bold</b> & <i>brave</i> words on the wall. </p><script>alert(2)</script>\n"
)

HARBOR = """Harbor Lights

"You kept the lamp burning," Ada said to Rowan, shaking the rain from her coat.

"Somebody had to," he replied. "The boats were late again."

Ada took his hand. "I missed you."
"""

CLOCK = """The Clockmaker's Apprentice

Ilse oiled the smallest gear while Pim watched from the stool.

"Steady hands," Pim said. "That is the whole trick."

"And patience," Ilse answered, without looking up.
"""


def _tag(name, confidence, evidence, **extra):
    return {"name": name, "confidence": confidence, "evidence": [list(e) for e in evidence], **extra}


def _span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def attributed_story(text: str, *, name: str, cast: list[dict], speakers: list[tuple], relation: tuple,
                     fandom: str):
    """A story through the real structure and quote stages, then speakers, cast, one relation and the
    tags filled by hand. speakers: (speaker id, addressee ids, kind, confidence, evidence text) per quote.
    relation: (a, b, kind, evidence text)."""
    from ficlens.api import analyze_text
    from ficlens.model import Character, Relation

    story = analyze_text(text, name=name, until="quotes")
    assert len(story.quotes) == len(speakers), [story.text[q.start:q.end] for q in story.quotes]
    story.characters = [Character(**c) for c in cast]
    for q, (sid, to, kind, conf, ev) in zip(story.quotes, speakers):
        q.speaker, q.addressees, q.kind, q.confidence = sid, list(to), kind, conf
        q.evidence = _span(story.text, ev) if ev else None
    a, b, kind, ev_text = relation
    ev = _span(story.text, ev_text)
    story.relations = [Relation(a=a, b=b, kind=kind, weight=4.0, evidence=[ev])]
    names = {c["id"]: c["name"] for c in cast}
    sep = "/" if kind == "romantic" else " & "
    rel_name = sep.join(sorted((names[a], names[b])))
    story.tags = {
        "rating": _tag("General Audiences", 0.7, []),
        "warnings": [_tag("No Archive Warnings Apply", 0.6, [])],
        "category": [_tag("F/M" if kind == "romantic" else "Gen", 0.8, [ev] if kind == "romantic" else [])],
        "fandoms": [_tag(fandom, 0.9, [])],
        "relationships": [_tag(rel_name, 0.7, [ev], kind=kind, characters=[a, b])],
        "characters": [_tag(c["name"], 0.8, []) for c in cast],
        "freeform": [],
        "words": story.body_words(),
        "language": "English",
    }
    story.layers |= {"characters", "attribution", "relations", "tags"}
    return story


def harbor_story():
    return attributed_story(
        HARBOR, name="harbor.txt", fandom="Lighthouse Tales",
        cast=[{"id": "ada", "name": "Ada Finch", "aliases": ["Ada"], "gender": "female",
               "counts": {"mentions": 2, "lines": 2, "words": 8}, "spoken_to": {"rowan": 2}},
              {"id": "rowan", "name": "Rowan Vale", "aliases": ["Rowan", "he"], "gender": "male",
               "counts": {"mentions": 2, "lines": 1, "words": 8}, "spoken_to": {"ada": 1}}],
        speakers=[("ada", ["rowan"], "explicit", 0.94, "Ada said to Rowan"),
                  ("rowan", ["ada"], "anaphoric", 0.72, "he replied"),
                  ("rowan", ["ada"], "anaphoric", 0.72, "he replied"),
                  ("ada", ["rowan"], "implicit", 0.51, None)],
        relation=("ada", "rowan", "romantic", "Ada took his hand."),
    )


def clock_story():
    return attributed_story(
        CLOCK, name="clock.txt", fandom="Clockwork Tales",
        cast=[{"id": "ilse", "name": "Ilse Brandt", "aliases": ["Ilse"], "gender": "female",
               "counts": {"mentions": 2, "lines": 1, "words": 2}, "spoken_to": {"pim": 1}},
              {"id": "pim", "name": "Pim", "gender": "male",
               "counts": {"mentions": 2, "lines": 2, "words": 7}, "spoken_to": {"ilse": 2}}],
        speakers=[("pim", ["ilse"], "explicit", 0.9, "Pim said"),
                  ("pim", ["ilse"], "explicit", 0.9, "Pim said"),
                  ("ilse", ["pim"], "explicit", 0.88, "Ilse answered")],
        relation=("ilse", "pim", "platonic", "Ilse oiled the smallest gear while Pim watched from the stool."),
    )


def store_stories(store_path: Path, stories) -> list[str]:
    """Write hand-built Story objects into a store the way a corpus run does."""
    from ficlens.corpus import Store
    from ficlens.corpus.work import Task, ok_result

    results = [ok_result(Task(name=s.source.path, data=b"", sha=hashlib.sha256(s.source_text.encode()).hexdigest()), s)
               for s in stories]
    with Store(store_path) as store:
        run_id = store.begin_run(engine="test", workers=0, sources=[s.source.path for s in stories])
        out = store.write_results(results, run_id=run_id)
        store.end_run(run_id, stories=out.stories, skipped=0, errors=out.errors, words=out.words)
    return [s.id for s in stories]
