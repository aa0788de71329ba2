"""Stage 7: the HTTP API and the static site, as a Flask application factory.

Every error leaves as JSON `{"error": {"code", "message"}}` with the right status: one handler
for HTTP errors and one for anything unexpected, so no request ever sees an HTML page or a
traceback. Patients' messages are health information: they are never logged.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request, send_from_directory
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from .config import Settings
from .dialogue import Dialogue, build_dialogue

log = logging.getLogger("bot.web")

api = Blueprint("api", __name__)
site = Blueprint("site", __name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def create_app(settings: Settings | None = None, dialogue: Dialogue | None = None) -> Flask:
    """Build the app. Loading the corpus happens here, once, before any request is served.

    Raises CorpusError or SynonymsError when the corpus cannot be loaded: the server must not
    start with a half-loaded corpus.
    """
    settings = settings or Settings.from_env()
    if dialogue is None:
        dialogue = build_dialogue(settings)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["ivig_bot"] = {"settings": settings, "dialogue": dialogue}
    if settings.allowed_origins:
        CORS(app, resources={r"/api/*": {"origins": list(settings.allowed_origins)}}, methods=["GET", "POST", "OPTIONS"],
             allow_headers=["Content-Type"], max_age=600)
    app.register_blueprint(api)
    app.register_blueprint(site)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.before_request(start_timer)
    app.after_request(log_request)
    return app


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
    return jsonify(dialogue.to_json(reply))


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
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
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


@site.get("/<any('widget.js', 'widget.css'):name>")
def widget_file(name: str) -> Any:
    # An hour of caching, then a cheap revalidation (ETag): updates reach clinic sites the same day.
    settings, _ = current_bot()
    response = send_from_directory(settings.web_dir, name, max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public static files, no credentials
    return response


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
}


def http_error(error: HTTPException) -> Any:
    status = error.code or 500
    code, message = HTTP_MESSAGES.get(status, (error.name.lower().replace(" ", "_"), error.description or error.name))
    response = error_response(status, code, message)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def unexpected_error(error: Exception) -> Any:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "Something went wrong on our side. Please try again.")


def start_timer() -> None:
    g.started = time.perf_counter()


def log_request(response: Any) -> Any:
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    log.info("%s %s %s %.1fms kind=%s", request.method, request.path, response.status_code, elapsed, g.get("kind", "-"))
    return response
