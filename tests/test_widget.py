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


# ---- issue 13: layout, reflow, host styles, sources, targets, retry, reload, failures, a11y ----
WIDGET = "document.getElementById('ivig-bot-widget').shadowRoot"
SIZES = [(1280, 800), (390, 844), (844, 390), (640, 400), (320, 256)]

# Everything a layout check needs, measured in the page: the panel's fixed parts, every visible
# control and every visible piece of text in the widget.
GEOMETRY = """() => {
  const root = %s, vw = innerWidth, vh = innerHeight;
  const box = e => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, right: r.right, bottom: r.bottom, w: r.width, h: r.height}; };
  const shown = e => e.getClientRects().length > 0 && !e.closest('.visually-hidden');
  const one = s => { const e = root.querySelector(s); return e && shown(e) ? box(e) : null; };
  const log = root.querySelector('.log');
  const logBox = box(log);
  const inside = (b, o) => b.x >= o.x - 0.5 && b.y >= o.y - 0.5 && b.right <= o.right + 0.5 && b.bottom <= o.bottom + 0.5;
  const controls = [...root.querySelectorAll('button, textarea, a[href], summary')].filter(shown)
    .map(e => ({name: (e.getAttribute('aria-label') || e.textContent).trim().slice(0, 40), inLog: log.contains(e), ...box(e)}));
  const fonts = [...root.querySelectorAll('*')].filter(e => shown(e) &&
      [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(e => [e.className || e.tagName, parseFloat(getComputedStyle(e).fontSize)]);
  const cites = [...root.querySelectorAll('.cite')].filter(shown).map(box);
  return {vw, vh, controls, fonts, log: logBox, logScroll: [log.scrollTop, log.clientHeight, log.scrollHeight],
          disclaimer: one('.disclaimer'), input: one('textarea'), close: one('.icon-button'), bar: one('.bar'),
          fullCite: cites.some(c => inside(c, logBox) && inside(c, {x: 0, y: 0, right: vw, bottom: vh})),
          reply: parseFloat(getComputedStyle(root.querySelector('.reply')).fontSize)};
}""" % WIDGET


def clinic_html(site, head=""):
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><title>Clinic</title>{head}</head><body><main><h1>Clinic</h1><p>Our clinic.</p></main>'
            f'<script src="{site}/widget.js" defer></script></body></html>')


def host_page(page, site, head="", csp=None):
    """A clinic page of our own making around the widget, on the bot's origin."""
    url = site + "/clinic-test-page"
    html = clinic_html(site, head)
    headers = {"Content-Security-Policy": csp} if csp else {}
    page.route(url, lambda route: route.fulfill(body=html, content_type="text/html", headers=headers))
    return url


def open_on(page, url):
    page.goto(url)
    page.get_by_role("button", name="Open the chat").click()
    page.locator(".message").first.wait_for()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png")


def widget(page, expression):
    return page.evaluate(f"(() => {{ const root = {WIDGET}; return {expression}; }})()")


def contrast(a, b):
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("width,height,root_font", [(w, h, "") for w, h in SIZES] + [(1280, 800, "62.5%"), (390, 844, "62.5%")])
def test_layout_keeps_every_control_on_screen_and_readable(browser, site, width, height, root_font):
    phone = width <= 520
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    head = f"<style>html {{ font-size: {root_font} }}</style>" if root_font else ""
    open_on(page, host_page(page, site, head=head))
    ask(page, "what are IVIG headaches like")
    g = page.evaluate(GEOMETRY)
    shot(page, f"layout-{width}x{height}{'-root-62' if root_font else ''}")

    def on_screen(b):
        return b and b["x"] >= 0 and b["y"] >= 0 and b["right"] <= width + 0.5 and b["bottom"] <= height + 0.5

    assert on_screen(g["disclaimer"]) and g["disclaimer"]["h"] >= 12, g["disclaimer"]
    assert on_screen(g["input"]) and on_screen(g["close"]) and on_screen(g["bar"])
    assert g["fullCite"], "no source line is fully visible"
    for control in g["controls"]:
        assert control["w"] >= 44 and control["h"] >= 44, control
        assert control["x"] >= 0 and control["right"] <= width + 0.5, control  # reflow: nothing off to the side
        if not control["inLog"]:
            assert on_screen(control), control
    small = [f for f in g["fonts"] if f[1] < 12]
    assert small == []
    assert g["reply"] == 15.2  # 0.95 of the widget's own 16 px, whatever the page's root size
    if (width, height) == (640, 400):
        assert g["log"]["h"] >= 150
    assert g["log"]["h"] >= 80, g["log"]
    context.close()


def test_disclaimer_folds_to_one_line_once_the_conversation_starts(browser, site):
    context = browser.new_context(viewport={"width": 640, "height": 400})
    page = context.new_page()
    open_widget(page, site)
    disclaimer = page.locator(".disclaimer")
    full = disclaimer.bounding_box()["height"]
    assert full > 30 and page.get_by_role("button", name="Show all").count() == 0
    ask(page, "what are IVIG headaches like")
    toggle = page.locator(".disclaimer-box .fold")
    assert disclaimer.is_visible() and disclaimer.bounding_box()["height"] < 25  # one line
    assert toggle.get_attribute("aria-expanded") == "false"
    shot(page, "disclaimer-folded")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and toggle.inner_text() == "Show less"
    assert disclaimer.bounding_box()["height"] >= full
    shot(page, "disclaimer-expanded")
    ask(page, "how much does ivig cost")  # still there, on every reply
    assert disclaimer.is_visible()
    context.close()


def test_sources_come_before_passages_and_long_passages_fold(page, site):
    open_widget(page, site)
    answer = ask(page, "what are IVIG headaches like")
    passage = answer.locator(".passage").first
    cite, text = passage.locator(".cite"), passage.locator(".passage-text")
    assert "Possible Side Effects" in cite.inner_text() and "Lupus Guide" in cite.inner_text()
    assert cite.bounding_box()["y"] < text.bounding_box()["y"]
    folded = text.bounding_box()["height"]
    show = passage.get_by_role("button", name="Show all")
    assert show.get_attribute("aria-expanded") == "false"
    show.click()
    assert text.bounding_box()["height"] > folded
    assert passage.get_by_role("button", name="Show less").get_attribute("aria-expanded") == "true"
    shot(page, "sources-and-folding")


def test_user_bubbles_fit_their_text(page, site):
    open_widget(page, site)
    ask(page, "cost?")
    bubble = page.locator(".message.user").last.bounding_box()
    log = page.locator(".log").bounding_box()
    assert bubble["width"] < log["width"] / 3
    assert bubble["x"] + bubble["width"] > log["x"] + log["width"] - 30  # still on the right
    shot(page, "user-bubble")


def test_retrying_an_older_failure_answers_in_place_and_keeps_focus_in_the_input(page, site):
    open_widget(page, site)
    page.route("**/api/chat", lambda route: route.abort())
    ask(page, "what does ivig cost")
    page.unroute("**/api/chat")
    ask(page, "what are IVIG headaches like")
    page.get_by_role("button", name="Try again").click()
    page.get_by_text("extremely expensive").first.wait_for()
    messages = page.locator(".message")
    classes = [messages.nth(i).get_attribute("class") for i in range(messages.count())]
    assert classes == ["message bot", "message user", "message bot", "message user", "message bot"]
    assert "extremely expensive" in messages.nth(2).inner_text()
    assert "headaches" in messages.nth(4).inner_text()
    assert page.evaluate(f"{WIDGET}.activeElement.id") == "ivig-input"
    shot(page, "retry-in-place")


def test_after_a_reload_the_latest_exchange_is_in_view(page, site):
    open_widget(page, site)
    for question in ["what are IVIG headaches like", "how much does ivig cost", "what is ivig"]:
        ask(page, question)
    page.reload()
    page.locator(".launcher").wait_for()
    last = page.locator(".message").last
    last.wait_for()
    top, client, height = widget(page, "[root.querySelector('.log').scrollTop, root.querySelector('.log').clientHeight, root.querySelector('.log').scrollHeight]")
    assert top > 0 and top + client >= height - 2
    log = page.locator(".log").bounding_box()
    assert last.bounding_box()["y"] < log["y"] + log["height"]
    shot(page, "after-reload")


def test_misconfigured_origin_shows_the_disclaimer_and_tells_the_web_team_once(page, site):
    messages = []
    page.on("console", lambda m: messages.append(m.text))

    def clinic_site(environ, start_response):  # another origin, which the bot does not allow
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [clinic_html(site).encode()]

    server, clinic = serve(clinic_site)
    try:
        open_on(page, clinic + "/")
    finally:
        server.shutdown()
    assert "unavailable" in page.locator(".message.error").inner_text()
    assert "It is not medical advice" in page.locator(".disclaimer").inner_text()
    ours = [m for m in messages if "IVIG_BOT_ALLOWED_ORIGINS" in m]
    assert len(ours) == 1 and clinic in ours[0]
    shot(page, "misconfigured-origin")


def test_widget_stays_hidden_until_its_stylesheet_loads(page, site):
    held = []
    page.route("**/widget.css", lambda route: held.append(route))
    page.goto(site + "/", wait_until="commit")
    page.locator("#ivig-bot-widget").wait_for(state="attached")
    assert held and not page.locator(".launcher").is_visible()
    held[0].continue_()
    page.locator(".launcher").wait_for()
    shot(page, "styled-after-load")


def test_widget_blocked_stylesheet_keeps_it_hidden_and_says_why(page, site):
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    url = host_page(page, site, csp="default-src 'self'; script-src 'self'; style-src 'none'; connect-src 'self'")
    with page.expect_console_message(lambda m: m.text.startswith("ivig-bot:")):
        page.goto(url)
    page.locator("#ivig-bot-widget").wait_for(state="attached")
    ours = [m for m in messages if m.startswith("ivig-bot:")]
    assert not page.locator(".launcher").is_visible()
    assert len(ours) == 1 and "widget.css" in ours[0] and "style-src" in ours[0]
    shot(page, "stylesheet-blocked")


def test_urgent_reply_offers_the_clinics_numbers_and_folds_passages(browser, page, searcher, settings):
    contacts = settings.with_overrides(emergency_number="911", crisis_line="988", clinic_phone="+1 555 0100")
    server, url = serve(create_app(contacts, Dialogue(searcher, contacts)))
    try:
        open_widget(page, url)
        answer = ask(page, "my throat is closing and i cant breth")
        links = answer.locator(".urgent a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["tel:911", "tel:988", "tel:+15550100"]
        assert "Emergency: 911" in links.first.inner_text()
        assert answer.locator(".passage-text").count() >= 1 and not answer.locator(".passage-text").first.is_visible()
        shot(page, "urgent-contacts")
    finally:
        server.shutdown()


def test_a_support_note_offers_the_crisis_line_after_the_answer_without_an_alarm(browser, page, searcher, settings):
    contacts = settings.with_overrides(emergency_number="911", crisis_line="988")
    server, url = serve(create_app(contacts, Dialogue(searcher, contacts)))
    try:
        open_widget(page, url)
        answer = ask(page, "I used to self-harm as a teenager, years ago. Will the nurse see the scars when she puts the drip in?")
        support = answer.locator(".support")
        assert support.is_visible() and "988" in support.inner_text() and support.get_attribute("role") is None
        assert answer.locator(".urgent").count() == 0
        links = support.locator("a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["tel:988", "tel:911"]
        shot(page, "support-note")
    finally:
        server.shutdown()


def test_feedback_control_appears_only_with_an_answer_id(page, site):
    def reply(answer_id):
        def handle(route):
            body = {k: v for k, v in route.fetch().json().items() if k != "answer_id"}
            route.fulfill(json={**body, "answer_id": answer_id} if answer_id else body)
        return handle

    open_widget(page, site)
    page.route("**/api/chat", reply(None))  # a server without feedback sends no answer_id
    assert ask(page, "what are IVIG headaches like").locator(".feedback").count() == 0
    page.route("**/api/chat", reply("a1"))
    sent = []
    page.route("**/api/feedback", lambda route: (sent.append(route.request.post_data_json), route.fulfill(json={})))
    answer = ask(page, "what does ivig cost")
    answer.get_by_text("Was this helpful?").wait_for()
    answer.get_by_role("button", name="Yes").click()
    answer.get_by_text("Thank you").wait_for()
    assert page.evaluate(f"{WIDGET}.activeElement.id") == "ivig-input"  # not lost with the button
    shot(page, "feedback")
    assert sent == [{"answer_id": "a1", "helpful": True}]


def test_a_patient_rates_a_real_answer_and_the_server_keeps_only_the_vote(page, site, app):
    store = app.extensions["ivig_bot"]["insights"].store
    before = len(store.execute("SELECT helpful FROM feedback"))
    open_widget(page, site)
    answer = ask(page, "how much does IVIG cost")
    answer.get_by_text("Was this helpful?").wait_for()
    # The widget thanks the patient at once; the vote is stored when the server has answered.
    with page.expect_response("**/api/feedback") as response:
        answer.get_by_role("button", name="No", exact=True).click()
    assert response.value.status == 200
    answer.get_by_text("Thank you").wait_for()
    votes = store.execute("SELECT helpful, passages FROM feedback")
    assert len(votes) == before + 1 and votes[-1][0] == 0 and "cost" not in votes[-1][1]


def test_full_screen_panel_is_a_modal_that_keeps_focus(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    assert page.get_by_role("dialog").get_attribute("aria-modal") == "true"
    for _ in range(25):
        page.keyboard.press("Tab")
        assert widget(page, "!!root.activeElement && root.getElementById('ivig-panel').contains(root.activeElement)")
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        assert widget(page, "!!root.activeElement && root.getElementById('ivig-panel').contains(root.activeElement)")
    shot(page, "phone-modal-focus")
    context.close()


def test_desktop_launcher_says_close_while_open(page, site):
    open_widget(page, site)
    launcher = page.locator(".launcher")
    assert launcher.inner_text().endswith("Close") and launcher.get_attribute("aria-label").startswith("Close")
    shot(page, "launcher-close")
    assert page.get_by_role("dialog").get_attribute("aria-modal") == "false"
    launcher.click()
    assert page.get_by_role("dialog").count() == 0
    assert launcher.get_attribute("aria-label") == "Open the chat: Ask about IVIG"


def test_only_the_latest_suggestions_are_in_the_tab_order(page, site):
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    ask(page, "how much does ivig cost")
    bots = page.locator(".message.bot")
    assert bots.last.locator(".chip").count() > 0
    assert sum(bots.nth(i).locator(".suggestion, .suggestions button").count() for i in range(bots.count() - 1)) == 0
    shot(page, "latest-suggestions-only")


def test_focus_ring_has_3_to_1_contrast_against_its_background(page, site):
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    page.get_by_label("Your question").focus()
    seen = set()
    for _ in range(20):
        page.keyboard.press("Tab")
        ring = widget(page, """(() => {
          const e = root.activeElement; if (!e) return null;
          const s = getComputedStyle(e);
          let p = e.parentElement, bg = 'rgba(0, 0, 0, 0)';
          while (p && (bg = getComputedStyle(p).backgroundColor).endsWith(', 0)')) p = p.parentElement || p.getRootNode().host;
          if (!p) bg = 'rgb(255, 255, 255)';  // the canvas
          return {name: e.className, style: s.outlineStyle, width: parseFloat(s.outlineWidth), ring: s.outlineColor, bg};
        })()""")
        if not ring:
            continue
        seen.add(ring["name"])
        rgb = lambda c: [int(float(v)) for v in c[c.index("(") + 1:c.index(")")].split(",")[:3]]
        assert ring["style"] != "none" and ring["width"] >= 2, ring
        assert contrast(rgb(ring["ring"]), rgb(ring["bg"])) >= 3, ring
    assert {"text-button", "icon-button", "send"} <= seen
    shot(page, "focus-ring")


def test_typing_indicator_is_in_the_live_region_below_the_question(page, site):
    open_widget(page, site)
    held = []
    page.route("**/api/chat", lambda route: held.append(route))
    page.get_by_label("Your question").fill("what are IVIG headaches like")
    page.get_by_role("button", name="Send").click()
    typing = page.locator(".log .typing")
    typing.wait_for()
    question = page.locator(".message.user").last.bounding_box()
    indicator = typing.bounding_box()
    assert indicator["y"] >= question["y"] + question["height"]  # below, not over it
    assert page.locator(".log").get_attribute("aria-live") == "polite"
    shot(page, "typing")
    held[0].continue_()
    page.locator(".message.bot").nth(1).wait_for()
    assert typing.count() == 0


@pytest.mark.parametrize("phone", [False, True])
def test_no_accessibility_violations_of_any_impact(browser, site, phone):
    import axe_playwright_python
    axe = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
    context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    open_widget(page, site)
    ask(page, "what are IVIG headaches like")
    ask(page, "i cant breathe")
    assert widget(page, "root.querySelectorAll('header').length") == 0
    page.evaluate(axe)
    result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']})")
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    shot(page, f"axe-{'phone' if phone else 'desktop'}")
    assert violations == []
    assert result["passes"], "axe ran no checks"
    context.close()
