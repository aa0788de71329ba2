"""Stage 7: the HTTP API and the static site, as a Flask application factory.

Every error leaves as JSON `{"error": {"code", "message"}}` with the right status: one handler
for HTTP errors and one for anything unexpected, so no request ever sees an HTML page or a
traceback. Patients' messages are health information: they are never logged.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, send_from_directory
from flask_cors import CORS
from flask_limiter import Limiter
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .config import Settings
from .analysis import read_word_list
from .dialogue import Dialogue, build_dialogue
from .insights import RECORD_TERMS_FOR, Insights, InsightsError, open_insights, safe_terms
from .logs import FIELDS

log = logging.getLogger("bot.web")

DATA_DIR = Path(__file__).resolve().parent / "data"

api = Blueprint("api", __name__)
site = Blueprint("site", __name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def create_app(settings: Settings | None = None, dialogue: Dialogue | None = None) -> Flask:
    """Build the app. Loading the corpus happens here, once, before any request is served.

    Raises CorpusError or SynonymsError when the corpus cannot be loaded, and SettingsError when
    the web files are missing: the server must not start half-working.
    """
    settings = settings or Settings.from_env()
    settings.check_web_dir()
    if dialogue is None:
        dialogue = build_dialogue(settings)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    insights = open_insights(settings.insights, settings.insights_url, settings.state_dir, dialogue.searcher.fingerprint,
                             dialogue.signing_key, settings.insights_retention_days)
    topic_words = frozenset(read_word_list(DATA_DIR / "focus_words.txt"))
    metrics = None
    if settings.metrics != "off":
        from .metrics import Metrics  # imported only when on: `serve` must prepare its storage first

        metrics = Metrics.create()
        searcher = dialogue.searcher
        metrics.corpus_loaded(searcher.document_count, len(searcher.passages), searcher.load_seconds,
                              searcher.from_cache)
    app.extensions["ivig_bot"] = {"settings": settings, "dialogue": dialogue, "insights": insights,
                                  "topic_words": topic_words, "metrics": metrics}
    if settings.allowed_origins:
        # always_send=False: a request without an Origin header gets no CORS headers at all.
        CORS(app, resources={r"/api/*": {"origins": list(settings.allowed_origins)}}, methods=["GET", "POST", "OPTIONS"],
             allow_headers=["Content-Type"], max_age=600, always_send=False)
    app.register_blueprint(api)
    app.register_blueprint(site)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.before_request(start_timer)
    app.before_request(answer_options)
    app.after_request(secure_headers)  # after-request hooks run last-registered first: this one ends
    app.after_request(log_request)
    if settings.rate_limit:
        limit_chat(app, settings)
    if settings.metrics == "on":
        app.add_url_rule("/metrics", "metrics", serve_metrics)
    return app


def limit_chat(app: Flask, settings: Settings) -> None:
    """Per-client limits on /api/chat and /api/feedback (each counted apart); counts in memory,
    or in Redis shared by replicas.

    If Redis is unreachable the limits fall back to this process's memory rather than
    turning patients away.
    """
    limiter = Limiter(client_address(settings.forwarded_allow_ips), app=app, storage_uri=settings.rate_limit_storage,
                      headers_enabled=True, strategy="moving-window", swallow_errors=True,
                      in_memory_fallback_enabled=True, key_prefix="ivig-bot")
    for endpoint in ("api.chat", "api.feedback"):
        app.view_functions[endpoint] = limiter.limit(settings.rate_limit)(app.view_functions[endpoint])


def client_address(forwarded_allow_ips: str) -> Callable[[], str]:
    """Who is asking: the socket peer, or, when that peer is a trusted proxy, the nearest
    untrusted address in X-Forwarded-For (read from the right, so a client cannot pick its own)."""
    trust_all = forwarded_allow_ips.strip() == "*"
    networks = [] if trust_all else [ipaddress.ip_network(part.strip(), strict=False)
                                     for part in forwarded_allow_ips.split(",") if part.strip()]

    def trusted(address: str) -> bool:
        if trust_all:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def key() -> str:
        peer = request.remote_addr or "unknown"
        if not trusted(peer):
            return peer
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if trust_all:
            return hops[-1] if hops else peer  # the address the nearest proxy added; the rest is the client's to write
        for hop in reversed(hops):
            if not trusted(hop):
                return hop
        return hops[0] if hops else peer

    return key


def current_bot() -> tuple[Settings, Dialogue]:
    state = current_app.extensions["ivig_bot"]
    return state["settings"], state["dialogue"]


# -- API ---------------------------------------------------------------------------------------
@api.post("/api/chat")
def chat() -> Any:
    settings, dialogue = current_bot()
    body = read_json_body()
    message = body.get("message")
    if message is None:
        raise ApiError(400, "missing_message", 'The request needs a "message" field with the question as text.')
    if not isinstance(message, str):
        raise ApiError(400, "invalid_message", 'The "message" field must be text.')
    if not message.strip():
        raise ApiError(400, "empty_message", "The message is empty. Please type a question.")
    if len(message) > settings.max_message_chars:
        raise ApiError(400, "message_too_long",
                       f"The message is too long ({len(message)} characters). Please keep it under "
                       f"{settings.max_message_chars} characters.")
    reply = dialogue.respond(message, body.get("context"))
    g.kind = reply.kind
    state = current_app.extensions["ivig_bot"]
    if state["metrics"] is not None:
        state["metrics"].replies.labels(reply.kind).inc()
        if reply.urgent:
            state["metrics"].urgent.labels(reply.urgent.category).inc()
    insights: Insights = state["insights"]
    terms = safe_terms(message, dialogue.understander, state["topic_words"]) if reply.kind in RECORD_TERMS_FOR else ()
    insights.record_reply(reply.kind, reply.urgent.category if reply.urgent else None, terms)
    body = dialogue.to_json(reply)
    if reply.kind in ("answer", "more") and (answer_id := insights.answer_id([h.id for h in reply.passages])):
        body["answer_id"] = answer_id  # lets the widget ask "was this helpful?"
    return jsonify(body)


@api.post("/api/feedback")
def feedback() -> Any:
    """A patient's vote on an answer: kept as the passages shown, the vote and the day."""
    insights: Insights = current_app.extensions["ivig_bot"]["insights"]
    if insights.store is None:
        raise ApiError(404, "feedback_off", "Feedback is not collected on this server.")
    body = read_json_body()
    try:
        insights.record_feedback(body.get("answer_id"), body.get("helpful"))
    except InsightsError as error:
        raise ApiError(400, "invalid_feedback", str(error)) from None
    return jsonify(ok=True)


@api.get("/api/welcome")
def welcome() -> Any:
    """What the widget shows before the first question: greeting, suggestions, disclaimer."""
    _, dialogue = current_bot()
    return jsonify(dialogue.to_json(dialogue.welcome()))


@api.get("/healthz")
def healthz() -> Any:
    _, dialogue = current_bot()
    searcher = dialogue.searcher
    return jsonify(status="ok", documents=searcher.document_count, passages=len(searcher.passages),
                   index=searcher.fingerprint)


def read_json_body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the request as JSON with 'Content-Type: application/json'.")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    try:
        raw = request.get_data(cache=False)  # raises 413 when Content-Length is over the limit
        # A chunked body has no length: Werkzeug stops at the limit without saying so, so look
        # one byte further rather than parse a cut-off message.
        if request.content_length is None and len(raw) >= limit and request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    except HTTPException:
        raise
    except Exception:  # e.g. a body declared chunked that is not: the server cannot read it
        raise ApiError(400, "invalid_body", "The request body could not be read.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "The request body must be UTF-8 text.") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to be a real request
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", 'The request body must be a JSON object like {"message": "..."}.')
    return body


# -- site --------------------------------------------------------------------------------------
@site.get("/")
def demo_page() -> Any:
    settings, _ = current_bot()
    return send_from_directory(settings.web_dir, "index.html", max_age=0)


@site.get("/<any('widget.js', 'widget.css', 'demo.css'):name>")
def widget_file(name: str) -> Any:
    # An hour of caching, then a cheap revalidation (ETag): updates reach clinic sites the same day.
    settings, _ = current_bot()
    response = send_from_directory(settings.web_dir, name, max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public static files, no credentials
    return response


def serve_metrics() -> Any:
    """Prometheus's text format (IVIG_BOT_METRICS=on; keep it off the internet at the proxy)."""
    from .metrics import CONTENT_TYPE

    metrics = current_app.extensions["ivig_bot"]["metrics"]
    return Response(metrics.exposition(), content_type=CONTENT_TYPE)


@site.get("/openapi.json")
def openapi() -> Any:
    """The API's description (OpenAPI 3.1), for client authors and for fuzzing."""
    return send_from_directory(DATA_DIR, "openapi.json", max_age=3600)


# -- errors and logging, in one place ------------------------------------------------------------
def error_response(status: int, code: str, message: str) -> Any:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def api_error(error: ApiError) -> Any:
    return error_response(error.status, error.code, error.message)


HTTP_MESSAGES = {
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("body_too_large", "The request is too large."),
    429: ("too_many_requests", "Too many messages in a short time. Please wait a moment and try again."),
}


def http_error(error: HTTPException) -> Any:
    status = error.code or 500
    code, message = HTTP_MESSAGES.get(status, (error.name.lower().replace(" ", "_"), error.description or error.name))
    response = error_response(status, code, message)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def unexpected_error(error: Exception) -> Any:
    # Where it failed, never what it failed on: an exception's text can quote the message.
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("unexpected %s on %s %s\n%s", type(error).__name__, method(), route(), frames)
    return error_response(500, "internal_error", "Something went wrong on our side. Please try again.")


# An id a proxy made (nginx's $request_id, a UUID) is kept so its log and ours can be joined;
# anything else a client sends in X-Request-ID is replaced, so no free text reaches the log.
REQUEST_ID = re.compile(r"[0-9A-Fa-f-]{16,64}")


def start_timer() -> None:
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def answer_options() -> Response | None:
    """OPTIONS gets an empty 204 listing the allowed methods (CORS headers are added after)."""
    if request.method != "OPTIONS" or request.routing_exception is not None:
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Allow"] = ", ".join(sorted(adapter.allowed_methods()))
    return response


# The demo page runs only its own files; nobody may frame it.
DEMO_PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    "connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'")


def secure_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/api/") or request.path == "/healthz" or response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"  # replies carry health questions
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)  # flask-limiter adds it to every response
    if request.path == "/" and response.status_code < 400:
        response.headers["Content-Security-Policy"] = DEMO_PAGE_POLICY
        response.headers["X-Frame-Options"] = "DENY"
    return response


# Any other method a client sends is logged as OTHER: a method is text the client chose.
LOGGED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})


def method() -> str:
    return request.method if request.method in LOGGED_METHODS else "OTHER"


def route() -> str:
    """The matched route, never the raw path: a path can carry anything a client typed."""
    return request.url_rule.rule if request.url_rule is not None else "(no route)"


def log_request(response: Any) -> Any:
    """One line per request, and its metrics: the route pattern, never the path a client sent."""
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    fields = {"request_id": request_id, "method": method(), "route": route(), "status": response.status_code,
              "ms": round(seconds * 1000, 1), "kind": g.get("kind", "-")}
    log.info("%s %s %s %.1fms kind=%s id=%s", fields["method"], fields["route"], fields["status"], fields["ms"],
             fields["kind"], request_id, extra={FIELDS: fields})
    metrics = current_app.extensions["ivig_bot"]["metrics"]
    if metrics is not None:
        metrics.requests.labels(fields["route"], str(response.status_code)).inc()
        metrics.latency.labels(fields["route"]).observe(seconds)
    return response
