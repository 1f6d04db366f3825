"""docs/corpus.md documents exactly the tables and columns the store creates."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ficlens.corpus.schema import TABLES
from ficlens.corpus.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "corpus.md"


def documented() -> dict[str, list[tuple[str, str, str]]]:
    tables: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^### `(\w+)`$", line)
        if m:
            current = tables.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\| `(\w+)` \| (.+?) \| (.+) \|$", line)
        if m and current is not None:
            current.append((m.group(1), m.group(2).replace(" (primary key)", " PRIMARY KEY"),
                            m.group(3).replace("\\|", "|")))
    return tables


def test_docs_match_the_schema():
    assert documented() == TABLES


def test_the_store_has_the_documented_columns(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        for table, cols in TABLES.items():
            got = store.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall()
            assert [c for c, _ in got] == [c for c, _, _ in cols], table
            for (name, duck_type), (_, declared, _) in zip(got, cols):
                assert duck_type == declared.split()[0] or (declared.startswith("JSON") and duck_type == "JSON"), name
    assert duckdb.__version__ == "1.5.5"  # the FTS extension file is built for exactly this version
