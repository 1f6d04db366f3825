"""`ficlens serve`: binds 127.0.0.1 by default and answers on loopback names only."""
from __future__ import annotations

import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ficlens.cli import app
from ficlens.web.cli import is_loopback


def test_serve_binds_loopback_by_default(monkeypatch, store_copy):
    seen = {}

    def fake_run(web, **kwargs):
        seen["app"], seen["kwargs"] = web, kwargs

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(app, ["serve", str(store_copy)])
    assert result.exit_code == 0, result.output
    assert seen["kwargs"]["host"] == "127.0.0.1" and seen["kwargs"]["port"] == 8000
    with TestClient(seen["app"], base_url="http://127.0.0.1:8000") as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"host": "192.168.1.20:8000"}).status_code == 400


def test_serve_elsewhere_warns_and_accepts_other_hosts(monkeypatch, store_copy):
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda web, **kw: seen.update(app=web, kwargs=kw))
    result = CliRunner().invoke(app, ["serve", str(store_copy), "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0
    assert "warning" in result.output and seen["kwargs"]["port"] == 8123
    with TestClient(seen["app"], base_url="http://192.168.1.20:8123") as client:
        assert client.get("/").status_code == 200


def test_serve_bad_store_path(tmp_path):
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "missing" / "x.duckdb")])
    assert result.exit_code == 2 and "no such folder" in result.output
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = CliRunner().invoke(app, ["serve", str(folder)])
    assert result.exit_code == 2 and "folder" in result.output


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.com")
