"""The Ray engine: the same batches as the local pool, analysed by Ray Data actors.

`ray.init(address=...)` joins an existing cluster; without an address a local Ray instance is started
for the run (and stopped after). Each actor builds the pipeline once (`map_batches` with an actor class
and `ActorPoolStrategy`). The driver (this process) streams the sources, sends batches in windows of
bounded size (each window one Ray dataset), and stays the store's only writer.

Every Ray row carries one whole ficlens batch (pickled), so the actors run `analyze_batch` on exactly
the batches the local engine would: same input, same rows. On a cluster, every node needs ficlens
installed (the same version); the story bytes travel with the tasks, so no shared filesystem is needed.
The per-story timeout is an alarm inside the actor: it stops Python code, not a C call that never
returns (the local engine, which kills the worker, has no such gap).
"""
from __future__ import annotations

import itertools
import os
import pickle
from typing import Any, Callable, Iterator

from ..errors import Errors, FiclensError
from .work import Task, WorkerConfig

WINDOW_BATCHES = 256              # batches per worker in one Ray dataset (its actors load the models once)
WINDOW_BYTES = 256 * 1024 * 1024  # and at most this many bytes of stories in flight


class _Analyzer:
    """The Ray Data actor: one pipeline per actor, one ficlens batch per call."""

    config: WorkerConfig = WorkerConfig()
    timeout: float | None = None

    def __init__(self):
        from .work import build_pipeline, single_thread_env, warm_up

        single_thread_env()
        self.pipeline = build_pipeline(self.config)
        warm_up(self.pipeline)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from .work import analyze_batch, peak_rss_bytes

        out = []
        for payload in batch["payload"]:
            tasks = pickle.loads(payload)
            results = analyze_batch(tasks, self.pipeline, self.config.limits, self.timeout)
            out.append(pickle.dumps((results, peak_rss_bytes()), protocol=pickle.HIGHEST_PROTOCOL))
        return {"results": out}


class RayEngine:
    def __init__(self, *, workers: int, address: str | None, config: WorkerConfig, timeout: float | None):
        """workers: actors. address: Ray cluster address (None: start a local instance).
        config: how actors build the pipeline. timeout: seconds per story (None: no limit)."""
        self.workers = max(1, workers)
        self.address = address
        self.config = config
        self.timeout = timeout
        self.peak_rss = 0
        self.restarts = 0

    def run(self, batches: Iterator[list[Task]], on_results: Callable[[list[dict[str, Any]]], None]) -> None:
        try:
            import ray
            import ray.data
        except ImportError as e:
            raise FiclensError(Errors.E211) from e
        first = next(batches, None)
        if first is None:  # nothing to do: do not start Ray
            return
        batches = itertools.chain([first], batches)
        started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            # Ray Data keeps its UDF in the object store and the driver's core worker logs an error
            # line about it for every actor pool; real failures still raise in Python.
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": "ERROR"}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.workers
            ray.init(**kwargs)
            started = True
        try:
            import logging

            logging.getLogger("ray.data").setLevel(logging.ERROR)  # the run has its own progress bar
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False
            ctx.print_on_execution_start = False
            for window in _windows(batches, self.workers * WINDOW_BATCHES, WINDOW_BYTES):
                self._run_window(ray, window, on_results)
        finally:
            if started:
                ray.shutdown()

    def _run_window(self, ray, window: list[list[Task]], on_results) -> None:
        payloads = [{"payload": pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL)} for b in window]
        ds = ray.data.from_items(payloads, override_num_blocks=len(payloads))
        # The settings ride on the class, not as constructor arguments: those would sit in the
        # object store, which Ray warns about for restartable actors.
        analyzer = type("Analyzer", (_Analyzer,), {"config": self.config, "timeout": self.timeout})
        ds = ds.map_batches(
            analyzer,
            batch_size=1,  # one ficlens batch per call: the batches stay exactly as planned
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(window))),
            num_cpus=1,
        )
        for row in ds.iter_rows():
            results, rss = pickle.loads(row["results"])
            self.peak_rss = max(self.peak_rss, rss)
            on_results(results)


def _windows(batches: Iterator[list[Task]], max_batches: int, max_bytes: int) -> Iterator[list[list[Task]]]:
    window: list[list[Task]] = []
    size = 0
    for batch in batches:
        window.append(batch)
        size += sum(len(t.data) for t in batch)
        if len(window) >= max_batches or size >= max_bytes:
            yield window
            window, size = [], 0
    if window:
        yield window
