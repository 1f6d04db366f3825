"""A corpus run: stream the sources, skip what the store already has, analyse the rest, store it.

The main process reads the sources, decides what to do, and is the store's only writer; workers only
compute and return plain dicts (`work.analyze_batch`). Memory stays bounded whatever the corpus size:
sources are streamed, and each worker holds one batch at a time.

Engines:
- `local` (default): a pool of worker processes, one per core. Each loads the models once. A batch
  that runs past the per-story timeout gets its worker killed and replaced, and its stories are redone
  one at a time, so exactly the slow ones become Timeout errors; a worker that dies is replaced the same way.
- `ray`: Ray Data over a local Ray instance or a cluster (`ray_engine.py`).
- workers=0: everything in this process (tests, debugging); the timeout is then an alarm signal.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..errors import Errors, FiclensError
from ..limits import DEFAULT_LIMITS, Limits
from .sources import SourceItem, count_items, iter_items
from .store import Store
from .work import Task, WorkerConfig, analyze_batch, build_pipeline, crash_result, timeout_result

BATCH_STORIES = 32         # stories per batch at most
BATCH_BYTES = 64 * 1024    # about 11,000 words: a second or so of work, small enough for a fair spread
LOOKUP_CHUNK = 64          # inputs checked against the store per query, at most
LOOKUP_BYTES = 32 << 20    # and at most this many bytes of them read ahead


@dataclass
class RunSummary:
    """Where a run stands (passed to `on_progress` after every change) and how it ended."""

    run_id: int = 0
    engine: str = "local"
    workers: int = 0
    total: int | None = None   # inputs the sources hold, when cheap to count
    seen: int = 0              # inputs dealt with so far (written, skipped or failed)
    stories: int = 0           # stories written
    duplicates: int = 0        # inputs whose story was already stored (same content, another file)
    skipped: int = 0           # inputs already done by an earlier run
    errors: int = 0            # errors recorded
    words: int = 0             # words of the stories written
    restarts: int = 0          # workers replaced after a timeout or crash
    peak_worker_rss: int = 0   # the largest peak resident memory of a worker, in bytes
    work_seconds: float = 0.0  # from the first batch handed out to the last result (no model loading)
    busy_seconds: float = 0.0  # summed over workers: wall time spent on batches
    cpu_seconds: float = 0.0   # summed over workers: CPU time spent on batches (words / this = words/s per core)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_corpus(
    sources: Sequence[str | os.PathLike],
    store: str | os.PathLike,
    *,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    force: bool = False,
    retry_errors: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float | None = None,
    batch_stories: int = BATCH_STORIES,
    batch_bytes: int = BATCH_BYTES,
    pipeline_factory: str | None = None,
    count: bool = True,
    on_progress: Callable[[RunSummary], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> RunSummary:
    """Analyse every story in `sources` into the store at `store`; returns the run's summary.

    engine: "local" (process pool) or "ray". workers: processes (default: one per core; 0 runs in
    this process). address: a Ray cluster to join (default: start a local Ray instance).
    force: redo stories already stored. retry_errors: retry inputs that failed before.
    limits: size limits for inputs and archives; timeout: seconds per story (default limits.timeout_seconds).
    batch_stories/batch_bytes: how many stories go to a worker at once. pipeline_factory:
    "module:function" building the Pipeline (default: ficlens's). count: count the inputs first
    (for an ETA) when that is cheap. on_progress(summary): after every change. on_result(dict):
    once per input dealt with: path, story_id, words, status (ok | duplicate | skipped | error), message.
    """
    workers = default_workers() if workers is None else max(0, int(workers))
    timeout = limits.timeout_seconds if timeout is None else timeout
    config = WorkerConfig(limits=limits, pipeline_factory=pipeline_factory)
    sources = [str(s) for s in sources]
    summary = RunSummary(engine=engine, workers=workers)
    progress = on_progress or (lambda s: None)
    report = on_result or (lambda r: None)
    with Store(store) as db:
        summary.run_id = run_id = db.begin_run(engine=engine, workers=workers, sources=sources)
        if count:
            summary.total = count_items(sources, limits)
        progress(summary)

        def write(results: list[dict[str, Any]]) -> None:
            outcome = db.write_results(results, run_id=run_id, force=force)
            summary.stories += outcome.stories
            summary.duplicates += outcome.duplicates
            summary.errors += outcome.errors
            summary.words += outcome.words
            summary.seen += len(results)
            for r in outcome.written:
                report(r)
            progress(summary)

        batches = _plan(iter_items(sources, limits), db, run_id, summary, write, report, progress,
                        force=force, retry_errors=retry_errors,
                        batch_stories=max(1, batch_stories), batch_bytes=batch_bytes)
        finished = False
        try:
            if engine == "ray":
                from .ray_engine import RayEngine

                runner = RayEngine(workers=workers or 1, address=address, config=config, timeout=timeout)
            elif engine == "local":
                runner = (InlineEngine(config=config, timeout=timeout) if workers == 0
                          else LocalEngine(workers=workers, config=config, timeout=timeout))
            else:
                raise FiclensError(Errors.E210.format(field="engine", value=engine, names="local, ray"))
            runner.run(batches, write)
            summary.restarts = getattr(runner, "restarts", 0)
            summary.peak_worker_rss = getattr(runner, "peak_rss", 0)
            summary.work_seconds = getattr(runner, "work_seconds", 0.0)
            summary.busy_seconds = getattr(runner, "busy_seconds", 0.0)
            summary.cpu_seconds = getattr(runner, "cpu_seconds", 0.0)
            finished = True
        finally:
            summary.seconds = summary.elapsed
            db.end_run(run_id, stories=summary.stories, skipped=summary.skipped, errors=summary.errors,
                       words=summary.words, finished=finished)
        if summary.stories or db.fts_stale():
            db.rebuild_fts()
        db.checkpoint()
    return summary


def _plan(items: Iterable[SourceItem], db: Store, run_id: int, summary: RunSummary,
          write: Callable[[list[dict[str, Any]]], None], report, progress, *, force: bool,
          retry_errors: bool, batch_stories: int, batch_bytes: int) -> Iterator[list[Task]]:
    """The batches still to analyse. Unreadable inputs are recorded as errors on the way; inputs
    whose bytes are already done are skipped (or, under a new path, recorded as another input)."""
    batch: list[Task] = []
    size = 0
    for chunk in _chunks(items, LOOKUP_CHUNK, LOOKUP_BYTES):
        failed = [{"path": it.name, "sha": None, "error_type": it.error_type or "InputError", "message": it.error}
                  for it in chunk if it.error is not None]
        if failed:
            write(failed)
        tasks = [Task(it.name, it.data, hashlib.sha256(it.data).hexdigest()) for it in chunk if it.error is None]
        todo = tasks if force else _not_done(tasks, db, run_id, summary, report, retry_errors)
        if len(todo) < len(tasks):
            progress(summary)
        for task in todo:
            if batch and (len(batch) >= batch_stories or size + len(task.data) > batch_bytes):
                yield batch
                batch, size = [], 0
            batch.append(task)
            size += len(task.data)
    if batch:
        yield batch


def _not_done(tasks: list[Task], db: Store, run_id: int, summary: RunSummary, report,
              retry_errors: bool) -> list[Task]:
    if not tasks:
        return []
    known = db.done_lookup([(t.name, t.sha) for t in tasks])
    todo, aliases = [], []
    for t in tasks:
        paths = known["inputs"].get(t.sha)
        if paths and t.name in paths:
            status, story_id = "skipped", paths[t.name]
        elif paths:  # the same bytes under another name: nothing to compute, one more input
            story_id = sorted(paths.items())[0][1]
            aliases.append((t.name, t.sha, story_id))
            status = "skipped"
        elif (t.name, t.sha) in known["errors"] and not retry_errors:
            status, story_id = "skipped", None
        else:
            todo.append(t)
            continue
        summary.skipped += 1
        summary.seen += 1
        report({"path": t.name, "story_id": story_id, "words": None, "status": status, "message": None})
    db.add_inputs(aliases, run_id)
    return todo


def _chunks(items: Iterable[SourceItem], n: int, max_bytes: int) -> Iterator[list[SourceItem]]:
    chunk: list[SourceItem] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item.data or b"")
        if len(chunk) >= n or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


class InlineEngine:
    """Everything in this process: for tests and debugging (the timeout is an alarm signal)."""

    def __init__(self, *, config: WorkerConfig, timeout: float | None):
        """config: how to build the pipeline. timeout: seconds per story, None for no limit."""
        self.config = config
        self.timeout = timeout
        self.peak_rss = 0
        self.work_seconds = self.busy_seconds = self.cpu_seconds = 0.0

    def run(self, batches: Iterator[list[Task]], on_results: Callable[[list[dict[str, Any]]], None]) -> None:
        from .work import peak_rss_bytes

        pipeline = build_pipeline(self.config)
        for batch in batches:
            start, cpu = time.monotonic(), time.process_time()
            results = analyze_batch(batch, pipeline, self.config.limits, self.timeout)
            self.busy_seconds += time.monotonic() - start
            self.cpu_seconds += time.process_time() - cpu
            on_results(results)
        self.work_seconds = self.busy_seconds
        self.peak_rss = peak_rss_bytes()


class _Worker:
    __slots__ = ("proc", "conn", "ready", "tasks", "deadline", "sent")

    def __init__(self, proc, conn):
        self.proc, self.conn = proc, conn
        self.ready = False
        self.tasks: list[Task] | None = None
        self.deadline = 0.0
        self.sent = 0.0


class LocalEngine:
    """A pool of worker processes (spawned, so no thread or database handle is ever forked)."""

    def __init__(self, *, workers: int, config: WorkerConfig, timeout: float | None):
        """workers: processes. config: how each builds its pipeline. timeout: seconds per story (None: no limit)."""
        self.workers = max(1, workers)
        self.config = config
        self.timeout = timeout
        self.restarts = 0
        self.peak_rss = 0
        self.work_seconds = self.busy_seconds = self.cpu_seconds = 0.0
        self._first_sent: float | None = None

    def _start(self, ctx) -> _Worker:
        from .work import worker_main

        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(child, self.config), daemon=True, name="ficlens-worker")
        proc.start()
        child.close()  # so that the parent sees EOF when the worker dies
        return _Worker(proc, parent)

    def run(self, batches: Iterator[list[Task]], on_results: Callable[[list[dict[str, Any]]], None]) -> None:
        import multiprocessing as mp
        from multiprocessing.connection import wait

        first = next(batches, None)
        if first is None:  # nothing to do: no need to start (and load models in) any worker
            return
        batches = itertools.chain([first], batches)
        ctx = mp.get_context("spawn")
        pool = [self._start(ctx) for _ in range(self.workers)]
        redo: deque[list[Task]] = deque()  # batches split after a timeout or crash, one story each
        exhausted = False
        ever_ready = False
        startup_deaths = 0  # workers that died before they were ready, since one last was

        def feed() -> None:
            nonlocal exhausted
            for w in pool:
                if not w.ready or w.tasks is not None:
                    continue
                if redo:
                    tasks = redo.popleft()
                elif exhausted:
                    return
                else:
                    tasks = next(batches, None)
                    if tasks is None:
                        exhausted = True
                        return
                if not self._send(w, tasks):  # it died just now: its death is handled when seen
                    redo.appendleft(tasks)

        def died(i: int) -> list[dict[str, Any]]:
            nonlocal startup_deaths
            w = pool[i]
            if not w.ready:
                startup_deaths += 1
                # No worker ever started, or they keep dying while loading: the pipeline cannot load.
                if not ever_ready or startup_deaths > 2 * self.workers:
                    raise FiclensError(Errors.E212.format(reason=f"a worker exited with code {w.proc.exitcode}"))
            return self._replace(ctx, pool, i, redo, crashed=True)

        try:
            while True:
                feed()
                busy = [w for w in pool if w.tasks is not None]
                if not busy and exhausted and not redo:
                    return
                # Wait for a message, a worker's death or the nearest deadline.
                deadlines = [w.deadline for w in busy] if self.timeout else []
                wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                ready = set(wait([w.conn for w in pool] + [w.proc.sentinel for w in pool], timeout=wait_for))
                results: list[dict[str, Any]] = []
                for i, w in enumerate(list(pool)):
                    if w.conn in ready:
                        try:
                            msg = w.conn.recv()
                        except (EOFError, OSError):
                            results += died(i)
                            continue
                        if msg[0] == "ready":
                            w.ready = ever_ready = True
                            startup_deaths = 0
                        elif msg[0] == "failed":
                            raise FiclensError(Errors.E212.format(reason=msg[1]))
                        else:
                            _, batch_results, rss, cpu = msg
                            self.cpu_seconds += cpu
                            w.tasks = None
                            self.peak_rss = max(self.peak_rss, rss)
                            now = time.monotonic()
                            self.busy_seconds += now - w.sent
                            self.work_seconds = now - (self._first_sent or now)
                            results += batch_results
                    elif w.proc.sentinel in ready:
                        results += died(i)
                now = time.monotonic()
                for i, w in enumerate(list(pool)):
                    if self.timeout and w.tasks is not None and now >= w.deadline:
                        results += self._replace(ctx, pool, i, redo, crashed=False)
                # Idle workers get their next batch before the write, which keeps this process busy.
                feed()
                if results:
                    on_results(results)
        finally:
            self._shutdown(pool)

    def _send(self, w: _Worker, tasks: list[Task]) -> bool:
        try:
            w.conn.send(tasks)
        except (OSError, ValueError):
            w.ready = False
            return False
        w.tasks = tasks
        w.sent = time.monotonic()
        if self._first_sent is None:
            self._first_sent = w.sent
        w.deadline = w.sent + (self.timeout or 0)
        return True

    def _replace(self, ctx, pool: list[_Worker], i: int, redo: deque, *, crashed: bool) -> list[dict[str, Any]]:
        """Kill worker i, start another in its place; returns error results for a lone story it held."""
        w = pool[i]
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(5)
        code = w.proc.exitcode
        w.conn.close()
        pool[i] = self._start(ctx)
        self.restarts += 1
        tasks = w.tasks or []
        if len(tasks) > 1:  # redo one at a time to find the story at fault
            redo.extendleft([t] for t in reversed(tasks))
            return []
        if not tasks:
            return []
        return [crash_result(tasks[0], code) if crashed else timeout_result(tasks[0], self.timeout or 0)]

    def _shutdown(self, pool: list[_Worker]) -> None:
        for w in pool:
            if w.ready and w.tasks is None:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + 5
        for w in pool:
            if w.ready and w.tasks is None:
                w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(5)
            w.conn.close()
