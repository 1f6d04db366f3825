"""Load test of `ficlens serve`: the library page of a 10,000-story store, on loopback only.

    python benchmarks/bench_serve.py                 # build (or reuse) the store, then measure
    python benchmarks/bench_serve.py --stories 2000 --clients 20 --seconds 5

The store is SYNTHETIC: the example stories in examples/ are analysed once by the real pipeline,
then copied N times with fresh ids, numbered titles, and tags drawn from made-up fandoms, pairings,
ratings and warnings (and a word count scaled per copy), so that facets and sorting have realistic
spread. Every row goes through `corpus.rows.story_rows` and `Store.write_results`, as a corpus run's
do; only the analysis is shared. It is built once under out/bench/ and reused.

The server runs as its own process (`ficlens serve`, 127.0.0.1, a free port). Measured, in order:
1. single requests one after another: the library page (cached after the first), then distinct
   pages and facet filters (each a cache miss: real DuckDB queries), p50/p95 of each;
2. N concurrent clients for a bounded time (wrk when installed, else an asyncio HTTP/1.1 loop with
   keep-alive), over a rotation of library URLs; p50/p95/p99, requests/s and errors.
Target: library page under 200 ms; 50 clients for 10 s with no errors.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FANDOMS = ["Harbor Lights", "Clockwork Tales", "The Long Road", "Starfall Academy", "Paper Moons",
           "Iron & Ivy", "Northern Rail", "Glasshouse", "Saltwater Saints", "Quiet Hours", "Lantern Street",
           "Orchard Kings", "The Ninth Gate", "Snowbound", "Copper Crowns", "Midnight Bakery", "Signal Fire",
           "Wild Acre", "Blue Meridian", "Hollow Pines"]
FIRST = ["Ada", "Rowan", "Ilse", "Pim", "Juno", "Odile", "Wren", "Tobias", "Nora", "Mags", "Quill", "Lior",
         "Sasha", "Bram", "Edda", "Kit", "Marlo", "Tess", "Yusuf", "Zora", "Hale", "Ines", "Oskar", "Priya"]
LAST = ["Finch", "Vale", "Brandt", "Reed", "Quill", "Marsh", "Holt", "Sterling", "Kaur", "Novak"]
RATINGS = ["General Audiences", "Teen And Up Audiences", "Mature", "Explicit"]
WARNINGS = ["No Archive Warnings Apply", "Graphic Depictions Of Violence", "Major Character Death"]
FREEFORM = ["Fluff", "Angst", "Hurt/Comfort", "Slow Burn", "Found Family", "Love Confessions", "Getting Back Together"]


def _tag(name: str, confidence: float = 0.8) -> dict:
    return {"name": name, "confidence": confidence, "evidence": []}


def analysed_examples() -> list[tuple[dict, str, str]]:
    """(document, text, source_text) of each example story, through the real pipeline."""
    from ficlens.api import analyze_path
    from ficlens.export.json import story_to_dict

    out = []
    for path in sorted((REPO / "examples").glob("*.txt")):
        story = analyze_path(path)
        story.docs = []
        out.append((story_to_dict(story), story.text, story.source_text))
    if not out:
        raise SystemExit("no example stories in examples/")
    return out


def synthetic_result(i: int, base: tuple[dict, str, str], rng: random.Random) -> dict:
    """Copy i of a base story, as a worker result for Store.write_results."""
    from ficlens.corpus.rows import story_rows

    doc, text, source_text = base
    sid = hashlib.sha256(f"ficlens-bench-{i}".encode()).hexdigest()[:16]
    chars = rng.sample([f"{f} {rng.choice(LAST)}" for f in rng.sample(FIRST, 8)], 4)
    a, b = chars[0], chars[1]
    romantic = rng.random() < 0.7
    rel = "/".join(sorted((a, b))) if romantic else " & ".join(sorted((a, b)))
    scale = rng.choice([0.5, 1, 2, 5, 10, 25, 60, 150, 400])
    tags = {
        "rating": _tag(rng.choices(RATINGS, weights=[4, 4, 2, 1])[0]),
        "warnings": [_tag(w) for w in rng.sample(WARNINGS, rng.choice([1, 1, 1, 2]))],
        "category": [_tag("F/M" if romantic else "Gen")],
        "fandoms": [_tag(rng.choice(FANDOMS), 0.9)],
        "relationships": [{**_tag(rel), "kind": "romantic" if romantic else "platonic"}],
        "characters": [_tag(c) for c in chars],
        "freeform": [_tag(t) for t in rng.sample(FREEFORM, 2)],
        "words": int(doc["stats"]["words"] * scale),
        "language": "English",
    }
    copy = {**doc, "id": sid, "tags": tags,
            "meta": {**doc["meta"], "title": f"{doc['meta'].get('title') or 'Untitled'} (copy {i})"},
            "stats": {**doc["stats"], "words": int(doc["stats"]["words"] * scale)},
            "narration": {**doc["narration"], "person": rng.choice(["first", "second", "third", "third"])}}
    return {"path": f"synthetic/{i}.txt", "sha": hashlib.sha256(sid.encode()).hexdigest(), "story_id": sid,
            "words": copy["stats"]["words"], "rows": story_rows(copy, text=text, source_text=source_text)}


def build_store(path: Path, n: int) -> float:
    from ficlens.corpus import Store

    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.unlink()
    bases = analysed_examples()
    rng = random.Random(9)
    with Store(path) as store:
        run_id = store.begin_run(engine="bench-synthetic", workers=0, sources=["examples/ (synthetic copies)"])
        done = 0
        while done < n:
            batch = [synthetic_result(i, bases[i % len(bases)], rng) for i in range(done, min(n, done + 1000))]
            out = store.write_results(batch, run_id=run_id)
            done += len(batch)
            print(f"  stored {done:,}/{n:,} ({out.stories} new)", file=sys.stderr, flush=True)
        store.end_run(run_id, stories=done, skipped=0, errors=0, words=0)
        store.checkpoint()
    return time.perf_counter() - started


def store_size(path: Path) -> int:
    from ficlens.corpus import Store

    if not path.exists():
        return 0
    with Store(path, read_only=True) as store:
        return store.counts()["stories"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ficlens.cli", "serve", str(store), "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stories?limit=1", timeout=5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


def timed_get(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
        status = r.status
    return (time.perf_counter() - t) * 1000, status


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def single_requests(base: str, fandoms: list[str]) -> dict:
    out = {}
    warm = [timed_get(base + "/")[0] for _ in range(30)]
    out["library page, repeated (cached)"] = warm
    cold_pages = [timed_get(f"{base}/?page={p}&sort=-words")[0] for p in range(2, 32)]
    out["library page N, sorted by words (cache miss)"] = cold_pages
    cold_facets = []
    for f in fandoms[:15]:
        cold_facets.append(timed_get(f"{base}/?fandom={urllib.request.quote(f)}")[0])
        cold_facets.append(timed_get(f"{base}/?fandom={urllib.request.quote(f)}&rating=T")[0])
    out["library filtered by facets (cache miss)"] = cold_facets
    return out


WRK_SCRIPT = """
local urls = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", urls[(i %% #urls) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\": %%f, \\"p95\\": %%f, \\"p99\\": %%f, \\"max\\": %%f, \\"requests\\": %%d, "
    .. "\\"connect_errors\\": %%d, \\"read_errors\\": %%d, \\"write_errors\\": %%d, \\"timeouts\\": %%d, "
    .. "\\"status_errors\\": %%d, \\"seconds\\": %%f}\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.errors.status, summary.duration / 1e6))
end
"""


def load_wrk(base: str, paths: list[str], clients: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", script, base + "/"],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script)
    m = re.search(r"^JSON (.*)$", out, re.M)
    if not m:
        raise SystemExit(f"wrk gave no result:\n{out}")
    r = json.loads(m.group(1))
    r["errors"] = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "status_errors"))
    r["tool"] = "wrk"
    return r


async def _client(host: str, port: int, paths: list[str], until: float, cap: list[int], lat: list[float],
                  errors: list[str], offset: int) -> None:
    reader = writer = None
    i = offset
    while time.perf_counter() < until and cap[0] > 0:
        cap[0] -= 1
        path = paths[i % len(paths)]
        i += 1
        t = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            await asyncio.wait_for(reader.readexactly(length), 10)
            if status != 200:
                errors.append(f"status {status}")
            lat.append((time.perf_counter() - t) * 1000)
        except Exception as e:  # counted, and the connection is opened again
            errors.append(type(e).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def load_asyncio(base: str, paths: list[str], clients: int, seconds: int, max_requests: int) -> dict:
    host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
    lat: list[float] = []
    errors: list[str] = []
    cap = [max_requests]

    async def main():
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_client(host, port, paths, until, cap, lat, errors, k) for k in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    took = time.perf_counter() - started
    return {"tool": "asyncio", "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
            "max": max(lat, default=float("nan")), "requests": len(lat) + len(errors), "errors": len(errors),
            "seconds": took}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=REPO / "out" / "bench" / "serve-10k.duckdb")
    ap.add_argument("--stories", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=10, help="load test duration (at most 60)")
    ap.add_argument("--max-requests", type=int, default=200_000, help="cap on requests in the load test")
    ap.add_argument("--rebuild", action="store_true", help="build the store even if it exists")
    ap.add_argument("--no-wrk", action="store_true", help="use the asyncio client even if wrk is installed")
    args = ap.parse_args()
    seconds = max(1, min(args.seconds, 60))

    have = 0 if args.rebuild else store_size(args.store)
    if have < args.stories:
        print(f"building a synthetic store of {args.stories:,} stories at {args.store} ...", file=sys.stderr)
        took = build_store(args.store, args.stories)
        print(f"built in {took:.1f} s", file=sys.stderr)
    size = store_size(args.store)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args.store, port)
    try:
        with urllib.request.urlopen(base + "/api/facets", timeout=60) as r:
            fandoms = [v["value"] for v in json.load(r)["facets"]["fandom"]]
        print(f"\nficlens serve, library page, store of {size:,} stories (synthetic copies), loopback only")
        for name, values in single_requests(base, fandoms).items():
            print(f"  {name:48s} n={len(values):3d}  p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms"
                  f"  max {max(values):7.1f} ms")
        paths = ["/", "/?page=2", "/?sort=-words", "/?rating=G", "/?pov=first"] + \
                [f"/?fandom={urllib.request.quote(f)}" for f in fandoms[:10]]
        use_wrk = shutil.which("wrk") and not args.no_wrk
        if use_wrk:
            r = load_wrk(base, paths, args.clients, seconds)
        else:
            r = load_asyncio(base, paths, args.clients, seconds, args.max_requests)
        print(f"\n  load: {args.clients} clients, {r['seconds']:.1f} s, {len(paths)} library URLs in rotation ({r['tool']})")
        print(f"    requests {r['requests']:,}  ({r['requests'] / r['seconds']:.0f}/s)  errors {r['errors']}")
        print(f"    latency p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  p99 {r['p99']:.1f} ms  max {r['max']:.1f} ms")
        target = pct([timed_get(base + "/")[0] for _ in range(10)], 50)
        verdict = "met" if target < 200 and r["errors"] == 0 else "NOT met"
        print(f"\n  target (library page < 200 ms, {args.clients} clients x {seconds} s without errors): {verdict}"
              f" (library page p50 {target:.1f} ms; see the cold figures below for uncached pages)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    cold = cold_pages(args.store, fandoms)
    print(f"\n  cold (nothing cached, in-process, no network): library page {cold['first']:.1f} ms;"
          f" facet-filtered pages p50 {pct(cold['filtered'], 50):.1f} ms, max {max(cold['filtered']):.1f} ms")
    print(f"  cold pages under 200 ms: {'yes' if max([cold['first'], *cold['filtered']]) < 200 else 'no'}"
          " (the facet counts, one store query per facet, are most of a cold page)")


def cold_pages(store: Path, fandoms: list[str]) -> dict:
    """Pages built from nothing: an app whose lifespan never ran (so nothing was prewarmed)."""
    from fastapi.testclient import TestClient

    from ficlens.web.app import create_app

    client = TestClient(create_app(store), base_url="http://127.0.0.1")
    client.get("/api/stories/0000000000000000")  # one-time setup (imports, connection) is not the page's cost
    t = time.perf_counter()
    assert client.get("/").status_code == 200
    first = (time.perf_counter() - t) * 1000
    filtered = []
    for f in fandoms[:5]:
        t = time.perf_counter()
        assert client.get("/", params={"fandom": f, "rating": "G"}).status_code == 200
        filtered.append((time.perf_counter() - t) * 1000)
    client.app.state.library.close()
    return {"first": first, "filtered": filtered}


if __name__ == "__main__":
    main()
