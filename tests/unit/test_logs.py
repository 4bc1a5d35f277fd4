"""The log formatter: one JSON object per record, carrying the context bound where it became known."""

from __future__ import annotations

import io
import json
import logging

import pytest
from structlog.contextvars import clear_contextvars

from fathom_shared.logs import (
    bind_caller,
    clear_request_context,
    log_formatter,
    logs_its_trust,
    start_request_context,
    trust_context,
)


@pytest.fixture
def lines():
    """Records of the logger ``fathom.test`` rendered by the services' formatter, parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter("api"))
    logger = logging.getLogger("fathom.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    clear_contextvars()
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    clear_contextvars()


def test_a_requests_lines_carry_its_id_then_its_trust_and_caller_until_it_is_cleared(lines) -> None:
    log = logging.getLogger("fathom.test")
    start_request_context("req-1")
    log.info("arrived")
    bind_caller("oakwood", "t-rae")
    log.warning("saved %d judgements", 3, extra={"count": 3})
    clear_request_context()
    log.info("idle")
    arrived, saved, idle = lines()
    assert arrived["event"] == "arrived" and arrived["request_id"] == "req-1" and "trust" not in arrived
    assert (saved["event"], saved["level"], saved["logger"], saved["service"], saved["count"]) == (
        "saved 3 judgements", "warning", "fathom.test", "api", 3)
    assert (saved["request_id"], saved["trust"], saved["subject"]) == ("req-1", "oakwood", "t-rae")
    assert saved["ts"].endswith("Z")
    assert not {"request_id", "trust", "subject"} & idle.keys()


def test_a_new_request_forgets_the_last_ones_caller(lines) -> None:
    start_request_context("req-1")
    bind_caller("oakwood", "t-rae")
    start_request_context("req-2")
    logging.getLogger("fathom.test").info("next")
    (line,) = lines()
    assert line["request_id"] == "req-2" and "trust" not in line and "subject" not in line


def test_background_work_names_its_trust_only_while_it_lasts_even_when_it_fails(lines) -> None:
    log = logging.getLogger("fathom.test")

    @logs_its_trust
    def publish(engine: object, trust_id: str) -> None:
        log.info("published")
        raise RuntimeError("broker down")

    with pytest.raises(RuntimeError):
        publish(None, trust_id="elm")
    with trust_context("oak"):
        log.info("swept")
    log.error("after", exc_info=(RuntimeError, RuntimeError("x"), None))
    published, swept, after = lines()
    assert published["trust"] == "elm" and swept["trust"] == "oak" and "trust" not in after
    assert "RuntimeError: x" in after["exception"]


def test_an_unknown_format_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="json, console"):
        log_formatter("api", "xml")
