"""The Ray engine on a throwaway local Ray instance: same rows as the local engine; timeouts hold."""
from __future__ import annotations

from pathlib import Path

import pytest
from corpus_testkit import LIGHT, SPIN, STORIES, write_stories

pytest.importorskip("ray")
pytest.importorskip("ray.data")

from ficlens.corpus.runner import run_corpus  # noqa: E402
from ficlens.corpus.store import Store  # noqa: E402

from test_runner import table_rows  # noqa: E402

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def ray_env(monkeypatch):
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a throwaway local instance only


def test_ray_gives_the_same_rows_as_local(tmp_path):
    import ray

    folder = tmp_path / "in"
    write_stories(folder)
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02\x03 not a story" * 10)
    local = tmp_path / "local.duckdb"
    run_corpus([folder], local, workers=0, batch_stories=4)
    on_ray = tmp_path / "ray.duckdb"
    summary = run_corpus([folder], on_ray, engine="ray", workers=2, batch_stories=4)
    assert not ray.is_initialized()  # the run started its own instance and stopped it
    assert (summary.stories, summary.errors) == (len(STORIES), 1)
    assert summary.peak_worker_rss > 50e6
    rows = table_rows(on_ray)
    assert rows == table_rows(local)
    assert len(rows["stories"]) == len(STORIES) and len(rows["quotes"]) > 20
    # A rerun on Ray skips everything without starting Ray at all.
    again = run_corpus([folder], on_ray, engine="ray", workers=2)
    assert (again.stories, again.skipped) == (0, len(STORIES) + 1)


def test_ray_story_timeout_on_a_running_instance(tmp_path):
    import ray

    # An instance started beforehand (as `--address` would join one): the run leaves it running.
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(HERE)}})  # for the test pipeline
    try:
        folder = tmp_path / "in"
        write_stories(folder, {"a.txt": STORIES["bakery.txt"], "b.txt": f"Round and round. {SPIN}\n",
                               "c.txt": STORIES["storm.txt"]})
        store = tmp_path / "s.duckdb"
        summary = run_corpus([folder], store, engine="ray", workers=1, timeout=2, batch_stories=2,
                             pipeline_factory=LIGHT)
        assert ray.is_initialized()
        assert (summary.stories, summary.errors) == (2, 1)
        with Store(store, read_only=True) as db:
            (row,) = db.sql("SELECT path, error_type FROM errors")[1]
        assert row == (str(folder / "b.txt"), "Timeout")
    finally:
        ray.shutdown()
