"""The structure stage on the five seeds (offsets found at test time) and on original snippets."""
from __future__ import annotations

import re

import pytest

from ficlens.model import NON_STORY_KINDS, Source
from ficlens.read import story_from_text
from ficlens.stages.structure import StructureStage, split_blocks


def analyse(text: str, fmt: str = "txt", meta: dict | None = None):
    story = story_from_text(text, Source(path="t.txt", format=fmt), meta=meta)
    StructureStage()(story)
    return story


def section_at(story, offset: int):
    hits = [s for s in story.sections if s.start <= offset < s.end]
    assert len(hits) == 1, f"offset {offset} is in {len(hits)} sections"
    return hits[0]


def check_invariants(story):
    """Sections are in order, disjoint, trimmed, inside the text, and cover every non-blank char."""
    text = story.text
    prev_end = 0
    covered = 0
    for s in story.sections:
        assert 0 <= s.start <= s.end <= len(text)
        assert s.start >= prev_end
        prev_end = s.end
        chunk = text[s.start:s.end]
        if chunk.strip():
            assert chunk == chunk.strip(), f"section not trimmed: {chunk[:30]!r}"
            covered += sum(1 for c in chunk if not c.isspace())
        else:
            assert s.kind == "scene_break"  # a blank-line break spans whitespace only
    assert covered == sum(1 for c in text if not c.isspace())
    assert story.paragraphs == [(s.start, s.end) for s in story.sections if s.kind == "body"]


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


# --- seeds --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_seed_invariants(seed_text, n):
    story = analyse(seed_text(n))
    check_invariants(story)
    assert len(story.paragraphs) > 10


@pytest.mark.parametrize("n", [0, 3])
def test_seed_title_found(seed_text, n):
    story = analyse(seed_text(n))
    assert story.title == first_line(story.text)
    assert story.sections[0].kind == "title"
    assert story.sections[1].kind != "title"


@pytest.mark.parametrize("n", [1, 2, 4])
def test_seed_no_title_invented(seed_text, n):
    story = analyse(seed_text(n))
    assert story.title is None
    assert all(s.kind != "title" for s in story.sections)


def test_declared_title_wins(seed_text):
    story = analyse(seed_text(0), meta={"title": "Declared"})
    assert story.title == "Declared"


def test_seed0_end_note(seed_text):
    story = analyse(seed_text(0))
    at = story.text.find("Authors Note")
    assert at > 0
    note = section_at(story, at)
    assert note.kind == "author_note"
    # Everything after the marker is note too, and none of it is a body paragraph.
    after = [s for s in story.sections if s.start >= note.start]
    assert len(after) >= 2 and all(s.kind == "author_note" for s in after)
    assert all(e <= note.start for _, e in story.paragraphs)
    # The block right before the marker is story.
    before = [s for s in story.sections if s.end <= note.start]
    assert before[-1].kind == "body"


def test_seed3_pov_header_and_end_note(seed_text):
    story = analyse(seed_text(3))
    at = story.text.find("POV")
    pov = section_at(story, at)
    assert pov.kind == "pov_header"
    line = story.text[pov.start:pov.end]
    assert pov.label == re.match(r"[A-Za-z]+", line).group(0)  # the name before "'s POV"
    assert (pov.start, pov.end) not in story.paragraphs
    at = story.text.find("A/N")
    note = section_at(story, at)
    assert note.kind == "author_note" and note is story.sections[-1]
    assert all(e <= note.start for _, e in story.paragraphs)


def test_seed4_start_note_and_disclaimer(seed_text):
    story = analyse(seed_text(4))
    assert story.text.startswith("AN:")
    assert story.sections[0].kind == "author_note"
    disclaimer = section_at(story, story.text.find("Disclaimer"))
    assert disclaimer.kind == "disclaimer"
    assert story.sections[1] is disclaimer
    assert "disclaimer" in story.headers
    assert story.sections[2].kind == "body"
    assert story.paragraphs[0][0] == story.sections[2].start
    assert all(s.kind == "body" for s in story.sections[2:])


def test_seed1_single_newline_separates_paragraphs(seed_text):
    """Seed 001 is blank-line separated but has one place where two paragraphs share a newline."""
    story = analyse(seed_text(1))
    text = story.text
    singles = [m.start() for m in re.finditer(r"[^\n]\n(?=[^\n])", text)]
    assert singles, "expected a single-newline paragraph break in seed 001"
    for at in singles:
        a, b = section_at(story, at), section_at(story, at + 2)
        assert a is not b and a.kind == b.kind == "body"


def test_seed1_blank_runs_are_not_scene_breaks(seed_text):
    story = analyse(seed_text(1))
    assert re.search(r"\n\n\n", story.text)  # the double blank lines are there...
    assert all(s.kind == "body" for s in story.sections)  # ...and are not scene breaks


# --- original snippets ----------------------------------------------------------------------------------
HEADED = """Title: Lanterns Over the Harbour
Author: quietfox
Rating: T
Pairing: Nell/Ada
Summary: Two keepers of a lighthouse wait out a storm.
Disclaimer: I don't own the characters.

A/N: This is my first fic, so please be gentle! Reviews make me write faster.

Thanks to my beta for the help.

Chapter 1: The Storm

~Nell's POV~

The wind had not stopped for three days. Nell counted the gulls on the rail.

"We should check the lamp," Ada said.

* * *

Ada's POV

She climbed the stairs.

xXx

POV: Nell

The lamp was fine.

Author's Note: Sorry for the short chapter! I hope you enjoyed it anyway.

Next time they finally talk about the letter.

Chapter Two

The morning was grey.
"""


def test_headers_notes_pov_breaks_chapters():
    story = analyse(HEADED)
    check_invariants(story)
    kinds = [s.kind for s in story.sections]
    assert kinds == [
        "header", "header", "header", "header", "summary", "disclaimer",
        "author_note", "author_note", "chapter_heading", "pov_header", "body", "body",
        "scene_break", "pov_header", "body", "scene_break", "pov_header", "body",
        "author_note", "author_note", "chapter_heading", "body"]
    assert story.title == "Lanterns Over the Harbour"
    assert story.headers == {"title": "Lanterns Over the Harbour", "author": "quietfox", "rating": "T",
                             "pairing": "Nell/Ada",
                             "summary": "Two keepers of a lighthouse wait out a storm.",
                             "disclaimer": "I don't own the characters."}
    assert [s.label for s in story.sections if s.kind == "pov_header"] == ["Nell", "Ada", "Nell"]
    assert [s.label for s in story.sections if s.kind == "chapter_heading"] == [
        "Chapter 1: The Storm", "Chapter Two"]
    assert story.body_words() == len(
        "The wind had not stopped for three days. Nell counted the gulls on the rail. "
        "\"We should check the lamp,\" Ada said. She climbed the stairs. The lamp was fine. "
        "The morning was grey.".split())


@pytest.mark.parametrize("line,label", [
    ("Derek's POV:", "Derek"), ("Meredith POV", "Meredith"), ("~Mer's POV~", "Mer"),
    ("POV: Derek", "Derek"), ("*Derek's POV*", "Derek"), ("Derek POV", "Derek"), ("-Mer's POV-", "Mer"),
])
def test_pov_header_spellings(line, label):
    story = analyse(f"The hall was quiet.\n\n{line}\n\nShe waited by the door.\n")
    assert story.sections[1].kind == "pov_header"
    assert story.sections[1].label == label


@pytest.mark.parametrize("line", ["***", "* * *", "~~~", "xXx", "oOo", "XxXxX", "----", "______",
                                  "====", "~*~", "+++", "#", "-o-o-o-", "Line Break"])
def test_scene_break_spellings(line):
    story = analyse(f"The hall was quiet.\n\n{line}\n\nShe waited by the door.\n")
    assert [s.kind for s in story.sections] == ["body", "scene_break", "body"]


@pytest.mark.parametrize("line", ["Chapter 1", "Chapter One: The Letter", "CHAPTER 12", "Part 2",
                                  "Prologue", "Epilogue", "Chapter 3 - Rain", "IV"])
def test_chapter_heading_spellings(line):
    story = analyse(f"The hall was quiet.\n\n{line}\n\nShe waited by the door.\n")
    assert story.sections[1].kind == "chapter_heading"


@pytest.mark.parametrize("line", ["Part of me wanted to stay.", "Chapter two was missing from the book.",
                                  "Book in hand, she left."])
def test_prose_starting_like_a_heading_stays_body(line):
    story = analyse(f"The hall was quiet.\n\n{line}\n\nShe waited by the door.\n")
    assert [s.kind for s in story.sections] == ["body", "body", "body"]


@pytest.mark.parametrize("marker", ["A/N:", "AN:", "A/N -", "Author's Note:", "Authors Note:",
                                    "-Authors Note-", "(A/N", "[A/N:", "Note:"])
def test_note_marker_spellings(marker):
    story = analyse(f"The hall was quiet.\n\nShe waited by the door.\n\n{marker} thanks for reading!\n")
    assert [s.kind for s in story.sections] == ["body", "body", "author_note"]


def test_na_is_not_a_note():
    story = analyse("N/A was all the form said.\n\nShe signed it anyway.\n")
    assert [s.kind for s in story.sections] == ["body", "body"]


def test_note_between_scenes_stops_at_story():
    text = ("Nobody went to school that day.\n\n"
            "A/N: a quick note here, the next part skips ahead a week. Thanks for the reviews!\n\n"
            "Hope you like it.\n\n"
            "\"Ready?\" she asked.\n\n"
            "He nodded and they went out into the cold.\n")
    story = analyse(text)
    assert [s.kind for s in story.sections] == ["body", "author_note", "author_note", "body", "body"]


def test_unmarked_note_at_start_and_sign_off():
    text = ("Hi everyone! Sorry this took so long to update, school has been crazy lol. "
            "Thanks for all the reviews :)\n\n"
            "The rain came down on the roof of the barn, and Tom listened to it for a long while.\n\n"
            "\"Wake up,\" said his father.\n\n"
            "Please review!\n")
    story = analyse(text)
    assert [s.kind for s in story.sections] == ["author_note", "body", "body", "author_note"]
    assert story.title is None


def test_disclaimer_without_the_word():
    text = ("I don't own any of these characters, sadly.\n\n"
            "The rain came down on the roof of the barn.\n\nTom slept.\n")
    story = analyse(text)
    assert [s.kind for s in story.sections] == ["disclaimer", "body", "body"]


def test_everyday_ownership_words_are_not_disclaimers():
    text = ("The farm belongs to my uncle now.\n\nIt was the property of his father before him.\n\n"
            "Nobody remembers who owned it first.\n")
    story = analyse(text)
    assert all(s.kind == "body" for s in story.sections)


@pytest.mark.parametrize("first", ["Except everything had changed.", "\"Are you coming?\"",
                                   "March...ugh.", "He ran. She followed."])
def test_no_title_from_prose(first):
    story = analyse(f"{first}\n\nThe rain came down on the roof of the barn.\n")
    assert story.title is None
    assert story.sections[0].kind == "body"


def test_single_newline_paragraphs_with_blank_line_break():
    text = ("The kettle screamed in the empty kitchen.\nMara did not move to take it off.\n"
            "\"Are you going to get that?\" her brother asked from the doorway.\n\"No.\"\n\n"
            "The next morning the kettle was gone.\nShe never asked where it went.\n")
    story = analyse(text)
    check_invariants(story)
    assert [s.kind for s in story.sections] == ["body"] * 4 + ["scene_break"] + ["body"] * 2


def test_no_blank_lines_means_one_paragraph_per_line():
    text = "Line one of the story.\nLine two of the story.\nLine three of the story.\n"
    blocks, breaks = split_blocks(text)
    assert [text[b.start:b.end] for b in blocks] == [
        "Line one of the story.", "Line two of the story.", "Line three of the story."]
    assert breaks == []


def test_hard_wrapped_text_keeps_paragraphs_whole():
    para = ("It was a long morning and the fog lay over the river so thickly that\n"
            "the boats kept to the banks, and the men who worked them called to one\n"
            "another across the water in voices that carried strangely far, as\n"
            "voices will in fog, and then fell silent again for a long while.\n")
    text = "\n".join([para] * 4)
    story = analyse(text)
    assert len(story.paragraphs) == 4
    s, e = story.paragraphs[0]
    assert story.text[s:e] == para.strip()


def test_wrapped_header_block_is_split():
    body = ("It was a long morning and the fog lay over the river so thickly that\n"
            "the boats kept to the banks, and the men who worked them called to one\n"
            "another across the water in voices that carried strangely far.\n")
    text = "Title: River Fog\nAuthor: someone\n\n" + "\n".join([body] * 3)
    story = analyse(text)
    assert [s.kind for s in story.sections[:2]] == ["header", "header"]
    assert story.headers == {"title": "River Fog", "author": "someone"}


def test_empty_and_blank_text():
    for text in ("", "   \n\n  \n"):
        story = analyse(text)
        assert story.sections == [] and story.paragraphs == [] and story.title is None


def test_pdnc_novel_chapters_not_eaten(shared_dir):
    """A novel's chapter headings are headings and nothing else is taken out of the story."""
    path = shared_dir / "data" / "pdnc" / "data" / "PrideAndPrejudice" / "novel_text.txt"
    if not path.exists():
        pytest.skip("PDNC not present")
    story = analyse(path.read_text(encoding="utf-8"))
    kinds = {s.kind for s in story.sections}
    assert kinds <= {"body", "chapter_heading", "scene_break"}
    headings = [s for s in story.sections if s.kind == "chapter_heading"]
    assert len(headings) == len(re.findall(r"(?m)^[ \t]*(?:chapter|vol\.) [ivxlc]+\.?[ \t]*$", story.text, re.I))
    non_story = sum(s.end - s.start for s in story.sections if s.kind in NON_STORY_KINDS)
    assert non_story < 0.01 * len(story.text)
