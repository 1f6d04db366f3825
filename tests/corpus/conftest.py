"""Fixtures for the corpus tests: a store filled with hand-made analysed stories."""
from __future__ import annotations

import pytest
from corpus_testkit import library, synthetic_result

from ficlens.corpus.store import Store


@pytest.fixture(scope="module")
def lib_path(tmp_path_factory):
    """A store holding `corpus_testkit.library()` (five analysed stories), with its FTS index built."""
    path = tmp_path_factory.mktemp("lib") / "lib.duckdb"
    with Store(path) as store:
        run = store.begin_run(engine="local", workers=0, sources=["/corpus"])
        store.write_results([synthetic_result(doc, text) for doc, text in library()], run_id=run)
        store.write_results([{"path": "/corpus/bad.txt", "sha": "0" * 64, "error_type": "InputError",
                              "message": "/corpus/bad.txt: looks like binary data, not text"}], run_id=run)
        store.rebuild_fts()
    return path


@pytest.fixture
def lib(lib_path):
    with Store(lib_path, read_only=True) as store:
        yield store
