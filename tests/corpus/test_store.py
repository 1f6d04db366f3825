"""The store: one transaction per write, duplicates, --force, reads for the web app, Parquet export."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from corpus_testkit import library, synthetic_result

from ficlens.corpus.schema import STORY_TABLES, TABLES
from ficlens.corpus.store import Store, StoreError


def test_reads_for_the_web_app(lib):
    doc, text = library()[0]
    assert lib.get_story_json(doc["id"]) == doc
    assert lib.get_text(doc["id"]) == text == lib.get_source_text(doc["id"])
    row = lib.get_story(doc["id"])
    assert row["title"] == "Stay" and row["fandoms"] == ["Grey's Anatomy"] and row["words"] == doc["stats"]["words"]
    assert lib.get_story_json("ffffffffffffffff") is None and lib.get_text("ffffffffffffffff") is None
    assert lib.counts()["stories"] == 5 and lib.counts()["errors"] == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    doc, text = library()[0]
    good = synthetic_result(doc, text)
    broken = synthetic_result(*library()[1])
    broken["rows"]["quotes"][0]["start"] = "not a number"  # fails inside the transaction, after other inserts
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(Exception):
            store.write_results([good, broken], run_id=1)
        assert {t: n for t, n in store.counts().items() if n and t not in ("store_info",)} == {}
        store.write_results([good], run_id=1)
        assert store.counts()["stories"] == 1


def test_same_story_twice_is_stored_once_and_force_replaces(tmp_path):
    doc, text = library()[2]
    first = synthetic_result(doc, text)
    again = {**synthetic_result(doc, text), "path": "/elsewhere/copy.txt"}
    with Store(tmp_path / "s.duckdb") as store:
        out = store.write_results([first, again], run_id=1)
        assert (out.stories, out.duplicates) == (1, 1)
        assert [w["status"] for w in out.written] == ["ok", "duplicate"]
        assert store.sql("SELECT count(*) FROM quotes")[1] == [(4,)]
        assert sorted(store.sql("SELECT path, story_id FROM inputs")[1]) == [
            ("/corpus/aaaa000000000003.txt", doc["id"]), ("/elsewhere/copy.txt", doc["id"])]
        # Not forced: an existing story is left alone.
        assert store.write_results([first], run_id=2).stories == 0
        assert store.sql("SELECT run_id FROM stories")[1] == [(1,)]
        # Forced: replaced once per run, child rows not doubled.
        assert store.write_results([first, again], run_id=3, force=True).stories == 1
        assert store.sql("SELECT run_id FROM stories")[1] == [(3,)]
        assert store.sql("SELECT count(*) FROM quotes")[1] == [(4,)]


def test_an_error_then_a_success_for_the_same_path(tmp_path):
    doc, text = library()[3]
    ok = synthetic_result(doc, text)
    err = {"path": ok["path"], "sha": ok["sha"], "error_type": "Timeout", "message": "too slow"}
    with Store(tmp_path / "s.duckdb") as store:
        store.write_results([err], run_id=1)
        assert store.sql("SELECT path, message FROM errors")[1] == [(ok["path"], "too slow")]
        store.write_results([ok], run_id=2)
        assert store.counts()["errors"] == 0 and store.counts()["inputs"] == 1


def test_missing_store_and_wrong_version_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        Store(tmp_path / "nope.duckdb", read_only=True)
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        store.con.execute("UPDATE store_info SET value = '0' WHERE key = 'store_version'")
    with pytest.raises(StoreError, match="store version 0"):
        Store(path, read_only=True)


def test_sql_is_read_only_on_a_read_only_store(lib):
    cols, rows = lib.sql("SELECT title FROM stories WHERE rating = ? ORDER BY title", ["General Audiences"])
    assert cols == ["title"] and rows == [("Elevator",), ("Log",), ("Mischief",)]
    with pytest.raises(StoreError, match="SQL error"):
        lib.sql("DELETE FROM stories")
    with pytest.raises(StoreError, match="SQL error"):
        lib.sql("SELEC nonsense")


def test_export_parquet_round_trip(lib, tmp_path):
    files = lib.export_parquet(tmp_path / "pq")
    assert sorted(f.name for f in files) == sorted(f"{t}.parquet" for t in TABLES if t != "store_info")
    stories = pq.read_table(tmp_path / "pq" / "stories.parquet").to_pylist()
    assert len(stories) == 5
    by_id = {s["id"]: s for s in stories}
    doc, text = library()[0]
    assert by_id[doc["id"]]["text"] == text and json.loads(by_id[doc["id"]]["document"]) == doc
    assert by_id[doc["id"]]["relationships"] == ["Derek Shepherd/Meredith Grey"]
    quotes = pq.read_table(tmp_path / "pq" / "quotes.parquet")
    assert quotes.num_rows == lib.counts()["quotes"] == 12
    lean = lib.export_parquet(tmp_path / "lean", include_text=False, tables=["stories"])
    assert "text" not in pq.read_table(lean[0]).column_names
    for table in STORY_TABLES:
        assert "story_id" in pq.read_table(tmp_path / "pq" / f"{table}.parquet").column_names
