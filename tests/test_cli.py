"""The command line end to end, as a user runs it: a real process, its exit code, stdout and stderr.

The bad-input corpus of issue 10 goes through `ficlens analyze` here: every bad file costs exactly one
`error:` line on stderr and exit code 2, never a traceback, and the good files given in the same call
are still written. (The readers' own behaviour on each input is tested in tests/read/.)
"""
from __future__ import annotations

import csv
import functools
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from ficlens import __version__
from ficlens.errors import Errors
from ficlens.read import read_bytes
from ficlens.read.normalize import normalize

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.txt"))
SCHEMA = REPO / "src" / "ficlens" / "schema" / "ficlens-1.schema.json"

# Written for these tests.
PARAGRAPH = "\u201cKeep the lamp lit,\u201d Ines said, and the harbour went quiet behind her.\n\n"
STORY = ("The Salt Road\n\n"
         "Rating: G\n\n"
         "Ines walked the salt road at dusk, counting gulls.\n\n"
         "\u201cYou\u2019re late,\u201d Tomas said from the sea wall. \u201cThe boats are in.\u201d\n\n"
         "\u201cThe boats are always in,\u201d she answered. \u201cThat\u2019s the trouble.\u201d\n\n"
         "* * *\n\n"
         "By morning the fog had lifted, and neither of them mentioned it.\n")


def ficlens(*args, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process. PYTHONIOENCODING=utf-8 makes stdout strict, as under a real
    UTF-8 locale (the C locale would quietly escape what a user's terminal cannot take)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "ficlens", *map(str, args)], capture_output=True,
                          timeout=timeout, cwd=cwd, env=env)


def stderr_lines(proc: subprocess.CompletedProcess) -> list[str]:
    err = proc.stderr.decode("utf-8")
    assert "Traceback" not in err, err
    return err.splitlines()


def error_lines(proc) -> list[str]:
    return [line for line in stderr_lines(proc) if line.startswith("error: ")]


def check_one_line_errors(proc, expected: list[str]) -> None:
    """stderr holds exactly one `error:` line per bad file, with these messages, and otherwise only
    `wrote ...` lines."""
    lines = stderr_lines(proc)
    assert sorted(line for line in lines if line.startswith("error: ")) == sorted(f"error: {m}" for m in expected)
    assert all(line.startswith(("error: ", "wrote ")) for line in lines), lines


# -- building files -------------------------------------------------------------------------------
CONTAINER = ('<?xml version="1.0"?><container version="1.0" '
             'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             '<rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>'
             '</rootfiles></container>')


def opf(n: int, prolog: str = "", title: str = "The Salt Road") -> str:
    items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(n))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(n))
    return (f'<?xml version="1.0"?>{prolog}<package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></metadata>'
            f'<manifest>{items}</manifest><spine>{refs}</spine></package>')


def epub(chapters: list[str], *, package: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml", CONTAINER)
        zf.writestr("content.opf", package if package is not None else opf(len(chapters)))
        for i, body in enumerate(chapters):
            zf.writestr(f"c{i}.xhtml", '<?xml version="1.0" encoding="utf-8"?>'
                                       f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>')
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


GOOD_EPUB = epub(["<p>Ines walked the salt road at dusk.</p>",
                  "<p>\u201cYou\u2019re late,\u201d Tomas said.</p><p>She laughed.</p>"])
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
          '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>')


def corrupted(raw: bytes) -> bytes:
    """Flip bytes all through the archive, central directory included."""
    out = bytearray(raw)
    for i in range(30, len(out), 23):
        out[i] ^= 0x5A
    return bytes(out)


def many_members(count: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(count):
            zf.writestr(f"f{i}.xhtml", "x")
    return buf.getvalue()


def normalized(s: str) -> str:
    return normalize(s)[0]


def load_json(data: bytes | str) -> dict:
    return json.loads(data)


def check_document(doc: dict, source: str) -> None:
    """Schema-valid, and every section and quote span gives its text back from the decoded source."""
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    n = len(source)
    last = 0
    for s in doc["sections"]:
        assert 0 <= s["start"] <= s["end"] <= n
        assert s["start"] >= last, "sections overlap or are out of order"
        last = s["end"]
        piece = normalized(source[s["start"]:s["end"]])
        if s["kind"] != "scene_break":  # a blank-line scene break is the whitespace itself
            assert piece and piece == piece.strip(), (s, piece)
    bodies = [(s["start"], s["end"]) for s in doc["sections"] if s["kind"] == "body"]
    for q in doc["quotes"]:
        assert normalized(source[q["start"]:q["end"]]) == q["text"], q
        assert q["text"][:1] in "\"'" or any(q["start"] == b for b, _ in bodies), q
        assert any(b <= q["start"] and q["end"] <= e for b, e in bodies), q
    assert [q["id"] for q in doc["quotes"]] == list(range(len(doc["quotes"])))


# -- version, help -----------------------------------------------------------------------------------
def test_version():
    proc = ficlens("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode() == f"ficlens {__version__}\n"


def test_help_lists_the_commands():
    proc = ficlens("--help")
    assert proc.returncode == 0
    text = proc.stdout.decode()
    for command in ("analyze", "report", "demo", "eval"):
        assert re.search(rf"^\W*{command}\s", text, re.M), command
    proc = ficlens("analyze", "--help")
    assert proc.returncode == 0
    for option in ("--out", "--format", "--until", "--max-bytes", "--max-expanded-bytes", "--timeout"):
        assert option in proc.stdout.decode()


# -- good input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_analyze_an_example_writes_valid_json_whose_spans_round_trip(path):
    proc = ficlens("analyze", path)
    assert proc.returncode == 0, proc.stderr
    assert stderr_lines(proc) == []
    doc = load_json(proc.stdout)
    source = path.read_bytes().decode("utf-8")
    check_document(doc, source)
    assert doc["source"] == {"path": str(path), "format": "txt", "encoding": "utf-8"}
    assert doc["stats"]["quotes"] == len(doc["quotes"]) >= 5
    assert doc["stats"]["paragraphs"] == sum(1 for s in doc["sections"] if s["kind"] == "body") >= 5
    # Every line of dialogue in the file is found: each opening mark at a paragraph start is a quote.
    starts = {q["start"] for q in doc["quotes"]}
    for m in re.finditer(r'^["\u201c]', source, re.M):
        assert m.start() in starts


def test_analyze_out_dir_in_each_format(tmp_path):
    story = tmp_path / "salt road.txt"
    story.write_text(STORY, encoding="utf-8")
    out = tmp_path / "out"
    written: dict[str, list[str]] = {}
    for fmt in ("json", "tsv", "gexf"):
        proc = ficlens("analyze", story, "--out", out, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == b""  # with --out nothing goes to stdout
        written[fmt] = [line.removeprefix("wrote ") for line in stderr_lines(proc)]
        assert all(Path(p).is_file() and Path(p).stat().st_size > 0 for p in written[fmt])
    assert written["json"] == [str(out / "salt road.json")]
    doc = load_json((out / "salt road.json").read_bytes())
    check_document(doc, STORY)
    assert [q["text"] for q in doc["quotes"]] == ['"You\'re late,"', '"The boats are in."',
                                                  '"The boats are always in,"', '"That\'s the trouble."']
    assert [s["kind"] for s in doc["sections"]] == ["title", "header", "body", "body", "body",
                                                    "scene_break", "body"]
    # TSV: BookNLP-style tokens whose offsets give each word back from the source.
    assert sorted(Path(p).suffix for p in written["tsv"]) == [".characters", ".quotes", ".tokens"]
    with open(out / "salt road.tokens", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) > 40
    for row in rows:
        start, end = int(row["byte_onset"]), int(row["byte_offset"])
        assert normalized(STORY[start:end]) == row["word"]
    # GEXF: an XML graph document.
    assert written["gexf"] == [str(out / "salt road.gexf")]
    assert ElementTree.parse(out / "salt road.gexf").getroot().tag.endswith("gexf")


def test_one_file_without_out_must_be_json():
    proc = ficlens("analyze", EXAMPLES[0], "--format", "tsv")
    assert proc.returncode == 2
    assert error_lines(proc) == ["error: give --out DIR for several files or for tsv/html output"]


# -- the bad-input corpus -----------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def zip_bomb() -> bytes:
    """300 MB of zeros in a 300 KB EPUB: past the default expanded-size limit of 256 MiB."""
    return epub(["<p>Tiny.</p>"], extra={"filler.bin": b"\0" * 300_000_000})


def bad_corpus() -> dict[str, tuple[bytes | None, str]]:
    """name -> (content, expected message template); content None means "make it another way"."""
    good = GOOD_EPUB
    return {
        "empty.txt": (b"", Errors.E010),
        "nul.txt": (b"A line of text\x00with NUL bytes\x00in it\n" * 20, Errors.E004),
        "random.txt": (random.Random(10).randbytes(8192), Errors.E004),
        "random.bin": (random.Random(11).randbytes(8192), Errors.E004),
        "png.html": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16, Errors.E004),
        "truncated.epub": (good[: len(good) // 2], Errors.E006),
        "corrupt.epub": (corrupted(good), Errors.E006),
        "notazip.epub": (STORY.encode(), Errors.E006),
        "bomb.epub": (zip_bomb(), Errors.E007),
        "members.epub": (many_members(10_001), Errors.E012),
        "laughs.epub": (epub(["<p>Ha.</p>"], package=opf(1, LAUGHS, "&lol4;")), Errors.E006),
        "a folder": (None, Errors.E002),
        "missing.txt": (None, Errors.E001),
    }


def test_bad_files_each_cost_one_line_and_the_good_ones_are_still_written(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    corpus = bad_corpus()
    paths = []
    for name, (content, _) in corpus.items():
        path = folder / name
        if content is not None:
            path.write_bytes(content)
        elif name == "a folder":
            path.mkdir()
        paths.append(path)
    (folder / "first.txt").write_text(STORY, encoding="utf-8")
    (folder / "last.epub").write_bytes(GOOD_EPUB)
    out = tmp_path / "out"
    t0 = time.perf_counter()
    proc = ficlens("analyze", "--out", out, folder / "first.txt", *paths, folder / "last.epub")
    assert time.perf_counter() - t0 < 120
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == len(corpus)
    for (name, (_, template)), line in zip(corpus.items(), lines):  # reported in the order given
        fixed = template.split("{path}", 1)[1].split("{", 1)[0]  # the words up to the next field
        assert line.startswith(f"error: {folder / name}{fixed}"), (line, template)
    # The good files before and after the bad ones were analysed and written.
    assert sorted(p.name for p in out.iterdir()) == ["first.json", "last.json"]
    wrote = [line for line in stderr_lines(proc) if line.startswith("wrote ")]
    assert wrote == [f"wrote {out / 'first.json'}", f"wrote {out / 'last.json'}"]
    check_document(load_json((out / "first.json").read_bytes()), STORY)
    doc = load_json((out / "last.json").read_bytes())
    assert doc["source"]["format"] == "epub" and doc["stats"]["quotes"] == 1


def test_bad_file_messages_are_exact(tmp_path):
    """A few messages checked word for word (with the limits named), each run on its own."""
    bomb = tmp_path / "bomb.epub"
    bomb.write_bytes(zip_bomb())
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.txt"
    proc = ficlens("analyze", "--out", tmp_path / "out", bomb, empty, missing, tmp_path)
    assert proc.returncode == 2
    check_one_line_errors(proc, [
        Errors.E007.format(path=bomb, limit=256 * 1024 * 1024),
        Errors.E010.format(path=empty),
        Errors.E001.format(path=missing),
        Errors.E002.format(path=tmp_path),
    ])


def test_a_file_that_cannot_be_read(tmp_path):
    """/proc/self/mem is a regular file that even root cannot read from offset 0."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    proc = ficlens("analyze", "/proc/self/mem")
    assert proc.returncode == 2
    [line] = error_lines(proc)
    assert line.startswith("error: /proc/self/mem: cannot be read (")
    if os.geteuid() != 0:
        locked = tmp_path / "locked.txt"
        locked.write_text(STORY)
        locked.chmod(0)
        try:
            proc = ficlens("analyze", locked)
        finally:
            locked.chmod(0o644)
        assert proc.returncode == 2
        assert error_lines(proc) == [f"error: {Errors.E003.format(path=locked, reason='Permission denied')}"]


def test_hostile_but_readable_files_give_correct_results(tmp_path):
    """Files that look hostile but hold a story: each is analysed in full, nothing of it lost."""
    para = PARAGRAPH.strip()
    files = {
        # Invalid UTF-8 bytes in the middle of valid UTF-8 text.
        "glued.txt": PARAGRAPH.encode() * 3 + b"\xff\xfe\xc3 " + PARAGRAPH.encode() * 3,
        # Half cp1252, half UTF-8: both halves keep their curly quotes, so every line is dialogue.
        "mixed.txt": PARAGRAPH.encode("cp1252") * 4 + PARAGRAPH.encode("utf-8") * 4,
        # 10,000 nested elements, closed and unclosed.
        "deep.html": ("<html><body>" + "<div>" * 10_000 + f"<p>{para}</p>" + "</div>" * 10_000
                      + "</body></html>").encode(),
        "unclosed.html": ("<body>" + "<div><span><b>" * 10_000 + f"<p>{para}").encode(),
        # Scripts and event handlers: none of it is story text.
        "script.html": ('<html><head><script>var s = "stolen";</script><style>p{color:red}</style></head>'
                        '<body onload="alert(\'boo\')"><p onclick="steal()">' + para + "</p>"
                        '<script>document.write("<p>injected text</p>")</script>'
                        '<img src="x" onerror="alert(1)"><noscript>enable scripts</noscript>'
                        f"<p>{para}</p></body></html>").encode(),
        # XML entity expansion in a web page: never expanded, the reference stays as text.
        "laughs.html": (f"<?xml version=\"1.0\"?>{LAUGHS}<html><body><p>{para} &lol4;</p></body></html>").encode(),
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    out = tmp_path / "out"
    proc = ficlens("analyze", "--out", out, *(tmp_path / n for n in files))
    assert proc.returncode == 0, proc.stderr
    assert error_lines(proc) == []
    docs = {}
    for name in files:
        raw_doc = (out / (Path(name).stem + ".json")).read_bytes()
        doc = docs[name] = load_json(raw_doc)
        # The offsets point into the decoded file (for HTML: the page, markup and all).
        check_document(doc, read_bytes((tmp_path / name).read_bytes(), name).source_text)
    quote = '"Keep the lamp lit,"'
    assert [q["text"] for q in docs["glued.txt"]["quotes"]] == [quote] * 6
    assert [q["text"] for q in docs["mixed.txt"]["quotes"]] == [quote] * 8
    for name in ("deep.html", "unclosed.html"):
        assert [q["text"] for q in docs[name]["quotes"]] == [quote]
        assert docs[name]["stats"]["words"] == len(para.split())
    assert [q["text"] for q in docs["script.html"]["quotes"]] == [quote] * 2
    assert docs["script.html"]["stats"]["words"] == 2 * len(para.split())
    assert docs["laughs.html"]["stats"]["words"] == len(para.split()) + 1


ODD_NAMES = ["my story.txt", "\u00e9t\u00e9 \u2014 \u6545\u4e8b.txt", "it's \"quoted\".txt", "-rf.txt",
             "--help.txt", "line\nbreak.txt", "$(echo hi).txt", "[red]not markup[x].txt",
             "a]b[c.txt", "[link=http:]x.txt", "tab\there.txt"]


def test_odd_file_names(tmp_path):
    """Names with spaces, quotes, dashes, newlines, rich markup or bytes that are not UTF-8."""
    names = list(ODD_NAMES)
    try:
        undecodable = os.fsdecode(b"caf\xe9 \xff.txt")
        (tmp_path / undecodable).write_text(STORY, encoding="utf-8")
        names.append(undecodable)
    except (UnicodeError, OSError):  # a file system that refuses such names
        pass
    for name in names:
        (tmp_path / name).write_text(STORY, encoding="utf-8")
    out = tmp_path / "out"
    # "--" ends the options, so "-rf.txt" and "--help.txt" are file names.
    proc = ficlens("analyze", "--out", out, "--until", "quotes", "--", *names, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert error_lines(proc) == []
    for name in names:
        doc = load_json((out / (Path(name).stem + ".json")).read_bytes())
        assert doc["source"]["path"] == name
        assert doc["stats"]["quotes"] == 4
    # JSON on stdout, with a name that is not UTF-8: still valid UTF-8 JSON naming the same file.
    if names[-1] not in ODD_NAMES:
        proc = ficlens("analyze", "--until", "quotes", names[-1], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        doc = load_json(proc.stdout.decode("utf-8"))
        assert doc["source"]["path"] == names[-1]


def test_odd_names_of_bad_files_stay_on_one_line(tmp_path):
    names = ["gone\nmissing.txt", "[bold]gone[not-a-tag].txt", "gone\r\x1b[2Jcleared.txt", "a]b[.txt"]
    proc = ficlens("analyze", "--out", tmp_path, "--", *names, cwd=tmp_path)
    assert proc.returncode == 2
    shown = [n.replace("\n", "\\n").replace("\r", "\\r").replace("\x1b", "\\x1b") for n in names]
    check_one_line_errors(proc, [Errors.E001.format(path=n) for n in shown])


def test_out_dir_that_cannot_be_written(tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(STORY, encoding="utf-8")
    proc = ficlens("analyze", "--until", "quotes", "--out", story, story)  # --out names a file
    assert proc.returncode == 2
    [line] = error_lines(proc)
    assert line == "error: " + Errors.E013.format(path=story, reason="File exists")


# -- size and time ------------------------------------------------------------------------------------
@pytest.mark.timeout(600)
def test_50_mb_text_up_to_quotes_in_bounded_time_and_memory(tmp_path):
    """The full parse of 50 MB would take an hour (limits bound it); the reading, structure and
    quote stages must take a minute or so, and memory must stay a small multiple of the input."""
    path = tmp_path / "huge.txt"
    chunk = PARAGRAPH * 1000
    copies = 50 * 1024 * 1024 // len(chunk.encode()) + 1
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(copies):
            f.write(chunk)
    out = tmp_path / "huge.json"
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        proc = subprocess.run([sys.executable, "-m", "ficlens", "analyze", "--until", "quotes", str(path)],
                              stdout=f, stderr=subprocess.PIPE, timeout=540)
    elapsed = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr.decode()
    with open(out, "rb") as f:
        head = f.read(4096).decode("utf-8", "replace")
    assert re.search(rf'"paragraphs": {copies * 1000},\s*"quotes": {copies * 1000}\b', head), head[:800]
    assert elapsed < 300, elapsed  # about 35 s on the development machine
    assert peak_mib < 4096, peak_mib  # about 2.6 GiB, mostly the indented JSON encoding


def test_single_5_mb_line(tmp_path):
    path = tmp_path / "line.txt"
    words = 5 * 1024 * 1024 // 5
    path.write_text(("word " * words).strip(), encoding="utf-8")
    t0 = time.perf_counter()
    proc = ficlens("analyze", "--until", "quotes", path)
    assert proc.returncode == 0, proc.stderr
    doc = load_json(proc.stdout)
    assert doc["stats"] == {"words": words, "paragraphs": 1, "quotes": 0}
    assert time.perf_counter() - t0 < 60


def test_max_bytes_and_max_expanded_bytes(tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(STORY, encoding="utf-8")
    book = tmp_path / "b.epub"
    book.write_bytes(GOOD_EPUB)
    size = story.stat().st_size
    proc = ficlens("analyze", "--until", "quotes", "--max-bytes", size - 1, story)
    assert proc.returncode == 2
    check_one_line_errors(proc, [Errors.E005.format(path=story, size=size, limit=size - 1)])
    proc = ficlens("analyze", "--until", "quotes", "--max-bytes", size, story)
    assert proc.returncode == 0 and load_json(proc.stdout)["stats"]["quotes"] == 4
    proc = ficlens("analyze", "--until", "quotes", "--max-expanded-bytes", 100, book)
    assert proc.returncode == 2
    check_one_line_errors(proc, [Errors.E007.format(path=book, limit=100)])
    proc = ficlens("analyze", "--until", "quotes", "--max-expanded-bytes", 100_000, book)
    assert proc.returncode == 0 and load_json(proc.stdout)["stats"]["quotes"] == 1
    for option, value in (("--max-bytes", 0), ("--timeout", 0), ("--timeout", -1)):
        proc = ficlens("analyze", option, value, story)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr.decode()


def test_timeout_is_checked_between_stages(tmp_path, monkeypatch):
    """In process, with a pipeline whose middle stage is slow: past the limit, the next stage never
    starts and the story is one E011 line; within the limit, the story is analysed."""
    from typer.testing import CliRunner

    import ficlens.api
    from ficlens.cli import app
    from ficlens.pipeline import Pipeline, Stage
    from ficlens.stages.quotes import QuoteStage
    from ficlens.stages.structure import StructureStage

    ran: list[str] = []

    class Slow(Stage):
        name = "slow"
        requires = ("sections",)

        def __call__(self, story):
            ran.append(self.name)
            time.sleep(0.5)

    class Quotes(QuoteStage):
        def __call__(self, story):
            ran.append(self.name)
            super().__call__(story)

    pipeline = Pipeline([StructureStage(), Slow(), Quotes()])
    monkeypatch.setattr(ficlens.api, "get_pipeline", lambda until=None: pipeline)
    story = tmp_path / "s.txt"
    story.write_text(STORY, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", str(story), "--timeout", "0.2"])
    assert result.exit_code == 2
    assert ran == ["slow"]
    assert result.stderr.splitlines() == ["error: " + Errors.E011.format(path=story, seconds="0.2")]
    assert result.stdout == ""
    ran.clear()
    result = runner.invoke(app, ["analyze", str(story), "--timeout", "30"])
    assert result.exit_code == 0, result.stderr
    assert ran == ["slow", "quotes"]
    assert json.loads(result.stdout)["stats"]["quotes"] == 4
