/*
 * ivig-bot chat widget. Embed with one tag:
 *   <script src="https://BOT-HOST/widget.js" defer data-title="Ask about IVIG"></script>
 * Options (data- attributes): data-title, data-greeting, data-accent (a CSS colour),
 * data-position ("right" or "left").
 *
 * Plain JavaScript, no dependencies, no requests to any host but the bot's own. Styles live in
 * a Shadow DOM so the clinic page and the widget cannot break each other. Everything the server
 * sends is rendered as text (textContent), never as HTML.
 */
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
  var MAX_ENTRIES = 60; // sessionStorage is small (about 5 MB): keep the recent conversation

  // The widget's own fixed words (the bot's replies come from the server's templates).
  var TEXT = {
    title: "Ask about IVIG",
    open: "Open the chat",
    close: "Close the chat",
    clear: "Clear conversation",
    inputLabel: "Your question",
    placeholder: "Type your question…",
    send: "Send",
    typing: "The assistant is looking through the documents…",
    you: "You",
    bot: "Assistant",
    source: "Source",
    moreFromDocs: "More from the documents",
    publisherNote: "Note from the publisher: ",
    suggestions: "Suggested questions",
    openDocument: "Open the document",
    offline: "Sorry, I can't reach the assistant right now. Please check your connection and try again.",
    timeout: "Sorry, the assistant is taking too long to answer. Please try again.",
    busy: "The assistant is busy right now. Please wait a moment and try again.",
    retry: "Try again",
    disclaimerLabel: "Medical disclaimer"
  };

  var options = {
    title: script.dataset.title || TEXT.title,
    greeting: script.dataset.greeting || "",
    accent: script.dataset.accent && CSS.supports("color", script.dataset.accent) ? script.dataset.accent : "",
    position: script.dataset.position === "left" ? "left" : "right"
  };

  // ---- state, kept in sessionStorage so it survives page navigation within the site ----
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

  // ---- building the DOM ----
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  var host = el("div", { id: "ivig-bot-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("link", { rel: "stylesheet", href: new URL("widget.css", BASE).href }));

  var launcher = el("button", {
    "class": "launcher " + options.position, type: "button", "aria-expanded": "false",
    "aria-controls": "ivig-panel", "aria-label": TEXT.open + ": " + options.title
  }, [el("span", { "class": "launcher-icon", "aria-hidden": "true", text: "?" }),
      el("span", { "class": "launcher-text", text: options.title })]);

  var closeButton = el("button", { "class": "icon-button", type: "button", "aria-label": TEXT.close, text: "×" });
  var clearButton = el("button", { "class": "text-button", type: "button", text: TEXT.clear });
  var disclaimer = el("p", { "class": "disclaimer", id: "ivig-disclaimer" });
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": options.title });
  var typing = el("p", { "class": "typing", hidden: "", text: TEXT.typing });
  var input = el("textarea", { id: "ivig-input", rows: "2", maxlength: "1000", placeholder: TEXT.placeholder,
                               "aria-describedby": "ivig-disclaimer" });
  var sendButton = el("button", { "class": "send", type: "submit", text: TEXT.send });
  var form = el("form", { "class": "composer" }, [
    el("label", { "for": "ivig-input", "class": "visually-hidden", text: TEXT.inputLabel }), input, sendButton
  ]);
  var panel = el("section", { id: "ivig-panel", "class": "panel " + options.position, role: "dialog",
                              "aria-labelledby": "ivig-title", hidden: "" }, [
    el("header", {}, [el("h2", { id: "ivig-title", text: options.title }), clearButton, closeButton]),
    el("aside", { "class": "disclaimer-box", "aria-label": TEXT.disclaimerLabel }, [disclaimer]),
    log, typing, form
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);
  if (options.accent) host.style.setProperty("--ivig-accent", options.accent);

  // ---- rendering entries: {who: "user", text} | {who: "bot", data} | {who: "error", text, retry} ----
  function renderPassage(passage) {
    var source = passage.source || {};
    var cite = el("p", { "class": "cite" }, [
      el("span", { text: TEXT.source + ": " + source.title + " — " + source.section + " (" + source.publisher + ")" })
    ]);
    if (source.url && /^https?:\/\//.test(source.url)) {
      cite.appendChild(document.createTextNode(" "));
      cite.appendChild(el("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", text: TEXT.openDocument }));
    }
    var body = el("blockquote", { "class": "passage-text" });
    String(passage.text).split("\n").forEach(function (line) { body.appendChild(el("p", { text: line })); });
    var parts = [body, cite];
    if (source.caveat) parts.push(el("p", { "class": "caveat", text: TEXT.publisherNote + source.caveat }));
    return el("div", { "class": "passage" }, parts);
  }

  function renderBot(data) {
    var bubble = el("div", { "class": "message bot" + (data.urgent ? " has-urgent" : "") });
    bubble.appendChild(el("span", { "class": "visually-hidden", text: TEXT.bot + ": " }));
    if (data.urgent) {
      bubble.appendChild(el("div", { "class": "urgent", role: "alert" }, [
        el("strong", { text: data.urgent.title }), el("p", { text: data.urgent.message })
      ]));
    }
    bubble.appendChild(el("p", { "class": "reply", text: data.reply }));
    var passages = data.passages || [];
    if (passages.length) bubble.appendChild(renderPassage(passages[0]));
    if (passages.length > 1) {
      var details = el("details", { "class": "more-passages" }, [
        el("summary", { text: TEXT.moreFromDocs + " (" + (passages.length - 1) + ")" })
      ]);
      passages.slice(1).forEach(function (p) { details.appendChild(renderPassage(p)); });
      bubble.appendChild(details);
    }
    if ((data.suggestions || []).length) {
      var list = el("ul", { "class": "suggestions", "aria-label": TEXT.suggestions });
      data.suggestions.forEach(function (text) {
        var button = el("button", { type: "button", "class": "suggestion", text: text });
        button.addEventListener("click", function () { ask(text); });
        list.appendChild(el("li", {}, [button]));
      });
      bubble.appendChild(list);
    }
    return bubble;
  }

  function renderEntry(entry) {
    if (entry.who === "user") {
      return el("div", { "class": "message user" }, [
        el("span", { "class": "visually-hidden", text: TEXT.you + ": " }), el("p", { text: entry.text })
      ]);
    }
    if (entry.who === "error") {
      var retry = el("button", { type: "button", "class": "retry", text: TEXT.retry });
      retry.addEventListener("click", function () {
        state.entries.splice(state.entries.indexOf(entry), 1);
        saveState();
        renderAll();
        if (entry.retry) send(entry.retry); else greet();
      });
      return el("div", { "class": "message error", role: "alert" }, [el("p", { text: entry.text }), retry]);
    }
    return renderBot(entry.data);
  }

  function renderAll() {
    log.textContent = "";
    state.entries.forEach(function (entry) { log.appendChild(renderEntry(entry)); });
    disclaimer.textContent = state.disclaimer;
    log.scrollTop = log.scrollHeight;
  }

  function add(entry) {
    state.entries.push(entry);
    if (state.entries.length > MAX_ENTRIES) {
      state.entries.splice(0, state.entries.length - MAX_ENTRIES);
      log.removeChild(log.firstChild);
    }
    saveState();
    var node = log.appendChild(renderEntry(entry));
    // Show the start of a reply (an urgent notice comes first), not the end of a long answer.
    log.scrollTop = entry.who === "bot" ? node.offsetTop - log.offsetTop - 8 : log.scrollHeight;
  }

  // ---- talking to the server ----
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
    typing.hidden = !on;
    sendButton.disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
  }

  function send(message) {
    setPending(true);
    request(API, { message: message, context: state.context }).then(function (data) {
      state.context = data.context;
      state.disclaimer = data.disclaimer || state.disclaimer;
      disclaimer.textContent = state.disclaimer;
      add({ who: "bot", data: data });
    }, function (error) {
      add({ who: "error", text: explain(error), retry: message });
    }).then(function () { setPending(false); });
  }

  function ask(text) {
    var message = String(text).trim();
    if (!message || pending) return;
    add({ who: "user", text: message });
    send(message);
  }

  function greet() {
    setPending(true);
    request(WELCOME).then(function (data) {
      if (options.greeting) data.reply = options.greeting;
      state.disclaimer = data.disclaimer;
      state.context = null;
      add({ who: "bot", data: data });
      disclaimer.textContent = state.disclaimer;
    }, function (error) {
      add({ who: "error", text: explain(error), retry: null });
    }).then(function () { setPending(false); });
  }

  // ---- opening, closing, clearing ----
  function setOpen(open, restoreFocus) {
    state.open = open;
    saveState();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    host.classList.toggle("is-open", open);
    if (open) {
      if (!state.entries.length && !pending) greet();
      input.focus();
    } else if (restoreFocus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
  closeButton.addEventListener("click", function () { setOpen(false, true); });
  clearButton.addEventListener("click", function () {
    state = emptyState();
    state.open = true;
    saveState();
    renderAll();
    greet();
    input.focus();
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); setOpen(false, true); }
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
  if (state.open) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    host.classList.add("is-open");
    if (!state.entries.length) greet();
  }
})();
