"""Files a user (or an attacker) may hand ficlens: each reads, or fails with a message naming the file."""
from __future__ import annotations

import os
import random
import time

import pytest

from ficlens.errors import Errors, InputError, LimitError
from ficlens.limits import Limits
from ficlens.read import read_bytes, read_path

PARAGRAPH = "The tide came in over the flats, and Ines counted the gulls twice before she trusted the number.\n\n"


def message_of(exc_info) -> str:
    return str(exc_info.value)


def test_empty_file_is_an_empty_story(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    story = read_path(path)
    assert story.text == "" and story.source_text == "" and story.source.format == "txt"


@pytest.mark.parametrize("raw", [
    b"Some text\x00with a NUL\x00 or two in it" * 10,
    random.Random(7).randbytes(4096),
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
])
def test_binary_data_is_refused(tmp_path, raw):
    path = tmp_path / "story.txt"
    path.write_bytes(raw)
    with pytest.raises(InputError) as err:
        read_path(path)
    assert message_of(err) == Errors.E004.format(path=str(path))


def test_binary_data_with_an_html_suffix_is_refused():
    with pytest.raises(InputError, match="binary data"):
        read_bytes(b"\x00\x01\x02\x03" * 100, "page.html")


def test_invalid_utf8_in_the_middle_loses_no_valid_text():
    head = "Caf\u00e9 scene: \u201cwait,\u201d she said. " * 40
    tail = " \u00c9mile answered \u2014 the na\u00efve one \u2014 and left. " * 40
    raw = head.encode() + b"\xff\xfe\xc3" + tail.encode()
    story = read_bytes(raw, "glued.txt")
    assert head in story.source_text and tail in story.source_text
    assert story.source_text.count("\ufffd") <= 3


def test_invalid_byte_in_ascii_text_keeps_all_ascii():
    raw = PARAGRAPH.encode() * 5 + b"\x9d" + PARAGRAPH.encode() * 5
    story = read_bytes(raw, "odd.txt")
    assert story.source_text.count(PARAGRAPH) == 10


@pytest.mark.timeout(60)
def test_50_mb_text_reads_in_bounded_time(tmp_path):
    path = tmp_path / "huge.txt"
    chunk = PARAGRAPH * 1000
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
            f.write(chunk)
    t0 = time.perf_counter()
    story = read_path(path)
    elapsed = time.perf_counter() - t0
    assert len(story.text) >= 50 * 1024 * 1024
    assert story.text.startswith(PARAGRAPH)
    assert elapsed < 15, elapsed


def test_single_5_mb_line(tmp_path):
    path = tmp_path / "line.txt"
    line = ("word " * (5 * 1024 * 1024 // 5)).strip()
    path.write_text(line, encoding="utf-8")
    t0 = time.perf_counter()
    story = read_path(path)
    assert story.text == line and "\n" not in story.text
    assert time.perf_counter() - t0 < 5


def test_directory(tmp_path):
    with pytest.raises(InputError) as err:
        read_path(tmp_path)
    assert message_of(err) == Errors.E002.format(path=str(tmp_path))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(InputError) as err:
        read_path(path)
    assert message_of(err) == Errors.E001.format(path=str(path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("secret")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot be read"):
            read_path(path)
    finally:
        path.chmod(0o644)


def test_read_failure_is_an_input_error(tmp_path, monkeypatch):
    """Whoever runs the tests (root reads anything), an OSError while reading becomes E003."""
    path = tmp_path / "flaky.txt"
    path.write_text("text")
    real_open = open

    def failing_open(file, mode="r", *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(InputError) as err:
        read_path(path)
    assert message_of(err) == Errors.E003.format(path=str(path), reason="Permission denied")


def test_special_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_path(fifo)  # would block forever if opened
    with pytest.raises(InputError, match="not a regular file"):
        read_path("/dev/zero")  # would never end if read


@pytest.mark.parametrize("bad", ["a\0b.txt", "x" * 5000 + ".txt"])
def test_impossible_paths(bad):
    with pytest.raises(InputError, match="cannot be read"):
        read_path(bad)


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(PARAGRAPH * 100)
    limits = Limits(max_bytes=1000)
    with pytest.raises(LimitError) as err:
        read_path(path, limits=limits)
    assert message_of(err) == Errors.E005.format(path=str(path), size=path.stat().st_size, limit=1000)
    with pytest.raises(LimitError):
        read_bytes(path.read_bytes(), "big.txt", limits=limits)


@pytest.mark.parametrize("name", ["my story.txt", "\u00e9t\u00e9 \u2014 \u6545\u4e8b.txt", "it's \"quoted\".txt",
                                  "-rf.txt", "--help.html", "line\nbreak.txt", "$(echo hi).txt"])
def test_odd_path_characters(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(PARAGRAPH.encode() if not name.endswith(".html") else b"<p>Odd page.</p>")
    story = read_path(path)
    assert story.source.path == str(path)
    assert story.text == ("Odd page." if name.endswith(".html") else PARAGRAPH)
    # Relative names starting with a dash are plain names to the reader.
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert read_path(name).text == story.text
    finally:
        os.chdir(cwd)
