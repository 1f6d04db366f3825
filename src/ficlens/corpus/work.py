"""What a worker does with a batch of stories: read, run the pipeline, return plain dicts.

Every engine (the local process pool, Ray, the in-process mode tests use) calls `analyze_batch`, so
all of them give the same rows. A worker computes only; the run's single writer stores the results.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import Errors, FiclensError, InputError
from ..limits import DEFAULT_LIMITS, Limits

# A short text the worker runs once at start, so every model is loaded before the first deadline.
WARM_UP = 'Title: Warm-up\n\n"Ready?" she asked.\n\nHe nodded and they went out together.\n'
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@dataclass(frozen=True)
class Task:
    """One story to analyse: its name, bytes and the SHA-256 of those bytes."""

    name: str
    data: bytes
    sha: str


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to build its pipeline (picklable: it crosses process boundaries)."""

    limits: Limits = DEFAULT_LIMITS
    # "module:function" returning a Pipeline; None for ficlens's default pipeline.
    pipeline_factory: str | None = None


class StoryTimeout(BaseException):
    """Raised by the alarm when a batch runs past its deadline (engines without process kill).

    A BaseException, so that a stage's own `except Exception` cannot swallow it."""


def single_thread_env() -> None:
    """One thread per worker: the workers are the parallelism, more threads only fight for cores."""
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")


def build_pipeline(config: WorkerConfig):
    if config.pipeline_factory:
        import importlib

        module, _, func = config.pipeline_factory.partition(":")
        return getattr(importlib.import_module(module), func)()
    from ..api import get_pipeline

    return get_pipeline()


def warm_up(pipeline) -> None:
    from ..read import story_from_text
    from ..model import Source

    pipeline(story_from_text(WARM_UP, Source(path="<warm-up>", format="txt", encoding="utf-8")))


def ok_result(task: Task, story) -> dict[str, Any]:
    from ..export.json import story_to_dict
    from .rows import story_rows

    story.docs = []  # the spaCy Docs are the bulk of a story's memory and are not exported
    doc = story_to_dict(story)
    return {"path": task.name, "sha": task.sha, "story_id": story.id, "words": doc["stats"]["words"],
            "rows": story_rows(doc, text=story.text, source_text=story.source_text)}


def error_result(task: Task, error_type: str, message: str) -> dict[str, Any]:
    return {"path": task.name, "sha": task.sha, "error_type": error_type, "message": message}


def timeout_result(task: Task, seconds: float) -> dict[str, Any]:
    return error_result(task, "Timeout", Errors.E011.format(path=task.name, seconds=_fmt_seconds(seconds)))


def crash_result(task: Task, code: Any) -> dict[str, Any]:
    return error_result(task, "WorkerCrash", Errors.E203.format(path=task.name, code=code))


def _internal(task: Task, e: BaseException) -> dict[str, Any]:
    return error_result(task, "InternalError", Errors.E204.format(path=task.name, kind=type(e).__name__, reason=e))


def _read(task: Task, limits: Limits):
    from ..read import read_bytes

    story = read_bytes(task.data, task.name, limits=limits)
    if not story.text.strip():
        raise InputError(Errors.E010.format(path=task.name))
    return story


def analyze_batch(tasks: list[Task], pipeline, limits: Limits = DEFAULT_LIMITS,
                  timeout: float | None = None) -> list[dict[str, Any]]:
    """One result dict per task, in order: `{"path", "sha", "story_id", "words", "rows"}` or an error
    `{"path", "sha", "error_type", "message"}`.

    The readable stories run through `pipeline.pipe` together (spaCy batches across them). If that
    fails, each story runs alone so that one bad story costs only its own row. With `timeout`, an
    alarm bounds the batch (from the main thread only); a batch that runs out is redone one story at
    a time, so exactly the stories that exceed the limit become Timeout errors.
    """
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    stories = []
    for i, task in enumerate(tasks):
        try:
            stories.append((i, _read(task, limits)))
        except FiclensError as e:
            results[i] = error_result(task, type(e).__name__, str(e))
        except Exception as e:  # noqa: BLE001 - a reader bug must not stop the run
            results[i] = _internal(task, e)
    if stories:
        try:
            with _deadline(timeout):
                pipeline.pipe([s for _, s in stories])
            for i, story in stories:
                results[i] = ok_result(tasks[i], story)
        except (Exception, StoryTimeout) as batch_error:
            if len(stories) == 1:
                i, _ = stories[0]
                results[i] = _failure(tasks[i], batch_error, timeout)
            else:
                for i, _ in stories:
                    results[i] = _analyze_one(tasks[i], pipeline, limits, timeout)
    return results  # type: ignore[return-value]


def _analyze_one(task: Task, pipeline, limits: Limits, timeout: float | None) -> dict[str, Any]:
    try:
        story = _read(task, limits)  # afresh: the failed batch may have half-annotated it
        with _deadline(timeout):
            pipeline.pipe([story])
        return ok_result(task, story)
    except (Exception, StoryTimeout) as e:
        return _failure(task, e, timeout)


def _failure(task: Task, e: BaseException, timeout: float | None) -> dict[str, Any]:
    if isinstance(e, StoryTimeout):
        return timeout_result(task, timeout or 0)
    if isinstance(e, FiclensError):
        return error_result(task, type(e).__name__, str(e))
    return _internal(task, e)


class _deadline:
    """Raise StoryTimeout in this thread after `seconds`.

    On the main thread a SIGALRM does it (it also cuts a sleep short); on any other thread (Ray Data
    runs actors' calls off the main thread) a watchdog thread raises the exception asynchronously in
    this one. Either way it lands at the next Python instruction: a C call that never returns is out
    of reach, which is why the local engine kills the worker process instead.
    """

    def __init__(self, seconds: float | None):
        self.seconds = seconds or None
        self.previous: Callable | int | None = None
        self.watchdog: threading.Timer | None = None
        self.on_main = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def __enter__(self):
        if self.seconds is None:
            return self
        if self.on_main:
            self.previous = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        else:
            target = threading.get_ident()
            self.watchdog = threading.Timer(self.seconds, _raise_in_thread, args=(target,))
            self.watchdog.daemon = True
            self.watchdog.start()
        return self

    def __exit__(self, *exc):
        if self.seconds is None:
            return False
        if self.on_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        elif self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog.join()
            if getattr(self.watchdog, "fired", False) and exc[0] is None:
                # It fired as the block ended: drop the exception still pending for this thread (it
                # would surface anywhere later) and report the timeout here instead.
                import ctypes

                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)
                raise StoryTimeout()
        return False


def _on_alarm(signum, frame):
    raise StoryTimeout()


def _raise_in_thread(thread_id: int) -> None:
    import ctypes

    threading.current_thread().fired = True  # type: ignore[attr-defined]
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(StoryTimeout))


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:g}"


def peak_rss_bytes() -> int:
    """This process's peak resident memory (ru_maxrss is in KiB on Linux)."""
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def worker_main(conn, config: WorkerConfig) -> None:
    """A local-pool worker: build the pipeline once, then analyse batches until told to stop.

    Messages in: a list of Tasks, or None to stop. Out: ("ready", pid), ("failed", reason), or
    ("done", results, peak_rss_bytes, cpu_seconds). A closed pipe (the run was killed) ends the worker quietly.
    """
    single_thread_env()
    try:
        pipeline = build_pipeline(config)
        warm_up(pipeline)
    except BaseException as e:  # noqa: BLE001 - reported to the run, which decides
        try:
            conn.send(("failed", f"{type(e).__name__}: {e}"))
        finally:
            return
    try:
        conn.send(("ready", os.getpid()))
        while True:
            tasks = conn.recv()
            if tasks is None:
                return
            cpu = time.process_time()
            results = analyze_batch(tasks, pipeline, config.limits)
            conn.send(("done", results, peak_rss_bytes(), time.process_time() - cpu))
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return
