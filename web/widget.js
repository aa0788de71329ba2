/* ivig-bot chat widget; embedding and options: README, "Putting the chat widget on a clinic site".
 * Everything from the server is shown as text (textContent), never as HTML. */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.__ivigBotLoaded) return;
  window.__ivigBotLoaded = true;

  var BASE = new URL(".", script.src);
  var API = new URL("api/chat", BASE).href;
  var WELCOME = new URL("api/welcome", BASE).href;
  var STORE_KEY = "ivig-bot:" + BASE.href;
  var TIMEOUT_MS = 15000;
  var MAX_ENTRIES = 60; // sessionStorage is small (about 5 MB)
  var LONG_PASSAGE = 300; // characters
  // As the full-screen @media rule in widget.css: covering the page, the panel is modal.
  var FULL_SCREEN = matchMedia("(max-width: 520px), (max-height: 500px)");

  // The widget's own words (replies come from the server).
  var TEXT = {
    title: "Ask about IVIG",
    open: "Open the chat",
    close: "Close the chat",
    closeShort: "Close",
    clear: "Clear conversation",
    clearShort: "Clear",
    inputLabel: "Your question",
    placeholder: "Type your question…",
    send: "Send",
    typing: "The assistant is looking through the documents…",
    you: "You",
    bot: "Assistant",
    source: "Source",
    moreFromDocs: "More from the documents",
    showAll: "Show all",
    showLess: "Show less",
    publisherNote: "Note from the publisher: ",
    suggestions: "Suggested questions",
    openDocument: "Open the document",
    offline: "Sorry, I can't reach the assistant right now. Please check your connection and try again.",
    unavailable: "Sorry, the assistant is unavailable right now. Please try again later.",
    timeout: "Sorry, the assistant is taking too long to answer. Please try again.",
    busy: "The assistant is busy right now. Please wait a moment and try again.",
    retry: "Try again",
    helpful: "Was this helpful?",
    yes: "Yes",
    no: "No",
    thanks: "Thank you.",
    emergency_number: "Emergency",
    crisis_line: "Crisis line",
    clinic_phone: "Your clinic",
    disclaimerLabel: "Medical disclaimer",
    // Until the server sends its own: never an empty disclaimer.
    disclaimer: "This assistant shares excerpts from patient information documents. It is not medical " +
      "advice and does not replace your doctor or care team. If you feel unwell or think you may " +
      "have an emergency, contact your care team or call your local emergency number now."
  };

  var options = {
    title: script.dataset.title || TEXT.title,
    greeting: script.dataset.greeting || "",
    accent: script.dataset.accent && CSS.supports("color", script.dataset.accent) ? script.dataset.accent : "",
    position: script.dataset.position === "left" ? "left" : "right"
  };

  // State lives in sessionStorage: it survives moving between the site's pages.
  function emptyState() {
    return { open: false, context: null, disclaimer: "", entries: [] };
  }

  function loadState() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY));
      if (saved && Array.isArray(saved.entries)) return saved;
    } catch (e) { /* unreadable or blocked storage: start fresh */ }
    return emptyState();
  }

  function saveState() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ }
  }

  var state = loadState();
  var pending = false;
  var warned = false;
  var disclaimerOpen = false;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function button(className, text, onClick, label) {
    var node = el("button", { type: "button", "class": className, text: text });
    if (label) node.setAttribute("aria-label", label);
    node.addEventListener("click", onClick);
    return node;
  }

  function folder(box, onClick) {
    var node = button("fold", "", onClick || function () { fold(node, box, node.getAttribute("aria-expanded") !== "true"); });
    fold(node, box, false);
    return node;
  }

  function fold(node, box, open) {
    box.classList.toggle("folded", !open);
    node.textContent = open ? TEXT.showLess : TEXT.showAll;
    node.setAttribute("aria-expanded", open);
  }

  var host = el("div", { id: "ivig-bot-widget" });
  var root = host.attachShadow({ mode: "open" });
  // Hidden until styled, for good if the CSS is blocked: never an unstyled flash.
  host.style.setProperty("display", "none", "important");
  var sheet = el("link", { rel: "stylesheet", href: new URL("widget.css", BASE).href });
  sheet.addEventListener("load", function () { host.style.removeProperty("display"); toEnd(); });
  sheet.addEventListener("error", function () {
    console.error("ivig-bot: hidden: " + sheet.href + " did not load. Does the page's CSP style-src allow it?");
  });
  root.appendChild(sheet);

  var launcherText = el("span");
  var launcherIcon = el("span", { "class": "launcher-icon", "aria-hidden": "true" });
  var launcher = el("button", { "class": "launcher " + options.position, type: "button", "aria-controls": "ivig-panel" },
                    [launcherIcon, launcherText]);
  var closeButton = button("icon-button", "×", function () { setOpen(false, true); }, TEXT.close);
  var clearButton = button("text-button", TEXT.clearShort, function () {
    state = emptyState();
    state.open = true;
    disclaimerOpen = false;
    saveState();
    renderAll();
    greet();
    input.focus();
  }, TEXT.clear);
  var disclaimer = el("p", { "class": "disclaimer", id: "ivig-disclaimer" });
  var disclaimerBox = el("div", { "class": "disclaimer-box", role: "note", "aria-label": TEXT.disclaimerLabel }, [disclaimer]);
  var disclaimerToggle = folder(disclaimerBox, function () { disclaimerOpen = !disclaimerOpen; showDisclaimer(); });
  disclaimerToggle.setAttribute("aria-controls", "ivig-disclaimer");
  disclaimerBox.appendChild(disclaimerToggle);
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": options.title });
  var typing = el("p", { "class": "typing", text: TEXT.typing });
  var input = el("textarea", { id: "ivig-input", rows: "2", maxlength: "1000", placeholder: TEXT.placeholder,
                               "aria-describedby": "ivig-disclaimer" });
  var sendButton = el("button", { "class": "send", type: "submit", text: TEXT.send });
  var form = el("form", { "class": "composer" }, [
    el("label", { "for": "ivig-input", "class": "visually-hidden", text: TEXT.inputLabel }), input, sendButton
  ]);
  // Not <header>: the page has its own banner.
  var panel = el("section", { id: "ivig-panel", "class": "panel " + options.position, role: "dialog",
                              "aria-labelledby": "ivig-title", hidden: "" }, [
    el("div", { "class": "bar" }, [el("h2", { id: "ivig-title", text: options.title }), clearButton, closeButton]),
    disclaimerBox, log, form
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);
  if (options.accent) host.style.setProperty("--ivig-accent", options.accent);

  // Entries: {who: "user", text} | {who: "bot", data} | {who: "error", text, retry}
  function renderPassage(passage) {
    var source = passage.source || {};
    // Whose words come first.
    var cite = el("p", { "class": "cite", text: TEXT.source + ": " + source.title + " — " + source.section + " (" + source.publisher + ")" });
    if (source.url && /^https?:\/\//.test(source.url)) {
      cite.appendChild(document.createTextNode(" "));
      cite.appendChild(el("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", text: TEXT.openDocument }));
    }
    var body = el("blockquote", { "class": "passage-text" });
    String(passage.text).split("\n").forEach(function (line) { body.appendChild(el("p", { text: line })); });
    var box = el("div", { "class": "passage" }, [cite, body]);
    if (String(passage.text).length > LONG_PASSAGE) box.appendChild(folder(box));
    if (source.caveat) box.appendChild(el("p", { "class": "caveat", text: TEXT.publisherNote + source.caveat }));
    return box;
  }

  function renderUrgent(urgent) {
    var keys = ["emergency_number", "crisis_line", "clinic_phone"];
    if (urgent.severity !== "emergency") keys.reverse();
    return withCalls(el("div", { "class": "urgent", role: "alert" }, [el("strong", { text: urgent.title }), el("p", { text: urgent.message })]),
      urgent.contacts, keys);
  }

  function withCalls(box, contacts, keys) {
    keys.forEach(function (key) {
      var number = String((contacts || {})[key] || "").replace(/[^\d+]/g, "");
      if (number) box.appendChild(el("a", { "class": "call", href: "tel:" + number, text: TEXT[key] + ": " + contacts[key] }));
    });
    return box;
  }

  // Feedback needs POST /api/feedback and the answer_id a server collecting feedback puts on a
  // reply; replies without one (all from a server without that endpoint) show no control.
  function renderFeedback(data) {
    var box = el("p", { "class": "feedback", text: TEXT.helpful + " " });
    [TEXT.yes, TEXT.no].forEach(function (label, i) {
      box.appendChild(button("chip", label, function () {
        request(new URL("api/feedback", BASE).href, { answer_id: data.answer_id, helpful: !i }).catch(function () {});
        data.rated = true;
        saveState();
        input.focus(); // the button goes
        box.textContent = TEXT.thanks;
      }));
    });
    return box;
  }

  function renderBot(data, latest) {
    var bubble = el("div", { "class": "message bot" });
    bubble.appendChild(el("span", { "class": "visually-hidden", text: TEXT.bot + ": " }));
    if (data.urgent) bubble.appendChild(renderUrgent(data.urgent));
    bubble.appendChild(el("p", { "class": "reply", text: data.reply }));
    var passages = data.passages || [];
    // Under an urgent notice passages stay folded.
    var shown = data.urgent ? 0 : 1;
    passages.slice(0, shown).forEach(function (p) { bubble.appendChild(renderPassage(p)); });
    if (passages.length > shown) {
      var details = el("details", { "class": "more-passages" }, [
        el("summary", { text: TEXT.moreFromDocs + " (" + (passages.length - shown) + ")" })
      ]);
      passages.slice(shown).forEach(function (p) { details.appendChild(renderPassage(p)); });
      bubble.appendChild(details);
    }
    // The crisis line, quietly: self-harm was mentioned, but no crisis.
    if (data.support) bubble.appendChild(withCalls(el("div", { "class": "support" }, [el("p", { text: data.support.message })]),
      data.support.contacts, ["crisis_line", "emergency_number"]));
    // Only the latest reply's suggestions: old ones clutter the tab order.
    if (latest && (data.suggestions || []).length) {
      var list = el("ul", { "class": "suggestions", "aria-label": TEXT.suggestions });
      data.suggestions.forEach(function (text) {
        list.appendChild(el("li", {}, [button("chip suggestion", text, function () { ask(text); })]));
      });
      bubble.appendChild(list);
    }
    if (data.answer_id && !data.rated) bubble.appendChild(renderFeedback(data));
    return bubble;
  }

  function renderEntry(entry, latest) {
    if (entry.who === "user") {
      return el("div", { "class": "message user" }, [
        el("span", { "class": "visually-hidden", text: TEXT.you + ": " }), el("p", { text: entry.text })
      ]);
    }
    if (entry.who === "error") {
      return el("div", { "class": "message error", role: "alert" }, [el("p", { text: entry.text }), button("chip", TEXT.retry, function () {
        if (pending) return;
        input.focus();
        if (entry.retry) send(entry.retry, entry); else greet(entry);
      })]);
    }
    return renderBot(entry.data, latest);
  }

  function showDisclaimer() {
    disclaimer.textContent = state.disclaimer || TEXT.disclaimer;
    // One line once the conversation starts (or on a tiny screen), to leave room for answers.
    var foldable = innerHeight < 360 || state.entries.some(function (e) { return e.who === "user"; });
    disclaimerToggle.hidden = !foldable;
    fold(disclaimerToggle, disclaimerBox, disclaimerOpen || !foldable);
  }

  function toEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function renderAll() {
    log.textContent = "";
    state.entries.forEach(function (entry, i) { log.appendChild(renderEntry(entry, i === state.entries.length - 1)); });
    showDisclaimer();
    toEnd();
  }

  function add(entry) {
    state.entries.push(entry);
    if (state.entries.length > MAX_ENTRIES) {
      state.entries.splice(0, state.entries.length - MAX_ENTRIES);
      log.removeChild(log.firstChild);
    }
    saveState();
    log.querySelectorAll(".suggestions").forEach(function (list) {
      if (list.contains(root.activeElement)) input.focus(); // not lost to the page
      list.remove();
    });
    var node = log.appendChild(renderEntry(entry, true));
    showDisclaimer();
    reveal(node);
  }

  // Show the start of a reply (an urgent notice comes first), or, when it and the first source
  // do not fit together, the source and its passage.
  function reveal(node) {
    var top = node.offsetTop - log.offsetTop - 8;
    var cite = node.querySelector(".message > .passage .cite");
    if (cite && cite.offsetTop + cite.offsetHeight - log.offsetTop - top > log.clientHeight) top = cite.offsetTop - log.offsetTop - 8;
    log.scrollTop = node.classList.contains("user") ? log.scrollHeight : top;
  }

  function place(entry, slot) {
    var i = state.entries.indexOf(slot);
    if (i < 0) return add(entry);
    state.entries[i] = entry;
    saveState();
    renderAll();
    reveal(log.children[i]);
  }

  function request(url, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    var init = { signal: controller.signal, headers: { "Accept": "application/json" } };
    if (body) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        clearTimeout(timer);
        if (response.ok && data) return data;
        var error = new Error("http");
        error.status = response.status;
        error.serverMessage = data && data.error && data.error.message;
        throw error;
      });
    }, function (error) {
      clearTimeout(timer);
      // A blocked cross-origin request looks like this: tell the web team, once.
      if (!warned && error.name !== "AbortError") {
        warned = true;
        console.error("ivig-bot: cannot reach " + url + ". Is " + location.origin + " in IVIG_BOT_ALLOWED_ORIGINS?");
      }
      throw error;
    });
  }

  function explain(error) {
    if (error.name === "AbortError") return TEXT.timeout;
    if (error.status === 429 || error.status === 503) return TEXT.busy;
    if (error.status >= 400 && error.status < 500 && error.serverMessage) return error.serverMessage;
    return TEXT.offline;
  }

  function setPending(on) {
    pending = on;
    // A disabled button loses focus to the page.
    if (on && root.activeElement === sendButton) input.focus();
    sendButton.disabled = on;
    // In the live region, after the question: announced, covering nothing.
    if (on) {
      log.appendChild(typing);
      toEnd();
    } else {
      typing.remove();
    }
  }

  // body null: the greeting. slot: the error a retry replaces.
  function talk(url, body, slot) {
    setPending(true);
    request(url, body).then(function (data) {
      if (body) state.context = data.context;
      else if (options.greeting) data.reply = options.greeting;
      state.disclaimer = data.disclaimer || state.disclaimer;
      return { who: "bot", data: data };
    }, function (error) {
      var first = !body && error.name === "TypeError";
      return { who: "error", text: first ? TEXT.unavailable : explain(error), retry: body && body.message };
    }).then(function (entry) {
      setPending(false);
      place(entry, slot);
    });
  }

  function send(message, slot) {
    talk(API, { message: message, context: state.context }, slot);
  }

  function greet(slot) {
    talk(WELCOME, null, slot);
  }

  function ask(text) {
    var message = String(text).trim();
    if (!message || pending) return;
    add({ who: "user", text: message });
    send(message);
  }

  function setModal() {
    panel.setAttribute("aria-modal", FULL_SCREEN.matches);
  }

  function setOpen(open, moveFocus) {
    state.open = open;
    saveState();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open);
    launcher.setAttribute("aria-label", (open ? TEXT.close : TEXT.open) + ": " + options.title);
    launcherText.textContent = open ? TEXT.closeShort : options.title;
    launcherIcon.textContent = open ? "×" : "?";
    host.classList.toggle("is-open", open);
    setModal();
    if (open) {
      toEnd();
      if (!state.entries.length && !pending) greet();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  FULL_SCREEN.addEventListener("change", setModal);
  launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); setOpen(false, true); }
    // Modal: Tab cycles within the panel.
    if (event.key === "Tab" && FULL_SCREEN.matches) {
      var stops = [].filter.call(panel.querySelectorAll("button, textarea, a[href], summary"), function (node) {
        return !node.disabled && node.getClientRects().length;
      });
      var first = stops[0], last = stops[stops.length - 1];
      if (root.activeElement === (event.shiftKey ? first : last)) {
        event.preventDefault();
        (event.shiftKey ? last : first).focus();
      }
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || pending) return;
    input.value = "";
    ask(text);
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter starts a new line.
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  renderAll();
  document.body.appendChild(host);
  setOpen(!!state.open, false);
})();
