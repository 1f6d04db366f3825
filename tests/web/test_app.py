"""The web app through FastAPI's TestClient: pages, JSON API, upload, limits and security headers."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from selectolax.lexbor import LexborHTMLParser

from ficlens.web.app import CSP, create_app

from web_testkit import clock_story, harbor_story

BASE = "http://127.0.0.1"


@pytest.fixture
def client(store_copy):
    with TestClient(create_app(store_copy), base_url=BASE) as c:
        yield c


@pytest.fixture
def small_client(store_copy):
    """An app that takes uploads of at most 4,000 bytes."""
    with TestClient(create_app(store_copy, max_upload_bytes=4000), base_url=BASE) as c:
        yield c


def secure(response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def cards(html: str) -> list[str]:
    tree = LexborHTMLParser(html)
    return [a.text() for a in tree.css(".story-card h2 a")]


def test_library_lists_every_story_with_facets(client):
    r = client.get("/")
    assert r.status_code == 200
    secure(r)
    titles = cards(r.text)
    assert len(titles) == 5
    assert {"Harbor Lights", "The Clockmaker's Apprentice", "The Night Ferry"} <= set(titles)
    tree = LexborHTMLParser(r.text)
    rels = [a.css_first(".v").text() for a in tree.css(".facet-relationship li a")]
    assert "Ada Finch/Rowan Vale" in rels and "Ilse Brandt & Pim" in rels
    assert "5 stories" in tree.css_first("#count").text()


def test_facet_filter_and_removal(client):
    r = client.get("/", params={"relationship": "Rowan Vale/Ada Finch"})  # members in any order
    assert cards(r.text) == ["Harbor Lights"]
    tree = LexborHTMLParser(r.text)
    chip = tree.css_first(".chips li a")
    assert chip is not None
    assert cards(client.get(chip.attributes["href"]).text).__len__() == 5
    r = client.get("/", params={"fandom": "Clockwork Tales"})
    assert cards(r.text) == ["The Clockmaker's Apprentice"]
    assert cards(client.get("/", params={"fandom": "Clockwork Tales", "relationship": "Ada Finch/Rowan Vale"}).text) == []


def test_full_text_search_sort_and_paging(store_copy):
    with TestClient(create_app(store_copy, page_size=2), base_url=BASE) as c:
        assert cards(c.get("/", params={"q": "kettle"}).text) == ["kettle.txt"]  # untitled: listed by file name
        assert cards(c.get("/", params={"q": '"smallest gear"'}).text) == ["The Clockmaker's Apprentice"]
        first = c.get("/", params={"sort": "title"})
        tree = LexborHTMLParser(first.text)
        assert len(cards(first.text)) == 2 and "page 1 of 3" in tree.css_first("#count").text()
        seen = []
        for page in (1, 2, 3):
            seen += cards(c.get("/", params={"sort": "-words", "page": page}).text)
        assert len(seen) == 5 and len(set(seen)) == 5
        api = c.get("/api/stories", params={"sort": "-words", "limit": 5}).json()
        words = [s["words"] for s in api["stories"]]
        assert words == sorted(words, reverse=True)


def test_word_count_facet(client):
    facets = client.get("/api/facets").json()
    assert facets["total"] == 5
    assert sum(b["count"] for b in facets["words"]) == 5
    assert facets["words"][0]["range"] == "..999" and facets["words"][0]["count"] == 5
    assert cards(client.get("/", params={"words": "1000.."}).text) == []


def test_story_page_is_the_report_with_linked_assets(client):
    sid = harbor_story().id
    r = client.get(f"/stories/{sid}")
    assert r.status_code == 200
    secure(r)
    tree = LexborHTMLParser(r.text)
    assert tree.css_first("h1").text() == "Harbor Lights"
    assert not tree.css("style") and [s.attributes["src"] for s in tree.css("script")] == ["/assets/report.js"]
    q0 = tree.css_first("#q-0")
    assert q0.attributes["data-speaker"] == "Ada Finch"
    assert "Rowan Vale" in tree.css_first("#tip-0").text()
    assert client.get("/assets/report.css").headers["content-type"].startswith("text/css")
    assert client.get("/assets/report.js").headers["content-type"].startswith("text/javascript")
    download = client.get(f"/stories/{sid}/report.html")
    assert "attachment" in download.headers["content-disposition"]
    assert "<style>" in download.text  # the standalone file inlines its CSS


def test_api_documents_and_openapi(client):
    sid = clock_story().id
    doc = client.get(f"/api/stories/{sid}").json()
    assert doc["id"] == sid and doc["schema"] == "ficlens/1"
    assert [q["speaker"] for q in doc["quotes"]] == ["pim", "pim", "ilse"]
    page = client.get("/api/stories", params={"character": "Ilse"}).json()
    assert page["total"] == 1 and page["stories"][0]["url"] == f"/stories/{sid}"
    spec = client.get("/openapi.json").json()
    assert {"/api/stories", "/api/stories/{story_id}", "/api/facets"} <= set(spec["paths"])
    assert "post" in spec["paths"]["/api/stories"]
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN


@pytest.mark.parametrize("path", ["/stories/abc", "/stories/0123456789ABCDEF", "/api/stories/..%2f..%2fetc",
                                  "/stories/0123456789abcdef", "/api/stories/0123456789abcdef",
                                  "/static/../app.py", "/static/%2e%2e/app.py", "/assets/..%2fjson.py",
                                  "/assets/report.html.j2"])
def test_no_traversal_or_arbitrary_read(client, path):
    r = client.get(path)
    assert r.status_code == 404
    secure(r)
    assert "import" not in r.text


def test_host_and_origin_checks(client):
    r = client.get("/", headers={"host": "attacker.example"})
    assert r.status_code == 400
    secure(r)
    r = client.post("/api/stories", files={"file": ("a.txt", b"Hi.")}, headers={"origin": "http://attacker.example"})
    assert r.status_code == 403
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_upload_through_api_then_listed(client):
    text = 'The Paper Boat\n\n"Will it float?" asked Wren.\n\n"Only one way to know," said her grandfather.\n'
    r = client.post("/api/stories", files={"file": ("paper_boat.txt", text.encode(), "text/plain")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.fullmatch(r"[0-9a-f]{16}", body["id"]) and body["status"] == "ok" and body["title"] == "The Paper Boat"
    assert "The Paper Boat" in cards(client.get("/").text)
    assert cards(client.get("/", params={"q": "float"}).text) == ["The Paper Boat"]  # the text index follows
    again = client.post("/api/stories", files={"file": ("copy.txt", text.encode(), "text/plain")})
    assert again.json()["status"] == "duplicate" and again.json()["id"] == body["id"]
    page = client.post("/upload", files={"file": ("boat2.txt", text.encode() + b"\nThe end.\n")}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/stories/")


def test_upload_limits_and_bad_files(small_client):
    big = b"word " * 1000  # 5,000 bytes > 4,000
    r = small_client.post("/api/stories", files={"file": ("big.txt", big)})
    assert r.status_code == 413
    secure(r)
    r = small_client.post("/upload", files={"file": ("big.txt", big)})
    assert r.status_code == 413 and "upload limit" in r.text
    huge = b"x" * (4000 + 70 * 1024)  # past the body limit itself: refused before it is read
    r = small_client.post("/api/stories", content=huge, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413
    secure(r)
    r = small_client.post("/api/stories", files={"file": ("story.exe", b"MZ")})
    assert r.status_code == 400 and ".txt" in r.json()["detail"]
    r = small_client.post("/api/stories", files={"file": ("empty.txt", b"   \n")})
    assert r.status_code == 400 and "no story text" in r.json()["detail"]
    r = small_client.post("/api/stories", files={})
    assert r.status_code in (400, 422)


def test_bad_query_parameters_are_400(client):
    assert client.get("/", params={"words": "lots"}).status_code == 400
    assert client.get("/", params={"page": "0"}).status_code == 400
    assert client.get("/", params={"sort": "drop table"}).status_code == 400
    assert client.get("/", params={"rating": "Unrated?"}).status_code == 400
    assert client.get("/", params={"fandom": ["x"] * 11}).status_code == 400
    assert client.get("/api/stories", params={"limit": 10_000}).status_code == 422


def test_hostile_story_is_escaped_everywhere(client):
    r = client.get("/")
    tree = LexborHTMLParser(r.text)
    assert '<script>alert("title")</script>' in cards(r.text)
    assert not tree.css("img") and [s.attributes.get("src") for s in tree.css("script")] == ["/assets/report.js"]
    hostile = next(row for row in client.get("/api/stories", params={"q": "chalked"}).json()["stories"])
    page = client.get(hostile["url"]).text
    tree = LexborHTMLParser(page)
    assert not tree.css("img") and not tree.css("main b") and len(tree.css("script")) == 1
    for node in tree.css("main .who, main .tip, main .notice"):
        node.decompose()
    text = tree.css_first("main").text(separator="")
    assert tree.css_first("h1").text() == '<script>alert("title")</script>'
    assert '"><img src=x onerror=alert(1)>' in text
    assert "<b>bold</b> & <i>brave</i>" in text and "</p><script>alert(2)</script>" in text
