"""Corpus runs with the real pipeline: engines agree, reruns skip, errors are rows, hangs and crashes
are contained, and a run killed with SIGKILL loses nothing and duplicates nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus_testkit import BOOM, CRASH, EXTRA_STORIES, HANG, LIGHT, STORIES, write_stories

from ficlens.corpus.runner import run_corpus
from ficlens.corpus.schema import STORY_TABLES, TABLES
from ficlens.corpus.store import Store

# Columns that say when and by which run a row was written, not what was found.
VOLATILE = {"run_id", "analyzed_at", "at"}


def table_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every story table, sorted, without the volatile columns."""
    out = {}
    with Store(path, read_only=True) as store:
        for table in ("stories", "inputs", "errors", *STORY_TABLES):
            cols = [c for c, _, _ in TABLES[table] if c not in VOLATILE]
            select = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(store.con.execute(f"SELECT {select} FROM {table}").fetchall(), key=repr)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_stories(folder)
    (folder / "nested").mkdir()
    (folder / "nested" / "binary.txt").write_bytes(b"\x00\x01\x02\x03 not a story" * 10)
    (folder / "nested" / "empty.txt").write_bytes(b"   \n\n")
    return folder


@pytest.fixture(scope="module")
def one_worker(corpus, tmp_path_factory) -> tuple[Path, object]:
    store = tmp_path_factory.mktemp("w1") / "s.duckdb"
    return store, run_corpus([corpus], store, workers=1, batch_stories=4)


def test_a_run_stores_every_story_and_records_bad_files(corpus, one_worker):
    store, summary = one_worker
    assert (summary.stories, summary.errors, summary.skipped) == (len(STORIES), 2, 0)
    assert summary.words > 500 and summary.peak_worker_rss > 50e6
    with Store(store, read_only=True) as db:
        errors = dict(db.sql("SELECT path, message FROM errors")[1])
        assert errors == {str(corpus / "nested" / "binary.txt"): f"{corpus / 'nested' / 'binary.txt'}: looks like binary data, not text",
                          str(corpus / "nested" / "empty.txt"): f"{corpus / 'nested' / 'empty.txt'}: holds no story text"}
        titles = dict(db.sql("SELECT source_path, title FROM stories")[1])
        assert titles[str(corpus / "harbour.txt")] == "The Harbour Light"
        # What the store keeps is what `ficlens analyze` gives for the same file.
        from ficlens.api import analyze_path
        from ficlens.export.json import story_to_dict

        story = analyze_path(corpus / "station.txt")
        assert db.get_story_json(story.id) == story_to_dict(story)
        assert db.get_text(story.id) == story.text
        quotes = db.sql("SELECT start, \"end\", text FROM quotes WHERE story_id = ? ORDER BY id", [story.id])[1]
        assert [q[2] for q in quotes][:2] == ['"I\'m not getting on,"', '"You bought the ticket,"']
        assert all(story.source_text[s:e] == t for s, e, t in quotes)
        (run,) = db.sql("SELECT stories, errors, finished_at IS NOT NULL FROM runs")[1]
        assert run == (len(STORIES), 2, True)


def test_two_workers_and_in_process_give_identical_rows(corpus, one_worker, tmp_path):
    two = tmp_path / "w2.duckdb"
    summary = run_corpus([corpus], two, workers=2, batch_stories=4)
    assert summary.stories == len(STORIES)
    inline = tmp_path / "w0.duckdb"
    run_corpus([corpus], inline, workers=0, batch_stories=4)
    expected = table_rows(one_worker[0])
    assert table_rows(two) == expected
    assert table_rows(inline) == expected
    assert len(expected["quotes"]) > 20


def test_rerun_skips_force_redoes_retry_errors_retries(corpus, tmp_path):
    store = tmp_path / "s.duckdb"
    first = run_corpus([corpus], store, workers=0)
    before = table_rows(store)
    seen = []
    again = run_corpus([corpus], store, workers=0, on_result=seen.append)
    assert (again.stories, again.skipped, again.errors) == (0, len(STORIES) + 2, 0)
    assert {r["status"] for r in seen} == {"skipped"}
    assert table_rows(store) == before
    forced = run_corpus([corpus], store, workers=0, force=True)
    assert (forced.stories, forced.skipped, forced.errors) == (len(STORIES), 0, 2)
    assert table_rows(store) == before
    with Store(store, read_only=True) as db:
        assert db.sql("SELECT DISTINCT run_id FROM stories")[1] == [(3,)]
    retried = run_corpus([corpus], store, workers=0, retry_errors=True)
    assert (retried.stories, retried.skipped, retried.errors) == (0, len(STORIES), 2)
    assert first.stories == len(STORIES)


def test_same_bytes_under_a_new_name_is_recorded_not_recomputed(corpus, tmp_path):
    store = tmp_path / "s.duckdb"
    run_corpus([corpus / "ferry.txt"], store, workers=0)
    copy = tmp_path / "copy_of_ferry.txt"
    copy.write_bytes((corpus / "ferry.txt").read_bytes())
    summary = run_corpus([copy], store, workers=0)
    assert (summary.stories, summary.skipped) == (0, 1)
    with Store(store, read_only=True) as db:
        (sid,) = {r[0] for r in db.sql("SELECT story_id FROM inputs")[1]}
        assert db.counts()["stories"] == 1 and db.counts()["inputs"] == 2


def test_archive_and_list_sources(corpus, tmp_path):
    import zipfile

    z = tmp_path / "fics.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a/chess.txt", (corpus / "chess.txt").read_bytes())
        zf.writestr("../../garden.txt", (corpus / "garden.txt").read_bytes())
    listing = tmp_path / "reading.list"
    listing.write_text(f"{corpus / 'comet.txt'}\n{z}\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    summary = run_corpus([listing], store, workers=0)
    assert summary.stories == 3
    with Store(store, read_only=True) as db:
        paths = sorted(r[0] for r in db.sql("SELECT path FROM inputs")[1])
    assert paths == sorted([str(corpus / "comet.txt"), f"{z}!../../garden.txt", f"{z}!a/chess.txt"])


def test_a_hanging_story_times_out_and_the_run_goes_on(tmp_path):
    folder = tmp_path / "in"
    write_stories(folder, {"a.txt": STORIES["harbour.txt"], "b.txt": f"It began. {HANG}\n\nNothing more.\n",
                           "c.txt": STORIES["comet.txt"], "d.txt": STORIES["ferry.txt"]})
    store = tmp_path / "s.duckdb"
    start = time.monotonic()
    summary = run_corpus([folder], store, workers=1, timeout=2, batch_stories=2, pipeline_factory=LIGHT)
    assert time.monotonic() - start < 60
    assert (summary.stories, summary.errors) == (3, 1)
    # The batch [a, b] ran out: the worker was replaced, then a and b ran alone (b ran out again).
    assert summary.restarts == 2
    with Store(store, read_only=True) as db:
        (row,) = db.sql("SELECT path, error_type, message FROM errors")[1]
    assert row == (str(folder / "b.txt"), "Timeout", f"{folder / 'b.txt'}: analysis took longer than the limit of 2 s")


def test_a_crashing_worker_costs_one_story(tmp_path):
    folder = tmp_path / "in"
    write_stories(folder, {"a.txt": STORIES["storm.txt"], "b.txt": f"Then {CRASH} happened.\n",
                           "c.txt": STORIES["bakery.txt"]})
    store = tmp_path / "s.duckdb"
    summary = run_corpus([folder], store, workers=1, batch_stories=3, pipeline_factory=LIGHT)
    assert (summary.stories, summary.errors) == (2, 1)
    with Store(store, read_only=True) as db:
        (row,) = db.sql("SELECT path, error_type, message FROM errors")[1]
    assert row == (str(folder / "b.txt"), "WorkerCrash",
                   f"{folder / 'b.txt'}: the worker analysing it stopped unexpectedly (exit code 3)")


def test_a_stage_bug_costs_one_story_not_its_batch(tmp_path):
    folder = tmp_path / "in"
    write_stories(folder, {"a.txt": STORIES["chess.txt"], "b.txt": f"It went {BOOM}.\n",
                           "c.txt": STORIES["garden.txt"]})
    store = tmp_path / "s.duckdb"
    summary = run_corpus([folder], store, workers=0, batch_stories=3, pipeline_factory=LIGHT)
    assert (summary.stories, summary.errors) == (2, 1)
    with Store(store, read_only=True) as db:
        (row,) = db.sql("SELECT error_type, message FROM errors")[1]
    assert row == ("InternalError", f"{folder / 'b.txt'}: internal error (KeyError: 'a bug in a stage')")


def test_sigkill_then_rerun_gives_every_story_exactly_once(tmp_path):
    folder = tmp_path / "twenty"
    write_stories(folder, {**STORIES, **EXTRA_STORIES})
    store = tmp_path / "s.duckdb"
    cmd = [sys.executable, "-m", "ficlens.cli", "corpus", "run", str(folder), "--store", str(store),
           "--workers", "1", "--batch-size", "1", "--log"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    committed = []
    try:
        for line in proc.stderr:
            if line.startswith("ok "):
                committed.append(line.split()[1])
            if len(committed) >= 3:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL and len(committed) == 3
    with Store(store, read_only=True) as db:  # what the killed run committed is all there
        stored = {r[0] for r in db.sql("SELECT id FROM stories")[1]}
    assert set(committed) <= stored and len(stored) < 20
    rerun = run_corpus([folder], store, workers=1, batch_stories=1)
    assert rerun.skipped == len(stored) and rerun.stories == 20 - len(stored)
    with Store(store, read_only=True) as db:
        ids = [r[0] for r in db.sql("SELECT id FROM stories")[1]]
        assert len(ids) == len(set(ids)) == 20
        assert db.sql("SELECT count(*), count(DISTINCT path) FROM inputs")[1] == [(20, 20)]
        for table in STORY_TABLES:
            orphans = db.sql(f"SELECT count(*) FROM {table} WHERE story_id NOT IN (SELECT id FROM stories)")[1]
            assert orphans == [(0,)], table
    # Each story has all its sections and quotes, not part of them: compare with a clean run.
    clean = tmp_path / "clean.duckdb"
    run_corpus([folder], clean, workers=0)
    assert table_rows(store)["quotes"] == table_rows(clean)["quotes"]
    assert table_rows(store)["sections"] == table_rows(clean)["sections"]
