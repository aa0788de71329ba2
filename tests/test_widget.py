"""The embeddable widget in a real browser (Debian's Chromium driven by Playwright).

Skipped, with a message, where no Chromium is installed; CI installs it. Screenshots of the
desktop and phone views are saved to test-artifacts/.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot.dialogue import Dialogue
from bot.web import create_app
from conftest import document

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium found: install it (apt-get install chromium) to run the browser tests")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--no-first-run"]


# A follow-up reads the earlier topic: it either continues it, or says nothing new answers.
CONTEXT_USED = "Continuing from your last question"
REPEATED_NOTE = "don't say more about this than what I showed you"


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def site(app):
    server, url = serve(app)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a page dialog opened: {dialog.message}"))
    yield page
    context.close()


def open_widget(page, url):
    page.goto(url + "/")
    page.get_by_role("button", name="Open the chat: Ask about IVIG").click()
    page.get_by_role("dialog", name="Ask about IVIG").wait_for()
    page.locator(".message.bot").first.wait_for()


def ask(page, text):
    count = page.locator(".message.bot, .message.error").count()
    page.get_by_label("Your question").fill(text)
    page.get_by_role("button", name="Send").click()
    page.locator(".message.bot, .message.error").nth(count).wait_for()
    return page.locator(".message.bot, .message.error").nth(count)


def test_question_shows_passage_attribution_and_disclaimer(page, site):
    open_widget(page, site)
    assert page.get_by_text("not medical advice").is_visible()
    answer = ask(page, "what are IVIG headaches like")
    assert answer.locator(".passage-text").first.inner_text().startswith("IVIGs can cause severe headaches")
    assert "Intravenous Immunoglobulins (IVIGs) and Lupus — Possible Side Effects (Lupus Guide)" in answer.inner_text()
    assert answer.get_by_text("More from the documents (2)").is_visible()
    assert page.locator(".disclaimer").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "widget-desktop.png")


def test_follow_up_turn_uses_the_conversation(page, site):
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    follow = ask(page, "how long do they last?")
    assert CONTEXT_USED in follow.inner_text() or REPEATED_NOTE in follow.inner_text()
    assert follow.locator(".passage-text").first.inner_text().startswith("IVIGs can cause severe headaches")


def test_urgent_reply_comes_first_and_looks_urgent(page, site):
    open_widget(page, site)
    answer = ask(page, "my throat is closing and i cant breth")
    urgent = answer.locator(".urgent")
    assert urgent.is_visible() and "emergency" in urgent.inner_text()
    assert urgent.get_attribute("role") == "alert"
    assert answer.locator(":scope > *:not(.visually-hidden)").first.get_attribute("class") == "urgent"
    colour = urgent.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(164, 0, 29)"


def test_keyboard_only_conversation(page, site):
    page.goto(site + "/")
    for _ in range(10):  # Tab until the launcher (it is after the page's own links)
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "ivig-bot-widget":
            break
    page.keyboard.press("Enter")
    page.locator(".suggestion").first.wait_for()
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.id") == "ivig-input"
    page.keyboard.type("how much does ivig cost")
    page.keyboard.press("Enter")
    page.get_by_text("extremely expensive").first.wait_for()
    page.locator(".message.bot").nth(1).locator(".suggestion").first.focus()
    page.keyboard.press("Enter")
    page.locator(".message.bot").nth(2).wait_for()
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.className").startswith("launcher")


def test_html_in_documents_and_messages_is_shown_as_text(browser, page, make_corpus, build, settings):
    hostile = "Beware <script>window.__xss=1</script> and <img src=x onerror=\"window.__xss=2\"> in leaflets."
    corpus = make_corpus({"evil.md": document("evil", "## Hostile\n\n" + hostile.replace("<", "\\<"), title="<b>Bold</b> title")})
    settings = settings.with_overrides(corpus_dir=corpus)
    server, url = serve(create_app(settings, Dialogue(build(settings), settings)))
    try:
        open_widget(page, url)
        answer = ask(page, "beware leaflets hostile")
        assert hostile in answer.inner_text() and "<b>Bold</b> title" in answer.inner_text()
        ask(page, "<img src=x onerror=\"window.__xss=3\"> leaflets")
        assert page.get_by_text("<img src=x onerror=\"window.__xss=3\"> leaflets").is_visible()
        assert page.evaluate("window.__xss") is None
        assert page.locator("#ivig-bot-widget").evaluate("h => h.shadowRoot.querySelectorAll('img, script:not([src])').length") == 0
    finally:
        server.shutdown()


def test_phone_viewport_panel_fills_the_screen(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    box = page.locator(".panel").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    assert page.locator(".disclaimer").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "widget-phone.png")
    context.close()


def test_server_down_gives_a_kind_message_and_retry_works(page, site):
    open_widget(page, site)
    page.route("**/api/chat", lambda route: route.abort())
    error = ask(page, "what does ivig cost")
    assert "can't reach the assistant" in error.inner_text()
    page.unroute("**/api/chat")
    error.get_by_role("button", name="Try again").click()
    page.get_by_text("extremely expensive").first.wait_for()
    assert page.locator(".message.error").count() == 0


def test_rate_limited_and_bad_requests_are_explained(page, site):
    open_widget(page, site)
    page.route("**/api/chat", lambda route: route.fulfill(status=429, json={"error": {"code": "x", "message": "y"}}))
    assert "busy right now" in ask(page, "cost").inner_text()
    page.route("**/api/chat", lambda route: route.fulfill(
        status=400, json={"error": {"code": "message_too_long", "message": "Please keep it under 1000 characters."}}))
    explained = ask(page, "a question")
    assert "Please keep it under 1000 characters." in explained.inner_text()
    assert explained.get_by_role("button", name="Try again").is_visible()
    page.unroute("**/api/chat")
    capped = ask(page, "a" * 1000 + "b")  # the textarea caps typing at the server's 1000 characters
    assert capped.get_attribute("class") == "message bot"


def test_conversation_survives_navigation_and_can_be_cleared(page, site):
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    page.goto(site + "/#visit")
    page.reload()
    assert page.get_by_role("dialog").is_visible()
    assert page.locator(".message.user").first.inner_text().endswith("what are IVIG headaches like")
    follow = ask(page, "how long do they last?")  # the context survived too
    assert CONTEXT_USED in follow.inner_text() or REPEATED_NOTE in follow.inner_text()
    page.get_by_role("button", name="Clear conversation").click()
    page.locator(".suggestion").first.wait_for()
    assert page.locator(".message.user").count() == 0


def test_no_serious_accessibility_violations(page, site):
    import axe_playwright_python
    axe = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    ask(page, "i cant breathe")
    page.evaluate(axe)
    result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert result["passes"], "axe ran no checks"


def test_widget_makes_no_third_party_requests(page, site):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    assert requests and all(r.startswith(site) for r in requests)


def test_long_conversations_keep_only_the_recent_turns(page, site):
    open_widget(page, site)
    for i in range(32):  # 64 entries: more than the 60 kept
        page.get_by_label("Your question").fill(f"question {i}: what does ivig cost")
        page.get_by_role("button", name="Send").click()  # disabled until the reply is in
        page.locator(".send:not([disabled])").wait_for()
    assert page.locator(".message").count() == 60
    assert page.locator(".message.user").last.inner_text().endswith("question 31: what does ivig cost")
    assert "question 1:" not in page.locator(".log").inner_text()
    stored = page.evaluate("JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)[0])).entries.length")
    assert stored == 60
