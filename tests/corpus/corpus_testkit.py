"""Small original stories and light pipelines for the corpus tests (imported by spawned workers too)."""
from __future__ import annotations

import os
import time
from pathlib import Path

# Ten short stories written for these tests: varied person, dialogue, headers and length.
STORIES = {
    "harbour.txt": (
        "Title: The Harbour Light\nFandom: Lighthouse Keepers\nRating: General Audiences\n\n"
        "The fog came in early that evening, and Marta climbed the tower with the oil can swinging at her hip.\n\n"
        '"You will freeze up there," her brother called from the yard.\n\n'
        '"Then bring me the blue blanket," Marta answered, "and stop shouting at the gulls."\n\n'
        "He laughed, but he brought the blanket, and they watched the lamp turn until the boats came home.\n"
    ),
    "orchard.txt": (
        "I never meant to stay in the orchard past sunset. The pears were heavy and the ladder was old, "
        "and I kept telling myself one more branch.\n\n"
        '"Are you coming down?" Jonah asked from the grass.\n\n'
        '"When the basket is full," I said.\n\n'
        "He sat there until the stars came out, peeling a pear with his pocket knife, saying nothing at all.\n"
    ),
    "letters.txt": (
        "You open the drawer and the letters are still there, tied with a green ribbon you do not remember buying.\n\n"
        "You read the first one standing up. By the third you are sitting on the floor.\n\n"
        '"Who wrote these?" you ask the empty room, and the radiator ticks back at you.\n'
    ),
    "station.txt": (
        "Title: Last Train\nRating: Teen And Up Audiences\n\n"
        "The platform clock said eleven forty when Priya finally ran out of excuses.\n\n"
        '"I\'m not getting on," she told Leo.\n\n'
        '"You bought the ticket," Leo said. "You bought it three weeks ago."\n\n'
        '"People buy gym memberships too," Priya said, and the train doors sighed shut behind them both.\n'
    ),
    "bakery.txt": (
        "The bakery on Keller Street opened at five, which was why Oskar had stopped sleeping.\n\n"
        '"Rye or spelt?" asked the woman behind the counter, already reaching for the rye.\n\n'
        '"Surprise me," said Oskar.\n\n'
        "She gave him a cinnamon knot instead, and he ate it on the walk to the river, smiling like a fool.\n"
    ),
    "storm.txt": (
        "Thunder rolled over the valley for the third night running. The goats refused to leave the barn, "
        "and nobody could blame them.\n\n"
        '"We need to fix the roof before the rain gets worse," said Ines.\n\n'
        '"In this wind?" her father said. "We would fly to the next county."\n\n'
        "So they sat up with a lantern and a bucket, listening to the water find its way in.\n"
    ),
    "chess.txt": (
        "Title: Endgame\nFandom: Chess Club Chronicles\n\n"
        "Walter had not lost a game in the library since March, and he wanted everyone to know it.\n\n"
        '"Check," said the new girl, moving her bishop without looking up.\n\n'
        "Walter stared at the board for a long time. Then he tipped his king over and asked her name.\n\n"
        '"Dagny," she said. "Same time next week?"\n'
    ),
    "garden.txt": (
        "My grandmother grew tomatoes the size of fists and talked to every one of them. I thought it was "
        "silly until the summer I tried it myself.\n\n"
        '"Grow," I whispered to the smallest plant. "Please."\n\n'
        "It did. I told nobody, not even my sister, who would have laughed until she cried.\n"
    ),
    "comet.txt": (
        "The comet was supposed to be visible from the hill after midnight, so Ruth packed sandwiches and "
        "two flasks of tea.\n\n"
        '"It\'s cloudy," said Bram, squinting.\n\n'
        '"It\'ll clear," said Ruth.\n\n'
        "It did not clear. They ate the sandwiches anyway and argued about whether comets had tails or hair.\n"
    ),
    "ferry.txt": (
        "The ferry was late, the coffee was cold, and Tomas had forgotten the address of the wedding.\n\n"
        '"Just follow the people in hats," suggested a stranger in a very large hat.\n\n'
        "Tomas followed the hats. They led him to the wrong wedding, which turned out to be a better party.\n"
    ),
}

# Ten more for the kill test (twenty in all).
EXTRA_STORIES = {
    f"extra_{i:02d}.txt": (
        f"Chapter {i}\n\n"
        f"On the {i}th day of the expedition, the cartographer counted {i + 3} herons on the marsh.\n\n"
        f'"Write it down," said the captain. "Every heron matters, number {i}."\n\n'
        "The cartographer wrote it down and drew a small bird beside the number, because she liked herons.\n"
    )
    for i in range(1, 11)
}


def write_stories(folder: Path, stories: dict[str, str] = STORIES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in stories.items():
        p = folder / name
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


# A marker that makes `light_pipeline` hang or crash on purpose (for the timeout and crash tests).
HANG = "HANG-THIS-WORKER"    # sleeps: only killing the process stops it
SPIN = "SPIN-THIS-WORKER"    # loops in Python: an in-process timeout stops it too
CRASH = "CRASH-THIS-WORKER"
BOOM = "BOOM-THIS-STAGE"      # raises an unexpected exception (a bug in a stage)


class _FaultStage:
    """A stage that hangs (sleeps far past any timeout) or kills its process when the text says so."""

    name = "fault"
    requires = ("sections",)
    assigns = ()

    def __call__(self, story) -> None:
        if HANG in story.text:
            time.sleep(300)
        if SPIN in story.text:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                pass
        if CRASH in story.text:
            os._exit(3)
        if BOOM in story.text:
            raise KeyError("a bug in a stage")

    def pipe(self, stories) -> None:
        for s in stories:
            self(s)


def light_pipeline():
    """Structure and quotes only (no spaCy, so a worker starts in well under a second), plus faults."""
    from ficlens.pipeline import Pipeline
    from ficlens.stages.quotes import QuoteStage
    from ficlens.stages.structure import StructureStage

    return Pipeline([StructureStage(), QuoteStage(), _FaultStage()])


LIGHT = "corpus_testkit:light_pipeline"


def tag(name: str, confidence: float = 0.9) -> dict:
    return {"name": name, "confidence": confidence, "evidence": []}


def synthetic_doc(sid: str, text: str, *, title=None, fandoms=(), relationships=(), characters=(), rating=None,
                  warnings=(), category=(), freeform=(), pov=None, reader_insert=False, cast=(), lines=(),
                  declared=None) -> dict:
    """A per-story JSON document (schema ficlens/1) built by hand, as `story_to_dict` would give it.

    cast: (id, name, aliases, gender) tuples; lines: (speaker id or None, quoted phrase) whose
    phrase must occur in `text` (quotes are located by offset).
    """
    quotes, pos = [], 0
    for n, (speaker, phrase) in enumerate(lines):
        start = text.index(phrase, pos)
        pos = start + len(phrase)
        quotes.append({"id": n, "start": start, "end": pos, "text": phrase, "utterance": n, "closed": True,
                       "speaker": speaker, "addressees": [], "kind": "explicit" if speaker else None,
                       "confidence": 0.8 if speaker else None, "evidence": None})
    tags = {}
    if rating:
        tags["rating"] = tag(rating)
    for key, values in (("warnings", warnings), ("category", category), ("fandoms", fandoms),
                        ("relationships", relationships), ("characters", characters), ("freeform", freeform)):
        if values:
            tags[key] = [tag(v) for v in values]
    return {
        "schema": "ficlens/1", "ficlens_version": "test", "id": sid,
        "source": {"path": f"/corpus/{sid}.txt", "format": "txt", "encoding": "utf-8"},
        "meta": {"title": title, "author": None, "summary": None, "declared": declared or {}, "headers": {}},
        "stats": {"words": len(text.split()), "paragraphs": text.count("\n\n") + 1, "quotes": len(quotes)},
        "layers": ["sections", "quotes", "characters", "narration", "tags"],
        "sections": [{"kind": "body", "start": 0, "end": len(text), "label": None}],
        "quotes": quotes,
        "mentions": [{"start": 0, "end": 1, "kind": "name", "character": c[0]} for c in cast],
        "characters": [{"id": c[0], "name": c[1], "aliases": list(c[2]), "gender": c[3], "gender_evidence": [],
                        "canon": None, "mentioned_only": False,
                        "counts": {"lines": sum(1 for s, _ in lines if s == c[0])}, "spoken_to": {}}
                       for c in cast],
        "narration": {"person": pov, "narrator": None, "reader_insert": reader_insert,
                      "segments": [{"start": 0, "end": len(text), "person": pov, "narrator": None}] if pov else []},
        "relations": [],
        "tags": tags,
    }


def synthetic_result(doc: dict, text: str) -> dict:
    """What a worker returns for this document (see ficlens.corpus.work.ok_result)."""
    from ficlens.corpus.rows import story_rows

    return {"path": doc["source"]["path"], "sha": doc["id"] * 4, "story_id": doc["id"],
            "words": doc["stats"]["words"], "rows": story_rows(doc, text=text, source_text=text)}


def library() -> list[tuple[dict, str]]:
    """Five hand-made analysed stories with tags, cast and attributed lines (for store/query/stats tests)."""
    a_text = ('"I need you to stay," Meredith said. "Just tonight."\n\n'
              'Derek looked at the ferry lights. "I was always going to stay."\n\n'
              "They sat on the porch until the hospital paged them both.")
    b_text = ('You walk into the lab and Cristina does not look up. "Sit," she says. "Hold this retractor."\n\n'
              "You hold it. The elevator dings somewhere behind you.")
    c_text = ('"The elevator is broken again," said Alex.\n\n"Take the stairs," said Izzie. "Like everyone else."\n\n'
              '"Stairs are for interns," Alex said.')
    d_text = ('Harry found the map folded in the wrong book.\n\n"Mischief," Hermione read aloud, frowning. '
              '"What does that even mean?"\n\n"Trouble," said Harry. "It means trouble."')
    e_text = "The lighthouse keeper wrote in the log every night, and nobody ever said a word to her."
    gray = "Grey's Anatomy"
    meredith = ("c1", "Meredith Grey", ["Meredith", "Mer"], "female")
    derek = ("c2", "Derek Shepherd", ["Derek", "McDreamy"], "male")
    return [
        (synthetic_doc("aaaa000000000001", a_text, title="Stay", fandoms=[gray],
                       relationships=["Derek Shepherd/Meredith Grey"], characters=["Meredith Grey", "Derek Shepherd"],
                       rating="Explicit", category=["F/M"], pov="third", cast=[meredith, derek],
                       lines=[("c1", '"I need you to stay,"'), ("c1", '"Just tonight."'),
                              ("c2", '"I was always going to stay."')]), a_text),
        (synthetic_doc("aaaa000000000002", b_text, title="Retractor", fandoms=[gray],
                       relationships=["Cristina Yang & Reader"], rating="Teen And Up Audiences", category=["Gen"],
                       pov="second", reader_insert=True, cast=[("c1", "Cristina Yang", ["Cristina"], "female")],
                       lines=[("c1", '"Sit,"'), ("c1", '"Hold this retractor."')]), b_text),
        (synthetic_doc("aaaa000000000003", c_text, title="Elevator", fandoms=[gray],
                       relationships=["Alex Karev/Izzie Stevens"], rating="General Audiences", category=["F/M"],
                       pov="third", warnings=["No Archive Warnings Apply"],
                       cast=[("c1", "Alex Karev", ["Alex"], "male"), ("c2", "Izzie Stevens", ["Izzie"], "female")],
                       lines=[("c1", '"The elevator is broken again,"'), ("c2", '"Take the stairs,"'),
                              ("c2", '"Like everyone else."'), ("c1", '"Stairs are for interns,"')]), c_text),
        (synthetic_doc("aaaa000000000004", d_text, title="Mischief", fandoms=["Harry Potter - J. K. Rowling"],
                       relationships=["Harry Potter & Hermione Granger"], rating="General Audiences", pov="third",
                       category=["Gen"], freeform=["Friendship"],
                       cast=[("c1", "Harry Potter", ["Harry"], "male"), ("c2", "Hermione Granger", ["Hermione"], "female")],
                       lines=[("c2", '"What does that even mean?"'), ("c1", '"Trouble,"'),
                              (None, '"It means trouble."')]), d_text),
        (synthetic_doc("aaaa000000000005", e_text, title="Log", pov="third",
                       declared={"Fandom": "Lighthouse Keepers", "Rating": "General Audiences"}), e_text),
    ]
