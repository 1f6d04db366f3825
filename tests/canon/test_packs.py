"""Canon packs: every shipped pack validates; fandom detection and canonical lookups."""
from __future__ import annotations

import tomllib

import pytest

from ficlens.canon import (NO_FANDOM_NOTE, PACK_DIR, detect_fandoms, form_index, known_relationships,
                           load_packs, match_fandom_name, norm, phrase_forms, validate_file,
                           validate_pack)
from ficlens.names import given_names

COMMON = frozenset(given_names())


def test_every_shipped_pack_validates():
    files = sorted(PACK_DIR.glob("*.toml"))
    assert len(files) >= 12
    for path in files:
        assert validate_file(path) == [], path.name


def test_packs_load_with_their_ao3_names():
    packs = load_packs()
    assert packs["greys-anatomy"].name == "Grey's Anatomy"
    assert packs["criminal-minds"].name == "Criminal Minds (US TV)"
    for pack in packs.values():
        assert 8 <= len(pack.characters) <= 30, pack.id


def test_validator_reports_problems():
    data = tomllib.loads((PACK_DIR / "criminal_minds.toml").read_text(encoding="utf-8"))
    assert validate_pack(data) == []
    data["id"] = "Criminal Minds"
    data["characters"][0]["gender"] = "m"
    data["characters"][1]["id"] = data["characters"][0]["id"]
    data["relationships"].append({"name": "Derek Morgan/Nobody Here"})
    data["relationships"].append({"name": "Derek Morgan and Penelope Garcia"})
    data["address"] = [{"by": "derek-morgan", "to": "no-such-person", "names": ["Kid"]}]
    data["colour"] = "blue"
    problems = "\n".join(validate_pack(data))
    assert "lowercase letters" in problems
    assert "gender 'm'" in problems
    assert "duplicate id" in problems
    assert "'Nobody Here' is not the name" in problems
    assert "must read 'A/B'" in problems
    assert "'no-such-person' is not a character id" in problems
    assert "unknown key 'colour'" in problems
    assert validate_pack({}) and validate_pack([]) == ["a pack must be a table"]


def test_validate_file_reports_bad_toml(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nname = \n', encoding="utf-8")
    assert "not valid TOML" in validate_file(bad)[0]
    assert "cannot be read" in validate_file(tmp_path / "missing.toml")[0]


def test_lookups_prefer_explicit_aliases_over_name_parts():
    greys = load_packs()["greys-anatomy"]
    assert greys.resolve("Grey") == ("meredith-grey", "alias")  # not Ellis or Lexie Grey
    assert greys.resolve("Ellis Grey") == ("ellis-grey", "full")
    assert greys.resolve("Shep")[0] == "derek-shepherd"
    assert greys.resolve("Mer")[0] == "meredith-grey"
    assert load_packs()["criminal-minds"].resolve("Derek")[0] == "derek-morgan"
    assert load_packs()["naruto"].resolve("Sasuke-kun")[0] == "uchiha-sasuke"  # honorific suffix
    assert load_packs()["supernatural"].resolve("Winchester") is None  # Dean, Sam, John, Mary


def test_phrase_forms_and_index():
    assert ("baby", "girl") in phrase_forms()["baby"]
    assert {pid for pid, _, _ in form_index()[norm("Derek")]} >= {"greys-anatomy", "criminal-minds", "teen-wolf"}


def test_known_relationships_use_ao3_spelling():
    rels = known_relationships()
    assert "Derek Shepherd/Meredith Grey" in rels
    assert "Derek Morgan/Penelope Garcia" in rels
    assert "Derek Morgan & Penelope Garcia" in rels


def test_match_fandom_name():
    assert match_fandom_name("Criminal Minds") == "criminal-minds"
    assert match_fandom_name("Criminal Minds (US TV)") == "criminal-minds"
    assert match_fandom_name("grey's anatomy") == "greys-anatomy"
    assert match_fandom_name("My Hero Academia") == "my-hero-academia"
    assert match_fandom_name("Some Unknown Show") is None


def spans(*surfaces: str) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for k, s in enumerate(surfaces):
        out.setdefault(s, []).append((10 * k, 10 * k + len(s)))
    return out


def test_one_ambiguous_first_name_is_no_fandom():
    assert detect_fandoms(spans("Derek", "Derek", "Ali", "Mike"), common_given_names=COMMON) == []
    assert NO_FANDOM_NOTE


def test_specific_names_pick_the_fandom():
    greys = detect_fandoms(spans("Derek", "Meredith", "Mer", "Mark", "Shep", "Grey"), common_given_names=COMMON)
    assert [g.pack for g in greys] == ["greys-anatomy"]
    assert set(greys[0].characters) == {"derek-shepherd", "meredith-grey", "mark-sloan"}
    cm = detect_fandoms(spans("Derek", "Penelope", "Baby Girl"), common_given_names=COMMON)
    assert [g.pack for g in cm] == ["criminal-minds"]
    assert cm[0].name == "Criminal Minds (US TV)"
    # Evidence points at the mentions that matched.
    assert (0, 5) in cm[0].evidence and (20, 29) in cm[0].evidence


def test_a_crossover_keeps_both_and_explains_each_name_once():
    found = detect_fandoms(spans("Dean Winchester", "Castiel", "Sammy", "Sherlock Holmes", "John Watson", "Mycroft"),
                           common_given_names=COMMON)
    assert {g.pack for g in found} == {"supernatural", "sherlock"}


def test_notes_and_declared_metadata():
    notes = [(100, "Disclaimer: I do not own Grey's Anatomy.")]
    found = detect_fandoms(spans("Derek"), notes=notes, common_given_names=COMMON)
    assert found[0].pack == "greys-anatomy" and "notes" in found[0].sources
    assert (125, 139) in found[0].evidence
    declared = detect_fandoms({}, declared=["Criminal Minds (US TV)"])
    assert declared[0].pack == "criminal-minds" and declared[0].confidence == pytest.approx(0.99)
    # A weak alias (a common word) counts only beside names from the pack.
    assert detect_fandoms({}, notes=[(0, "A Supernatural AU.")]) == []
    weak = detect_fandoms(spans("Dean", "Cas"), notes=[(0, "A Supernatural AU.")], common_given_names=COMMON)
    assert weak and weak[0].pack == "supernatural" and "notes" in weak[0].sources


def test_two_very_common_names_are_not_a_fandom():
    from ficlens.names import frequent_given_names

    # Sherlock has John and Mary, and so has Supernatural: an original story about them is neither.
    found = detect_fandoms(spans("John", "Mary", "John", "Mary"), common_given_names=COMMON,
                           frequent_given_names=frequent_given_names())
    assert found == []


def test_a_few_canon_first_names_among_many_people_are_no_fandom():
    # A long original story: dozens of people, three of whom share first names with Grey's Anatomy
    # characters. Canon names are a small share of the names, so no fandom.
    crowd = [f"{first} {last}" for first in ("Albert", "Bertha", "Cyril", "Dora", "Edgar", "Flora")
             for last in ("Ashby", "Brandt", "Corwin", "Dunmore", "Ellery")]
    story = spans(*crowd, *crowd, "April", "George", "Richard", "Richard", "April", "George")
    assert detect_fandoms(story, common_given_names=COMMON) == []
    # The same three names in a story that is mostly about them still say Grey's Anatomy.
    assert [g.pack for g in detect_fandoms(spans("April", "George", "Richard", "Richard", "April", "George",
                                                 "Meredith", "Meredith", "Albert Ashby"),
                                           common_given_names=COMMON)] == ["greys-anatomy"]
