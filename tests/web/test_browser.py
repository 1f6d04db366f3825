"""The library and the reports in a real browser: Debian's Chromium driven by Playwright.

The server runs in this process (uvicorn on 127.0.0.1, a free port) over a small store; screenshots
go to test-output/screenshots/ (gitignored).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from web_testkit import harbor_story

pytestmark = pytest.mark.browser


def no_script_ran(page) -> None:
    assert page.events["dialogs"] == [], page.events
    assert page.events["errors"] == [], page.events
    # CSP violations and failed loads are console errors: there must be none.
    assert [m for m in page.events["console"] if m.startswith("error")] == [], page.events


def test_library_facet_click_and_story_tooltip(watched_page, live_server, screenshots):
    page = watched_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    expect(page.locator("#count")).to_contain_text("stories")
    assert page.locator(".story-card").count() >= 5
    page.screenshot(path=str(screenshots / "library.png"), full_page=True)

    # Filter by a relationship: click its facet value.
    page.locator(".facet-relationship a", has_text="Ada Finch/Rowan Vale").click()
    page.wait_for_url(re.compile(r"relationship="))
    assert parse_qs(urlsplit(page.url).query)["relationship"] == ["Ada Finch/Rowan Vale"]
    expect(page.locator(".story-card")).to_have_count(1)
    expect(page.locator(".chips")).to_contain_text("Ada Finch/Rowan Vale")
    page.screenshot(path=str(screenshots / "library-filtered.png"), full_page=True)

    # Open the story: its first quote shows its speaker on keyboard focus, the next one on hover.
    page.locator(".story-card h2 a", has_text="Harbor Lights").click()
    page.wait_for_url(re.compile(r"/stories/[0-9a-f]{16}$"))
    expect(page.locator("h1")).to_have_text("Harbor Lights")
    tip0 = page.locator("#tip-0")
    expect(tip0).to_be_hidden()
    page.keyboard.press("Tab")  # skip link first, then walk to the first quote
    for _ in range(40):
        if page.evaluate("document.activeElement && document.activeElement.id") == "q-0":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q-0"
    expect(tip0).to_be_visible()
    expect(tip0).to_contain_text("Ada Finch")
    expect(tip0).to_contain_text("to Rowan Vale")
    expect(tip0).to_contain_text("confidence 0.94")
    page.screenshot(path=str(screenshots / "story-focus.png"))
    page.locator("#q-1").hover()
    expect(page.locator("#tip-1")).to_be_visible()
    expect(page.locator("#tip-1")).to_contain_text("Rowan Vale")
    # The label before the quote is text, not only colour.
    expect(page.locator("#q-1 .who")).to_have_text("Rowan")
    # The CSS came from /assets (no inline style is needed): quotes are tinted.
    colour = page.locator("#q-0").evaluate("e => getComputedStyle(e).borderBottomColor")
    assert colour not in ("", "rgba(0, 0, 0, 0)")
    no_script_ran(page)


def test_theme_toggle_and_phone_layout(watched_page, live_server, screenshots):
    page = watched_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/stories/{harbor_story().id}")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.locator("[data-theme-toggle]").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light != dark
    # Readable on a phone: nothing wider than the screen.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "story-phone-dark.png"), full_page=True)
    page.goto(live_server.url + "/")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"  # remembered
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "library-phone-dark.png"), full_page=True)
    no_script_ran(page)


def test_upload_then_find_in_library(watched_page, live_server, tmp_path, screenshots):
    page = watched_page
    story = tmp_path / "moth_and_lamp.txt"
    story.write_text('The Moth and the Lamp\n\n"Why circle it?" Juno asked the moth.\n\n'
                     "The moth, being a moth, said nothing and kept circling.\n", encoding="utf-8")
    page.goto(live_server.url + "/upload")
    page.set_input_files("#file", str(story))
    page.locator(".upload button[type=submit]").click()
    page.wait_for_url(re.compile(r"/stories/[0-9a-f]{16}$"), timeout=60_000)
    expect(page.locator("h1")).to_have_text("The Moth and the Lamp")
    page.goto(live_server.url + "/")
    page.fill("#q", "circling moth")
    page.locator(".search button[type=submit]").click()
    page.wait_for_url(re.compile(r"q=circling"))
    expect(page.locator(".story-card h2 a")).to_have_text(["The Moth and the Lamp"])
    page.screenshot(path=str(screenshots / "library-search-after-upload.png"))
    no_script_ran(page)


def test_hostile_story_renders_as_text(watched_page, live_server, screenshots):
    page = watched_page
    page.goto(live_server.url + "/?q=chalked")
    card = page.locator(".story-card h2 a")
    expect(card).to_have_count(1)
    expect(card).to_have_text('<script>alert("title")</script>')
    expect(page.locator(".story-card .by")).to_have_text('by "><img src=x onerror=alert(5)>')
    assert page.locator("img").count() == 0
    card.click()
    page.wait_for_url(re.compile(r"/stories/[0-9a-f]{16}$"))
    main = page.locator("main")
    expect(page.locator("h1")).to_have_text('<script>alert("title")</script>')
    expect(page.locator(".byline")).to_have_text('by "><img src=x onerror=alert(5)>')
    expect(main).to_contain_text('"><img src=x onerror=alert(1)>')
    expect(main).to_contain_text("<b>bold</b> & <i>brave</i> words on the wall. </p><script>alert(2)</script>")
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1
    page.locator(".q").first.focus()
    page.screenshot(path=str(screenshots / "hostile-story.png"))
    no_script_ran(page)


def test_standalone_report_file(watched_page, tmp_path, screenshots):
    """The file `ficlens report` writes works from file:// with its inline CSS and JS."""
    from ficlens.export.report import render_report

    target = tmp_path / "harbor.html"
    target.write_text(render_report(harbor_story()), encoding="utf-8")
    page = watched_page
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(target.as_uri())
    page.locator("#q-3").hover()
    expect(page.locator("#tip-3")).to_be_visible()
    expect(page.locator("#tip-3")).to_contain_text("implicit")
    # A tag links to its evidence passage, which gets highlighted.
    page.locator(".tagrow-relationships a").first.click()
    expect(page.locator("mark.ev.hit")).to_have_text("Ada took his hand.")
    page.locator("[data-theme-toggle]").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=str(screenshots / "standalone-report-dark.png"), full_page=True)
    no_script_ran(page)
