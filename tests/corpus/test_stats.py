"""Corpus statistics over hand-made analysed stories, and `ficlens stats`."""
from __future__ import annotations

import json

from corpus_testkit import library
from typer.testing import CliRunner

from ficlens.cli import app
from ficlens.corpus.query import Filters


def test_stats_over_the_whole_store(lib):
    s = lib.stats()
    assert s["stories"] == 5 and s["errors"] == 1
    assert s["words"] == sum(doc["stats"]["words"] for doc, _ in library())
    assert [r["name"] for r in s["relationships"]] == [
        "Alex Karev/Izzie Stevens", "Cristina Yang & Reader", "Derek Shepherd/Meredith Grey",
        "Harry Potter & Hermione Granger"]
    assert [(c["name"], c["lines"], c["words"]) for c in s["characters"]] == [
        ("Alex Karev", 2, 9), ("Cristina Yang", 2, 4), ("Izzie Stevens", 2, 6), ("Meredith Grey", 2, 7),
        ("Derek Shepherd", 1, 6), ("Harry Potter", 1, 1), ("Hermione Granger", 1, 5)]
    assert s["pov"] == [{"pov": "third", "stories": 4}, {"pov": "second", "stories": 1}]
    assert {r["rating"]: r["stories"] for r in s["rating"]} == {
        "General Audiences": 3, "Explicit": 1, "Teen And Up Audiences": 1}
    assert [(g["gender"], g["words"], g["lines"]) for g in s["dialogue_by_gender"]] == [
        ("female", 22, 7), ("male", 16, 4), ("unattributed", 3, 1)]
    assert [g["share"] for g in s["dialogue_by_gender"]] == [0.5366, 0.3902, 0.0732]
    assert s["dialogue_words"] == 41


def test_stats_with_filters_and_top(lib):
    s = lib.stats(Filters(fandom="Grey's Anatomy"), top=2)
    assert s["stories"] == 3
    assert [c["name"] for c in s["characters"]] == ["Alex Karev", "Cristina Yang"]
    assert [(g["gender"], g["words"]) for g in s["dialogue_by_gender"]] == [("female", 17), ("male", 15)]


def test_cli_stats(lib_path):
    runner = CliRunner()
    res = runner.invoke(app, ["stats", str(lib_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["characters"][0] == {"name": "Alex Karev", "lines": 2, "words": 9, "stories": 1}
    res = runner.invoke(app, ["stats", str(lib_path), "--rating", "G"])
    assert res.exit_code == 0, res.output
    for heading in ("Top relationships", "Characters by lines spoken", "Point of view", "Rating",
                    "Words of dialogue by gender"):
        assert heading in res.stdout
    assert "3 stories" in res.stdout and "Alex Karev/Izzie Stevens" in res.stdout
