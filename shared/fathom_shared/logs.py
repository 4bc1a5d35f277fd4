"""Structured logs: every line of every service is one JSON object, and says whose work it is about.

An operator searching a day of logs for one failed request, or for everything that happened to one trust,
needs the request id, the trust and the caller on every line, not only on the lines whose authors remembered
to put them in the message. So the context is bound once where it becomes known (a request's id when it
arrives, its trust and subject once the token is verified, a background loop's trust when it starts that
trust's work) and every log record, from our code, Flask, gunicorn or a library, is rendered with it.

``FATHOM_LOG_FORMAT=console`` renders the same records as one readable line each, for a developer's terminal.
Logs hold the caller's ``sub`` (``subject``) and trust ids, never a pupil's name or any free text: rotate them
on the same schedule as the web server's access logs (see the README's security section).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

import orjson
import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars

LOG_FORMATS = ("json", "console")
F = TypeVar("F", bound=Callable[..., Any])


def _json(value: dict[str, Any], **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def log_formatter(service: str, log_format: str = "json") -> logging.Formatter:
    """The formatter every handler of every service uses: the record's message as ``event``, its level,
    logger, time (UTC, ISO 8601), the service, the bound context (``request_id``, ``trust``, ``subject``) and
    the exception's traceback, if any."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"FATHOM_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")

    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        return event

    renderer = (structlog.processors.JSONRenderer(serializer=_json) if log_format == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            add_service,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(service: str, stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send every log record of this process (the root logger's) to ``stream`` (stderr) through
    :func:`log_formatter`, replacing whatever handlers were there; the handler installed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(log_formatter(service, os.environ.get("FATHOM_LOG_FORMAT", "json")))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warning is a log line too, not a bare line on stderr
    return handler


def start_request_context(request_id: str) -> None:
    """A request arrived: forget the last request's context on this thread, remember this one's id."""
    clear_contextvars()
    bind_contextvars(request_id=request_id)


def clear_request_context() -> None:
    """The request's last line is written (gunicorn's access line): this thread works for no one now."""
    clear_contextvars()


def bind_caller(trust: str, subject: str) -> None:
    """The request's token was verified: every later line of the request names its trust and caller."""
    bind_contextvars(trust=trust, subject=subject)


@contextmanager
def trust_context(trust: str) -> Iterator[None]:
    """Background work for one trust: its lines name the trust, and only while the work lasts."""
    with bound_contextvars(trust=trust):
        yield


def logs_its_trust(function: F) -> F:
    """Decorate a function of one trust's work (it takes ``trust_id``): its lines, and those of everything it
    calls, name the trust."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def in_context(*args: Any, **kwargs: Any) -> Any:
        with trust_context(signature.bind(*args, **kwargs).arguments["trust_id"]):
            return function(*args, **kwargs)

    return in_context  # type: ignore[return-value]
