"""Fixtures for the web app: a small store, the app in-process (uvicorn on 127.0.0.1), the browser.

The store holds stories analysed by the real pipeline (through the corpus runner, in this process)
and two stories whose speakers, cast, relations and tags were filled by hand from the model classes,
so that facets and speaker tooltips can be tested before every pipeline layer exists. All texts here
were written for these tests.

Browser tests drive Debian's Chromium through pytest-playwright (never a downloaded browser) and
are skipped when /usr/bin/chromium is absent.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from web_testkit import HOSTILE, HOSTILE_NAME, PLAIN_STORIES, clock_story, harbor_story, store_stories

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory) -> Path:
    """A store built once: the plain and hostile stories through the corpus runner (in this process),
    plus the two hand-attributed ones. Tests copy it, so each app gets its own file."""
    from ficlens.corpus import run_corpus

    folder = tmp_path_factory.mktemp("web-stories")
    for name, text in {**PLAIN_STORIES, HOSTILE_NAME: HOSTILE}.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = tmp_path_factory.mktemp("web-store") / "seed.duckdb"
    summary = run_corpus([folder], path, workers=0)
    assert summary.errors == 0 and summary.stories == 3
    store_stories(path, [harbor_story(), clock_story()])
    return path


def copy_store(seed: Path, folder: Path) -> Path:
    target = folder / "library.duckdb"
    shutil.copy(seed, target)
    wal = seed.with_name(seed.name + ".wal")
    if wal.exists():
        shutil.copy(wal, target.with_name(target.name + ".wal"))
    return target


@pytest.fixture
def store_copy(seed_store, tmp_path) -> Path:
    return copy_store(seed_store, tmp_path)


def free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """uvicorn serving an app in a thread of this process, on 127.0.0.1 and a free port."""

    def __init__(self, app):
        import uvicorn

        self.sock = free_port()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture(scope="session")
def live_server(seed_store, tmp_path_factory):
    from ficlens.web.app import create_app

    path = copy_store(seed_store, tmp_path_factory.mktemp("live-store"))
    with LiveServer(create_app(path)) as server:
        yield server


# --- the browser: Debian's Chromium through pytest-playwright ------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def watched_page(page):
    """A page that records dialogs (alert/confirm: a script ran), console errors and page errors."""
    events: dict[str, list[str]] = {"dialogs": [], "console": [], "errors": []}

    def on_dialog(dialog):
        events["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.events = events
    return page
