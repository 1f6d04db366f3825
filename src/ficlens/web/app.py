"""The web app over a corpus store: library with facets and search, story reports, upload, JSON API.

Pages are rendered on the server with Jinja2 (autoescape on) and use a little JS at most (the theme
toggle), served from the package's own files. Every page has a JSON twin under /api, described by
FastAPI's /openapi.json (the Swagger pages are off: they load scripts from a CDN).

Security, for an app meant to run on one's own machine:
- the CLI binds 127.0.0.1 unless told otherwise, and requests must name a loopback Host (no DNS
  rebinding) unless the app is built with other `allowed_hosts`;
- POSTs from another origin are refused (no cross-site upload);
- request bodies are capped (413 beyond the upload limit);
- story ids must match ^[0-9a-f]{16}$ and only ever reach the store as query parameters; static
  files come from the package directory only;
- every response carries a Content-Security-Policy without inline script, nosniff, no framing.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from contextlib import asynccontextmanager
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePath
from typing import Annotated, Any, Callable, Mapping, Sequence
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..errors import Errors, FiclensError, InputError, LimitError

STORY_ID = re.compile(r"^[0-9a-f]{16}$")
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the uploaded file
PAGE_SIZE = 25
MAX_API_LIMIT = 200
MAX_VALUES = 10       # values per filter in one request
MAX_VALUE_CHARS = 300  # characters per filter value or search query
UPLOAD_SUFFIXES = {".txt", ".html", ".htm", ".xhtml", ".epub"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),  # "no-referrer" would make Chrome send "Origin: null" on our own form POSTs
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
# Facets in the order the library shows them: store facet name -> label.
# (Additional tags are a filter, not a facet: each facet costs a query on every new page.)
FACETS = (("fandom", "Fandom"), ("relationship", "Relationship"), ("character", "Character"),
          ("rating", "Rating"), ("warning", "Archive warning"), ("category", "Category"),
          ("pov", "Point of view"))
FILTER_KEYS = tuple(name for name, _ in FACETS) + ("freeform",)
WORD_BUCKETS = (("under 1,000", "..999"), ("1,000 to 4,999", "1000..4999"), ("5,000 to 9,999", "5000..9999"),
                ("10,000 to 49,999", "10000..49999"), ("50,000 and more", "50000.."))
SORTS = (("relevance", "Relevance"), ("title", "Title"), ("-words", "Longest first"), ("words", "Shortest first"),
         ("-quotes", "Most dialogue"), ("-analyzed", "Newest"))


class StoryRow(BaseModel):
    """One story in a list: the store's row (no text), plus its page's URL."""

    id: str
    title: str | None = None
    author: str | None = None
    source_path: str | None = None
    fandoms: list[str] = []
    rating: str | None = None
    relationships: list[str] = []
    warnings: list[str] = []
    category: list[str] = []
    pov: str | None = None
    narrator_name: str | None = None
    reader_insert: bool | None = None
    words: int | None = None
    quotes: int | None = None
    characters: int | None = None
    language: str | None = None
    analyzed_at: datetime | None = None
    score: float | None = Field(None, description="BM25 relevance when there is a text query")
    url: str = Field(description="the story's report page")


class StoryPage(BaseModel):
    total: int = Field(description="stories matching, over all pages")
    limit: int
    offset: int
    stories: list[StoryRow]


class FacetValue(BaseModel):
    value: str
    count: int


class WordBucket(BaseModel):
    label: str
    range: str = Field(description="the `words` filter value selecting this bucket, MIN..MAX")
    count: int


class FacetCounts(BaseModel):
    total: int
    facets: dict[str, list[FacetValue]]
    words: list[WordBucket]


class UploadResult(BaseModel):
    id: str
    status: str = Field(description="ok (stored now) or duplicate (the same text was already stored)")
    title: str | None = None
    url: str


class LibraryFilters(BaseModel):
    """The library's filters as query parameters. Declared for the API's documentation and
    validation; `read_state` parses the same parameters for the HTML pages and the API alike."""

    q: str | None = Field(None, description="full-text query over the story text (all words needed; "
                                            "\"quoted phrase\" exact)")
    fandom: list[str] = Field([], description="fandom tag (repeat for several: all needed)")
    relationship: list[str] = Field([], description="\"A/B\" or \"A & B\", members in any order (all needed)")
    character: list[str] = Field([], description="character tag, name or alias (all needed)")
    rating: list[str] = Field([], description="AO3 rating or its initial G/T/M/E (any of)")
    warning: list[str] = Field([], description="archive warning (all needed)")
    category: list[str] = Field([], description="F/F, F/M, Gen, M/M, Multi, Other (all needed)")
    pov: list[str] = Field([], description="first, second, third or reader-insert (any of)")
    freeform: list[str] = Field([], description="additional tag (all needed)")
    words: str | None = Field(None, description="word range MIN..MAX, MIN.. or ..MAX")


class ApiError(BaseModel):
    detail: str


@lru_cache(maxsize=1)
def page_env() -> Environment:
    env = Environment(loader=PackageLoader("ficlens.web", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    env.filters["thousands"] = lambda n: f"{int(n or 0):,}"
    return env


# --- the store as the app sees it --------------------------------------------------------------


class Library:
    """The corpus store behind the app: one DuckDB connection per thread (they share one database
    in this process), writes and full-text index rebuilds under one lock, and small caches keyed by
    a version this process bumps on every write (no other process can write while the app holds the
    store open for writing)."""

    def __init__(self, path: str | Path, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD, cache_size: int = 256):
        """path: the store file (created empty when missing). max_upload_bytes: largest upload.
        cache_size: facet counts and pages kept per version of the store."""
        from ..corpus.store import Store

        self.path = Path(path)
        self.max_upload_bytes = max_upload_bytes
        self._Store = Store
        self._owner = Store(self.path)  # creates or checks the store; keeps the database open
        self._local = threading.local()
        self._opened: list[Any] = [self._owner]
        self._lock = threading.RLock()    # writes, FTS rebuilds, the caches
        self._analyse = threading.Lock()  # the pipeline is not thread-safe
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._pending: dict[tuple, threading.Event] = {}
        self._cache_size = cache_size
        self.version = 0

    def store(self):
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._Store(self.path)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()

    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The cached value for key, computing it once even when many requests want it at once."""
        key = (self.version, *key)
        while True:
            with self._lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = threading.Event()
                    break
            pending.wait(60)  # another thread computes it; then read the cache (or compute, if it failed)
        try:
            value = compute()
            with self._lock:
                self._cache[key] = value
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            pending.set()

    def _ready_for_text(self, filters) -> None:
        # Rebuild a stale full-text index once, under the lock, before any search thread needs it.
        if filters.text:
            store = self.store()
            if store.fts_stale():
                with self._lock:
                    store.ensure_fts()

    def search(self, filters, *, sort: str | None, limit: int, offset: int):
        self._ready_for_text(filters)
        key = ("search", _filters_key(filters), sort, limit, offset)
        return self._cached(key, lambda: self.store().search(filters, sort=sort, limit=limit, offset=offset))

    def facets(self, filters, *, limit: int = 12) -> dict[str, list[tuple[str, int]]]:
        self._ready_for_text(filters)
        names = [name for name, _ in FACETS]
        return self._cached(("facets", _filters_key(filters), limit),
                            lambda: self.store().facets(filters, names=names, limit=limit))

    def word_counts(self, filters) -> list[int]:
        """Stories per WORD_BUCKETS bucket among those matching `filters` (its word range ignored)."""
        import dataclasses

        from ..corpus.query import from_clause, parse_words

        others = dataclasses.replace(filters, words=None)
        self._ready_for_text(others)

        def compute():
            source, conds, params, _ = from_clause(self.store(), others)
            where = f"WHERE {' AND '.join(conds)}" if conds else ""
            cases = []
            for _, rng in WORD_BUCKETS:
                lo, hi = parse_words(rng)
                parts = [f"s.words >= {int(lo)}" if lo is not None else "TRUE",
                         f"s.words <= {int(hi)}" if hi is not None else "TRUE"]
                cases.append(f"count(*) FILTER (WHERE {' AND '.join(parts)})")
            _, rows = self.store().sql(f"SELECT {', '.join(cases)} FROM {source} {where}", params)
            return [int(n or 0) for n in rows[0]]

        return self._cached(("words", _filters_key(others)), compute)

    def document(self, story_id: str) -> tuple[dict, str, str | None] | None:
        store = self.store()
        doc = store.get_story_json(story_id)
        if doc is None:
            return None
        text = store.get_text(story_id) or ""
        source = store.get_source_text(story_id)
        return doc, text, None if source == text else source

    def report(self, story_id: str, *, standalone: bool = False) -> str | None:
        from ..export.report import render_report_from_document

        def compute():
            got = self.document(story_id)
            if got is None:
                return None
            doc, text, source = got
            if standalone:
                return render_report_from_document(doc, text, source_text=source)
            return render_report_from_document(
                doc, text, source_text=source, assets_url="/assets",
                links=[("\u2190 Library", "/"), ("JSON", f"/api/stories/{story_id}"),
                       ("Standalone file", f"/stories/{story_id}/report.html")])

        return self._cached(("report", story_id, standalone), compute)

    def add(self, data: bytes, filename: str) -> dict[str, Any]:
        """Analyse an uploaded story and store it; returns {id, status, title}."""
        from ..api import get_pipeline
        from ..corpus.work import Task, ok_result
        from ..limits import Limits
        from ..read import read_bytes

        name = safe_filename(filename)
        suffix = PurePath(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise InputError(Errors.E401.format(name=name))
        if len(data) > self.max_upload_bytes:
            raise LimitError(Errors.E402.format(name=name, size=len(data), limit=self.max_upload_bytes))
        source = f"upload/{name}"
        sha = hashlib.sha256(data).hexdigest()
        limits = Limits(max_bytes=self.max_upload_bytes)
        with self._analyse:
            story = read_bytes(data, source, limits=limits)
            if not story.text.strip():
                raise InputError(Errors.E010.format(path=name))
            get_pipeline()(story)
        result = ok_result(Task(name=f"{source}#{sha[:16]}", data=b"", sha=sha), story)
        title = result["rows"]["stories"][0].get("title")
        store = self.store()
        with self._lock:
            run_id = store.begin_run(engine="upload", workers=1, sources=[source])
            outcome = store.write_results([result], run_id=run_id)
            store.end_run(run_id, stories=outcome.stories, skipped=0, errors=outcome.errors, words=outcome.words)
            self.version += 1
            self._cache.clear()
        status = outcome.written[0]["status"] if outcome.written else "ok"
        return {"id": story.id, "status": status, "title": title}


def safe_filename(filename: str | None) -> str:
    """The last path component of an uploaded file's name, printable, at most 120 characters."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "<>\"'`")
    return (name.strip(" .") or "upload.txt")[-120:]


def _filters_key(filters) -> tuple:
    import dataclasses

    return tuple((f.name, getattr(filters, f.name)) for f in dataclasses.fields(filters))


# --- the query state of the library page ---------------------------------------------------------


class State:
    """What the library shows: filters, text query, sort and page, with URLs that change one thing."""

    def __init__(self, *, values: dict[str, list[str]], q: str | None, words: str | None, sort: str | None,
                 page: int):
        self.values = values
        self.q = q
        self.words = words
        self.sort = sort
        self.page = page

    def filters(self):
        from ..corpus.query import Filters

        return Filters.from_mapping({**self.values, "text": self.q, "words": self.words})

    def params(self, **change: Any) -> list[tuple[str, str]]:
        values = {k: list(v) for k, v in self.values.items()}
        q, words, sort, page = self.q, self.words, self.sort, 1
        if "toggle" in change:
            key, value = change["toggle"]
            current = values.setdefault(key, [])
            if value in current:
                current.remove(value)
            else:
                current.append(value)
        if "words" in change:
            words = None if change["words"] == words else change["words"]
        if "sort" in change:
            sort = change["sort"]
        if "page" in change:
            page = change["page"]
        out: list[tuple[str, str]] = []
        if q:
            out.append(("q", q))
        for key in FILTER_KEYS:
            out += [(key, v) for v in values.get(key, [])]
        if words:
            out.append(("words", words))
        if sort:
            out.append(("sort", sort))
        if page and page > 1:
            out.append(("page", str(page)))
        return out

    def url(self, **change: Any) -> str:
        params = self.params(**change)
        return "/?" + urlencode(params) if params else "/"

    def active(self) -> list[dict[str, str]]:
        chips = []
        labels = {**dict(FACETS), "freeform": "Additional tag"}
        for key in FILTER_KEYS:
            for v in self.values.get(key, []):
                chips.append({"label": labels[key], "value": v, "remove": self.url(toggle=(key, v))})
        if self.words:
            label = next((lab for lab, rng in WORD_BUCKETS if rng == self.words), self.words)
            chips.append({"label": "Words", "value": label, "remove": self.url(words=self.words)})
        return chips


def _bad(field: str, value: str, reason: str) -> HTTPException:
    return HTTPException(400, Errors.E405.format(field=field, value=value[:60], reason=reason))


def read_state(request: Request) -> State:
    """The library state from the query string, bounded: at most MAX_VALUES values per filter and
    MAX_VALUE_CHARS characters per value (400 otherwise)."""
    params = request.query_params
    values: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        got = [v.strip() for v in params.getlist(key) if v.strip()]
        if len(got) > MAX_VALUES:
            raise _bad(key, ",".join(got), f"at most {MAX_VALUES} values")
        for v in got:
            if len(v) > MAX_VALUE_CHARS:
                raise _bad(key, v, f"at most {MAX_VALUE_CHARS} characters")
        if got:
            values[key] = list(dict.fromkeys(got))
    q = (params.get("q") or "").strip() or None
    if q and len(q) > MAX_VALUE_CHARS:
        raise _bad("q", q, f"at most {MAX_VALUE_CHARS} characters")
    words = (params.get("words") or "").strip() or None
    if words and len(words) > 40:
        raise _bad("words", words, "use MIN..MAX")
    sort = (params.get("sort") or "").strip() or None
    if sort and sort not in dict(SORTS) and sort.lstrip("-") not in {"title", "words", "quotes", "analyzed", "id", "relevance"}:
        raise _bad("sort", sort, "use one of " + ", ".join(k for k, _ in SORTS))
    raw_page = params.get("page") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 100_000:
        raise _bad("page", raw_page, "a page number from 1")
    return State(values=values, q=q, words=words, sort=sort, page=int(raw_page))


def _check_id(story_id: str) -> str:
    if not STORY_ID.fullmatch(story_id):
        raise HTTPException(404, Errors.E403.format(id=story_id[:40]))
    return story_id


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in row.items()}
    for key in ("fandoms", "relationships", "warnings", "category"):
        out[key] = out.get(key) or []
    out["url"] = f"/stories/{row['id']}"
    # A story without a title is listed under its file name.
    out["display_title"] = row.get("title") or PurePath(str(row.get("source_path") or "")).name or "(untitled)"
    return out


# --- the ASGI guard around everything -----------------------------------------------------------


class Guard:
    """Outermost layer: security headers on every response (errors included), the Host check, the
    same-origin check on writes, and an early 413 for a declared body over the limit."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str] | None, max_body: int):
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else {h.lower().strip("[]") for h in allowed_hosts}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secure(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers[name] = value
            await send(message)

        headers = Headers(scope=scope)
        host = _hostname(headers.get("host", ""))
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            await _plain(400, "bad Host header: this server answers on its loopback address only")(scope, receive, send_secure)
            return
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if (origin and origin != "null" and urlsplit(origin).netloc != headers.get("host")) or \
                    headers.get("sec-fetch-site") == "cross-site" or origin == "null":
                await _plain(403, "cross-origin request refused")(scope, receive, send_secure)
                return
            length = headers.get("content-length")
            if length and length.isdigit() and int(length) > self.max_body:
                api = scope["path"].startswith("/api/")
                message = f"the request body is over the upload limit of {self.max_body - MULTIPART_SLACK:,} bytes"
                response = JSONResponse({"detail": message}, 413) if api else _error_page(413, message)
                # Answered at once, before any of the body is read.
                await response(scope, receive, send_secure)
                return
        await self.app(scope, receive, send_secure)


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _plain(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain; charset=utf-8")


def _error_page(status: int, message: str) -> HTMLResponse:
    html = page_env().get_template("error.html.j2").render(status=status, message=message, version=__version__)
    return HTMLResponse(html, status_code=status)


class _App(FastAPI):
    """FastAPI whose middleware stack sits inside the Guard, so even its own error responses (the
    body limit's 413, a 500) get the security headers."""

    guard_hosts: Sequence[str] | None = LOOPBACK_HOSTS
    guard_max_body: int = DEFAULT_MAX_UPLOAD + MULTIPART_SLACK

    def build_middleware_stack(self) -> ASGIApp:
        return Guard(super().build_middleware_stack(), allowed_hosts=self.guard_hosts, max_body=self.guard_max_body)


# --- the app ----------------------------------------------------------------------------------


def create_app(store_path: str | Path, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
               allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS, page_size: int = PAGE_SIZE) -> FastAPI:
    """The web app over the store at `store_path` (created empty if missing).

    max_upload_bytes: the largest story file an upload may carry (413 beyond).
    allowed_hosts: Host header names the app answers to (None: any; the default is loopback only).
    page_size: stories per library page.
    """
    library = Library(store_path, max_upload_bytes=max_upload_bytes)
    max_body = max_upload_bytes + MULTIPART_SLACK

    @asynccontextmanager
    async def lifespan(_app):
        _app.state.prewarm()
        yield
        library.close()

    app = _App(title="ficlens", version=__version__, docs_url=None, redoc_url=None,
               description="Fan fiction as data: the library of a ficlens corpus store.",
               max_body_size=max_body, lifespan=lifespan)
    app.guard_hosts = allowed_hosts
    app.guard_max_body = max_body
    app.state.library = library
    static_dir = resources.files("ficlens.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error_page(exc.status_code, str(exc.detail))

    @app.exception_handler(FiclensError)
    async def ficlens_error(request: Request, exc: FiclensError):
        status = 413 if isinstance(exc, LimitError) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return _error_page(status, str(exc))

    def render(name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(page_env().get_template(name).render(version=__version__, **context))

    # --- pages --------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def library_page(request: Request):
        return HTMLResponse(library_html(read_state(request)))

    def library_html(state: State) -> str:
        # The whole page is cached per query (until the next upload): a repeated page costs no query.
        return library._cached(("page", tuple(state.params(page=state.page))), lambda: build_library_html(state))

    def build_library_html(state: State) -> str:
        filters = state.filters()
        offset = (state.page - 1) * page_size
        sort = state.sort or ("relevance" if state.q else "title")
        if sort.lstrip("-") == "relevance" and not state.q:
            sort = "title"
        result = library.search(filters, sort=sort, limit=page_size, offset=offset)
        counts = library.facets(filters)
        words = library.word_counts(filters)
        facets = []
        for name, label in FACETS:
            values = [{"value": v, "count": n, "active": v in state.values.get(name, []),
                       "url": state.url(toggle=(name, v))} for v, n in counts.get(name, [])]
            for v in state.values.get(name, []):  # an active filter stays visible even at 0
                if not any(x["value"].lower() == v.lower() for x in values):
                    values.append({"value": v, "count": 0, "active": True, "url": state.url(toggle=(name, v))})
            facets.append({"name": name, "label": label, "entries": values})
        buckets = [{"label": label, "count": n, "active": state.words == rng, "url": state.url(words=rng)}
                   for (label, rng), n in zip(WORD_BUCKETS, words)]
        pages = max(1, -(-result.total // page_size))
        return page_env().get_template("library.html.j2").render(
            version=__version__, state=state, rows=[_row(r) for r in result.rows], total=result.total,
            facets=facets, buckets=buckets, chips=state.active(), page=state.page, pages=pages,
            prev_url=state.url(page=state.page - 1) if state.page > 1 else None,
            next_url=state.url(page=state.page + 1) if state.page < pages else None,
            page_links=_page_links(state, pages),
            sorts=[(k, label) for k, label in SORTS if k != "relevance" or state.q], sort=sort,
            hidden=[(k, v) for k, v in state.params() if k not in ("q", "sort", "page")],
            api_url="/api/stories" + ("?" + urlencode(state.params()) if state.params() else ""),
        )

    def prewarm() -> None:
        # The first library page needs every facet query (a few hundred ms on 10,000 stories):
        # compute it in the background at start and after each upload, so no visitor waits for it.
        def run():
            try:
                library_html(State(values={}, q=None, words=None, sort=None, page=1))
            except Exception:  # a broken store shows itself on the first real request instead
                pass

        threading.Thread(target=run, name="ficlens-prewarm", daemon=True).start()

    app.state.prewarm = prewarm

    @app.get("/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    def story_page(story_id: str):
        html = library.report(_check_id(story_id))
        if html is None:
            raise HTTPException(404, Errors.E403.format(id=story_id))
        return HTMLResponse(html)

    @app.get("/stories/{story_id}/report.html", include_in_schema=False)
    def story_file(story_id: str):
        html = library.report(_check_id(story_id), standalone=True)
        if html is None:
            raise HTTPException(404, Errors.E403.format(id=story_id))
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="ficlens-{story_id}.html"'})

    @app.get("/upload", response_class=HTMLResponse, include_in_schema=False)
    def upload_page():
        return render("upload.html.j2", message=None, limit=max_upload_bytes)

    @app.post("/upload", include_in_schema=False)
    async def upload_form(file: UploadFile | None = File(None)):
        try:
            added = await _accept(file)
        except FiclensError as e:
            status = 413 if isinstance(e, LimitError) else 400
            return HTMLResponse(page_env().get_template("upload.html.j2").render(
                version=__version__, message=str(e), limit=max_upload_bytes), status_code=status)
        return RedirectResponse(f"/stories/{added['id']}", status_code=303)

    async def _accept(file: UploadFile | None) -> dict[str, Any]:
        if file is None or not file.filename:
            raise InputError(Errors.E404)
        data = await file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise LimitError(Errors.E402.format(name=safe_filename(file.filename), size=len(data),
                                                limit=max_upload_bytes))
        added = await run_in_threadpool(library.add, data, file.filename)
        prewarm()
        return added

    @app.get("/assets/{name}", include_in_schema=False)
    def report_asset(name: str):
        # The report's own CSS and JS, from the package (never a path from the request).
        from ..export.report import asset_text

        types = {"report.css": "text/css; charset=utf-8", "report.js": "text/javascript; charset=utf-8"}
        if name not in types:
            raise HTTPException(404, "no such file")
        return Response(asset_text(name), media_type=types[name], headers={"cache-control": "max-age=300"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return RedirectResponse("/static/favicon.svg", status_code=308)

    # --- JSON API -----------------------------------------------------------------------------

    def api_state(request: Request) -> State:
        return read_state(request)

    @app.get("/api/stories", response_model=StoryPage, responses={400: {"model": ApiError}},
             summary="Search the library", tags=["stories"])
    def api_stories(
        request: Request,
        filters: Annotated[LibraryFilters, Query()],
        sort: str | None = Query(None, description="relevance, title, words, quotes, analyzed, id; '-' reverses"),
        limit: int = Query(PAGE_SIZE, ge=0, le=MAX_API_LIMIT),
        offset: int = Query(0, ge=0, le=10_000_000),
    ):
        state = api_state(request)
        result = library.search(state.filters(), sort=state.sort, limit=limit, offset=offset)
        return {"total": result.total, "limit": limit, "offset": offset, "stories": [_row(r) for r in result.rows]}

    @app.get("/api/stories/{story_id}", responses={404: {"model": ApiError}}, tags=["stories"],
             summary="One story's JSON document (schema ficlens/1)")
    def api_story(story_id: str) -> dict[str, Any]:
        got = library.document(_check_id(story_id))
        if got is None:
            raise HTTPException(404, Errors.E403.format(id=story_id))
        return got[0]

    @app.get("/api/facets", response_model=FacetCounts, responses={400: {"model": ApiError}},
             summary="Facet counts over the matching stories", tags=["stories"])
    def api_facets(request: Request, filters: Annotated[LibraryFilters, Query()]):
        state = api_state(request)
        filters = state.filters()
        total = library.search(filters, sort=None, limit=0, offset=0).total
        counts = library.facets(filters)
        buckets = library.word_counts(filters)
        return {
            "total": total,
            "facets": {name: [{"value": v, "count": n} for v, n in counts.get(name, [])] for name, _ in FACETS},
            "words": [{"label": label, "range": rng, "count": n} for (label, rng), n in zip(WORD_BUCKETS, buckets)],
        }

    @app.post("/api/stories", response_model=UploadResult, status_code=201, tags=["stories"],
              responses={400: {"model": ApiError}, 413: {"model": ApiError}},
              summary="Add a story: upload a .txt, .html or .epub file; it is analysed and stored")
    async def api_upload(file: UploadFile | None = File(None, description="the story file")):
        added = await _accept(file)
        return {**added, "url": f"/stories/{added['id']}"}

    return app


def _page_links(state: State, pages: int) -> list[tuple[int, str | None]]:
    """Page numbers around the current one (None url = the current page; 0 = a gap)."""
    shown = sorted({1, pages, *range(max(1, state.page - 2), min(pages, state.page + 2) + 1)})
    out: list[tuple[int, str | None]] = []
    prev = 0
    for n in shown:
        if n - prev > 1:
            out.append((0, None))
        out.append((n, None if n == state.page else state.url(page=n)))
        prev = n
    return out
