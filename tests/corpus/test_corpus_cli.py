"""`ficlens corpus run | export | errors` from the command line."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
from corpus_testkit import STORIES, write_stories
from typer.testing import CliRunner

from ficlens.cli import app

runner = CliRunner()


def test_run_export_errors_query(tmp_path):
    folder = tmp_path / "in"
    write_stories(folder, {k: STORIES[k] for k in ("harbour.txt", "chess.txt", "letters.txt")})
    (folder / "junk.txt").write_bytes(b"\x00\x01\x02\x03" * 40)
    store = tmp_path / "s.duckdb"
    res = runner.invoke(app, ["corpus", "run", str(folder), "--store", str(store), "--workers", "0"])
    assert res.exit_code == 0, res.output
    assert "3 stories written" in res.output and "1 errors" in res.output
    assert "ficlens corpus errors" in res.output
    # --quiet prints nothing; a rerun has nothing to do.
    res = runner.invoke(app, ["corpus", "run", str(folder), "--store", str(store), "--workers", "0", "--quiet"])
    assert res.exit_code == 0 and res.output == ""
    res = runner.invoke(app, ["corpus", "errors", str(store), "--format", "json"])
    (err,) = json.loads(res.stdout)
    assert err["path"] == str(folder / "junk.txt") and err["message"].endswith("looks like binary data, not text")
    res = runner.invoke(app, ["corpus", "export", str(store), "--parquet", str(tmp_path / "pq")])
    assert res.exit_code == 0, res.output
    titles = sorted(t for t in pq.read_table(tmp_path / "pq" / "stories.parquet").column("title").to_pylist() if t)
    assert titles == ["Endgame", "The Harbour Light"]
    res = runner.invoke(app, ["query", str(store), "--text", "bishop king", "--format", "json"])
    assert [r["title"] for r in json.loads(res.stdout)] == ["Endgame"]


def test_run_refuses_a_missing_source(tmp_path):
    res = runner.invoke(app, ["corpus", "run", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s.duckdb")])
    assert res.exit_code == 2 and "no such file" in res.output
    assert not (tmp_path / "s.duckdb").exists()


def test_log_lines(tmp_path):
    folder = tmp_path / "in"
    write_stories(folder, {"comet.txt": STORIES["comet.txt"]})
    store = tmp_path / "s.duckdb"
    res = runner.invoke(app, ["corpus", "run", str(folder), "--store", str(store), "--workers", "0", "--log"])
    (line,) = [ln for ln in res.output.splitlines() if ln.startswith("ok ")]
    status, story_id, words, path = line.split(" ", 3)
    assert len(story_id) == 16 and int(words) > 30 and path == str(folder / "comet.txt")
    res = runner.invoke(app, ["corpus", "run", str(folder), "--store", str(store), "--workers", "0", "--log"])
    assert f"skipped {story_id} 0 {folder / 'comet.txt'}" in res.output
