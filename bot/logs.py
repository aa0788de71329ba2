"""Log lines, as text for people or as one JSON object per line for log pipelines.

A request's line carries its fields (request id, method, route, status, time, reply kind) as
structured data, so the JSON form needs no parsing. No field ever holds a patient's words.
"""
from __future__ import annotations

import json
import logging
import time

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The attribute a record's structured fields travel in: logger.info(..., extra={FIELDS: {...}}).
FIELDS = "fields"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, FIELDS, {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def set_up(level: str, log_format: str) -> None:
    """The root logger writes to stderr in the chosen format (gunicorn's own logger is given the
    same formatter in bot/serving.py)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler], force=True)
