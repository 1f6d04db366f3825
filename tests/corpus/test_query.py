"""Queries: faceted filters, full-text search, facets, sorting and paging, and `ficlens query`."""
from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from ficlens.cli import app
from ficlens.corpus.query import Filters, parse_words
from ficlens.corpus.store import Store, StoreError

A, B, C, D, E = (f"aaaa00000000000{i}" for i in range(1, 6))


def ids(result) -> list[str]:
    return [r["id"] for r in result.rows]


def test_parse_words():
    assert parse_words("1000..5000") == (1000, 5000)
    assert parse_words("1k..") == (1000, None)
    assert parse_words("..2.5k") == (None, 2500)
    assert parse_words("1,200") == (1200, 1200)
    for bad in ("..", "a..b", "5000-6000"):
        with pytest.raises(StoreError, match="bad --words range"):
            parse_words(bad)


def test_tag_filters(lib):
    assert ids(lib.search(Filters(fandom="grey's anatomy"))) == [C, B, A]  # by title: Elevator, Retractor, Stay
    assert ids(lib.search({"fandom": ["Lighthouse Keepers"]})) == [E]        # declared by the source
    # Either order of the members; romantic and platonic differ.
    assert ids(lib.search(Filters(relationship="Meredith Grey/Derek Shepherd"))) == [A]
    assert ids(lib.search(Filters(relationship="Hermione Granger & Harry Potter"))) == [D]
    assert ids(lib.search(Filters(relationship="Hermione Granger/Harry Potter"))) == []
    # Several values of one tag filter: all needed.
    assert ids(lib.search(Filters(fandom=["Grey's Anatomy", "Harry Potter - J. K. Rowling"]))) == []
    assert ids(lib.search(Filters(category="Gen", fandom="Grey's Anatomy"))) == [B]
    assert ids(lib.search(Filters(warning="No Archive Warnings Apply"))) == [C]
    assert ids(lib.search(Filters(freeform="friendship"))) == [D]


def test_character_by_tag_name_or_alias(lib):
    assert ids(lib.search(Filters(character="Meredith Grey"))) == [A]
    assert ids(lib.search(Filters(character="mcdreamy"))) == [A]   # an alias in the characters table
    assert ids(lib.search(Filters(character="Izzie"))) == [C]
    assert ids(lib.search(Filters(character="Nobody Atall"))) == []


def test_rating_pov_and_words(lib):
    assert ids(lib.search(Filters(rating="E"))) == [A]
    assert ids(lib.search(Filters(rating=["explicit", "T"]))) == [B, A]
    assert ids(lib.search(Filters(pov="second"))) == [B]
    assert ids(lib.search(Filters(pov="reader-insert"))) == [B]
    assert ids(lib.search(Filters(pov="3rd", fandom="Grey's Anatomy"))) == [C, A]
    with pytest.raises(StoreError, match="unknown rating 'X'"):
        lib.search(Filters(rating="X"))
    words = {r["id"]: r["words"] for r in lib.search().rows}
    low, high = sorted(words.values())[1], sorted(words.values())[3]
    got = ids(lib.search(Filters(words=f"{low}..{high}"), sort="words"))
    assert got == [i for i, _ in sorted(words.items(), key=lambda kv: (kv[1], kv[0])) if low <= words[i] <= high]
    assert len(got) >= 3


def test_full_text_search_stems_ranks_and_matches_phrases(lib):
    # "elevators" finds "elevator" (stemmed); C says it twice, B once: C ranks first.
    result = lib.search(Filters(text="elevators"))
    assert ids(result) == [C, B] and result.rows[0]["score"] > result.rows[1]["score"] > 0
    assert ids(lib.search(Filters(text="elevator stairs"))) == [C]          # every word needed
    assert ids(lib.search(Filters(text='"ferry lights"'))) == [A]           # a phrase
    assert ids(lib.search(Filters(text='"lights ferry"'))) == []
    assert ids(lib.search(Filters(text="elevator", pov="second"))) == [B]   # with filters
    assert ids(lib.search(Filters(text="zeppelin"))) == []


def test_sort_limit_offset(lib):
    all_by_words = ids(lib.search(sort="-words", limit=None))
    assert len(all_by_words) == 5
    page = lib.search(sort="-words", limit=2, offset=1)
    assert page.total == 5 and ids(page) == all_by_words[1:3]
    with pytest.raises(StoreError, match="unknown sort"):
        lib.search(sort="colour")


def test_facets_count_matching_stories(lib):
    f = lib.facets()
    assert f["fandom"][0] == ("Grey's Anatomy", 3)
    assert dict(f["rating"]) == {"General Audiences": 3, "Explicit": 1, "Teen And Up Audiences": 1}
    assert dict(f["pov"]) == {"third": 4, "second": 1}
    assert ("Derek Shepherd/Meredith Grey", 1) in f["relationship"]
    narrowed = lib.facets(Filters(fandom="Grey's Anatomy"), names=["category", "character"])
    assert dict(narrowed["category"]) == {"F/M": 2, "Gen": 1}
    assert dict(narrowed["character"])["Meredith Grey"] == 1
    assert "Harry Potter" not in dict(narrowed["character"])
    assert dict(lib.facets(Filters(text="elevator"), names=["pov"])["pov"]) == {"second": 1, "third": 1}


def test_fts_index_is_rebuilt_when_stale(tmp_path):
    from corpus_testkit import library, synthetic_result

    path = tmp_path / "s.duckdb"
    docs = library()
    with Store(path) as store:
        store.write_results([synthetic_result(*docs[0])], run_id=1)
        store.rebuild_fts()
        store.write_results([synthetic_result(*docs[2])], run_id=1)  # added after the index was built
        assert store.fts_stale()
    with Store(path, read_only=True) as store:  # a reader rebuilds it on the way
        assert ids(store.search(Filters(text="elevator"))) == [C]
        assert not store.fts_stale()


runner = CliRunner()


def test_cli_query_formats(lib_path):
    res = runner.invoke(app, ["query", str(lib_path), "--fandom", "Grey's Anatomy", "--rating", "Explicit"])
    assert res.exit_code == 0, res.output
    assert A in res.output and "Stay" in res.output and "Derek Shepherd/Meredith Grey" in res.output
    res = runner.invoke(app, ["query", str(lib_path), "--pov", "third", "--format", "json", "--sort", "title"])
    rows = json.loads(res.stdout)
    assert [r["title"] for r in rows] == ["Elevator", "Log", "Mischief", "Stay"]
    assert set(rows[0]) >= {"id", "title", "source_path", "fandoms", "rating", "relationships"}
    res = runner.invoke(app, ["query", str(lib_path), "--text", "elevator", "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["id"] for r in table] == [C, B] and table[0]["fandoms"] == "Grey's Anatomy"
    res = runner.invoke(app, ["query", str(lib_path), "--sql",
                              "SELECT speaker_name, count(*) AS n FROM quotes WHERE speaker IS NOT NULL "
                              "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 2", "--format", "json"])
    assert json.loads(res.stdout) == [{"speaker_name": "Alex Karev", "n": 2}, {"speaker_name": "Cristina Yang", "n": 2}]


def test_cli_query_user_mistakes_exit_2(lib_path, tmp_path):
    from ficlens.cli import main  # noqa: F401 - main() maps FiclensError to exit 2

    res = runner.invoke(app, ["query", str(lib_path), "--words", "lots"])
    assert isinstance(res.exception, StoreError) and "bad --words range" in str(res.exception)
    res = runner.invoke(app, ["query", str(lib_path), "--sql", "SELECT 1", "--fandom", "X"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["query", str(tmp_path / "none.duckdb")])
    assert isinstance(res.exception, StoreError) and "no such store" in str(res.exception)


def test_filters_from_web_parameters(lib):
    f = Filters.from_mapping({"fandoms": ["Grey's Anatomy"], "categories": ["F/M"], "q": "elevator",
                              "words": ["1..1000"], "page": ["2"]})
    assert (f.fandom, f.category, f.text, f.words) == (("Grey's Anatomy",), ("F/M",), "elevator", (1, 1000))
    assert ids(lib.search(f)) == [C]
    assert Filters.from_mapping(None).is_empty() and Filters(fandom=" ", text="  ").is_empty()
