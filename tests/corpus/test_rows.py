"""Rows derived from the per-story JSON: generic over layers, tolerant of empty ones."""
from __future__ import annotations

import json

from corpus_testkit import library, synthetic_doc

from ficlens.corpus.rows import story_rows, tag_key, tag_rows


def test_tag_key_folds_case_space_and_relationship_order():
    assert tag_key("relationships", "Derek Shepherd/Meredith Grey") == "derek shepherd/meredith grey"
    assert tag_key("relationships", "Meredith  Grey / Derek Shepherd") == "derek shepherd/meredith grey"
    assert tag_key("relationships", "Harry Potter & Hermione Granger") == "harry potter & hermione granger"
    assert tag_key("relationships", "Hermione Granger & Harry Potter") == "harry potter & hermione granger"
    # Romantic and platonic pairs of the same people stay different tags.
    assert tag_key("relationships", "A/B") != tag_key("relationships", "A & B")
    assert tag_key("fandoms", "  Grey's   Anatomy ") == "grey's anatomy"


def test_rows_of_a_document_with_every_layer():
    doc, text = library()[0]
    rows = story_rows(doc, text=text, source_text=text)
    (story,) = rows["stories"]
    assert story["id"] == "aaaa000000000001" and story["title"] == "Stay"
    assert story["fandoms"] == ["Grey's Anatomy"] and story["rating"] == "Explicit"
    assert story["relationships"] == ["Derek Shepherd/Meredith Grey"] and story["pov"] == "third"
    assert story["source_text"] is None  # equal to text: stored once
    assert json.loads(story["document"]) == doc
    quotes = rows["quotes"]
    assert [(q["speaker_name"], q["words"]) for q in quotes] == [
        ("Meredith Grey", 5), ("Meredith Grey", 2), ("Derek Shepherd", 6)]
    assert all(text[q["start"]:q["end"]] == q["text"] for q in quotes)
    assert story["quotes"] == 3 and story["dialogue_words"] == 13
    assert [(c["name"], c["gender"], c["lines"]) for c in rows["characters"]] == [
        ("Meredith Grey", "female", 2), ("Derek Shepherd", "male", 1)]
    assert {(m["character"], m["kind"], m["count"]) for m in rows["mention_counts"]} == {
        ("c1", "name", 1), ("c2", "name", 1)}
    assert [(t["type"], t["name"], t["origin"]) for t in rows["tags"]] == [
        ("rating", "Explicit", "inferred"), ("category", "F/M", "inferred"),
        ("fandoms", "Grey's Anatomy", "inferred"), ("relationships", "Derek Shepherd/Meredith Grey", "inferred"),
        ("characters", "Derek Shepherd", "inferred"), ("characters", "Meredith Grey", "inferred")]


def test_empty_layers_give_no_rows_but_a_story_row():
    text = "Just one sentence, nothing else."
    doc = synthetic_doc("bbbb000000000001", text)
    doc["characters"], doc["tags"], doc["mentions"] = [], {}, []
    rows = story_rows(doc, text=text, source_text=text)
    assert len(rows["stories"]) == 1
    assert rows["stories"][0]["rating"] is None and rows["stories"][0]["fandoms"] == []
    assert all(rows[t] == [] for t in ("quotes", "characters", "mention_counts", "relations", "tags", "narration"))


def test_declared_tags_join_the_layer_once():
    text = "A quiet story."
    doc = synthetic_doc("cccc000000000001", text, fandoms=["Lighthouse Keepers"], rating="Mature",
                        declared={"Fandom": "lighthouse keepers, Sea Shanties", "Rating": "Explicit",
                                  "Relationships": ["Anna/Bo", "Cy & Di"], "Words": "12"})
    tags = {(t["type"], t["key"]): t for t in tag_rows(doc["id"], doc)}
    # The same fandom from both places is one row, the more confident (declared = 1.0) one.
    assert tags[("fandoms", "lighthouse keepers")]["origin"] == "declared"
    assert ("fandoms", "sea shanties") in tags
    assert {k for k in tags if k[0] == "relationships"} == {("relationships", "anna/bo"), ("relationships", "cy & di")}
    # One rating only: the declared one wins over the inferred guess.
    assert [t["name"] for t in tags.values() if t["type"] == "rating"] == ["Explicit"]


def test_source_text_kept_when_normalization_changed_it():
    source = "He said \u201chi\u201d.\r\nShe left."
    text = 'He said "hi".\nShe left.'
    doc = synthetic_doc("dddd000000000001", text)
    rows = story_rows(doc, text=text, source_text=source)
    assert rows["stories"][0]["text"] == text and rows["stories"][0]["source_text"] == source
