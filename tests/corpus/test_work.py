"""What a worker does with a batch: results in order, one bad story costs only its own row."""
from __future__ import annotations

import hashlib
import threading

from corpus_testkit import SPIN, STORIES, light_pipeline

from ficlens.corpus.work import Task, analyze_batch


def task(name: str, text: str | bytes) -> Task:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return Task(name, data, hashlib.sha256(data).hexdigest())


def test_results_in_order_with_rows_and_errors():
    tasks = [task("a.txt", STORIES["orchard.txt"]), task("b.txt", b"\x00\x01\x02 binary\x00" * 8),
             task("c.txt", "   \n"), task("d.txt", STORIES["station.txt"])]
    results = analyze_batch(tasks, light_pipeline())
    assert [r["path"] for r in results] == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert [r.get("error_type") for r in results] == [None, "InputError", "InputError", None]
    assert results[2]["message"] == "c.txt: holds no story text"
    story = results[3]["rows"]["stories"][0]
    assert story["title"] == "Last Train" and story["id"] == results[3]["story_id"]
    quotes = results[3]["rows"]["quotes"]
    assert quotes[0]["text"] == '"I\'m not getting on,"'
    text = STORIES["station.txt"]
    assert all(text[q["start"]:q["end"]] == q["text"] for q in quotes)
    assert results[0]["sha"] == hashlib.sha256(STORIES["orchard.txt"].encode()).hexdigest()


def test_timeout_off_the_main_thread_hits_only_the_slow_story():
    # Ray runs its actors' calls off the main thread: there the deadline is a watchdog thread.
    tasks = [task("a.txt", STORIES["comet.txt"]), task("spin.txt", f"Again and again. {SPIN}\n"),
             task("c.txt", STORIES["ferry.txt"])]
    out = {}
    worker = threading.Thread(target=lambda: out.update(r=analyze_batch(tasks, light_pipeline(), timeout=1.0)))
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    results = out["r"]
    assert [r.get("error_type") for r in results] == [None, "Timeout", None]
    assert results[1]["message"] == "spin.txt: analysis took longer than the limit of 1 s"
