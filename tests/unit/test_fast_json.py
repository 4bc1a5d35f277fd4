"""The fast JSON paths give exactly what the standard library gives: the values a message (or a jsonb value)
decodes to, and the rows the read-model writer sends."""

from __future__ import annotations

import json
import math
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from fathom_shared import fast_json
from fathom_shared.read_models.arrays import array_params

DOCUMENTS = [
    '{"a": 1, "b": 1.0, "c": true, "d": null, "e": -0, "f": -0.0, "g": 1e400, "h": 1E-5, "i": 0.1}',
    '{"big": 123456789012345678901234567890, "neg": -9223372036854775809, "edge": 18446744073709551615}',
    '{"nan": NaN, "inf": Infinity, "minf": -Infinity}',
    '{"s": "caf\\u00e9 \\ud83d\\ude00 \\u2028 \\t\\n\\"\\\\ \\/", "lone": "\\ud800", "raw": "ŝ — 😀"}',
    '{"dup": 1, "dup": 2, "nested": [[], {}, [1, [2, [3]]], {"k": {"k": "v"}}]}',
    '[1, "two", 3.5, false]',
    '"just a string"',
    '"a lone surrogate, raw: \ud800"',
    '{"in_text": "1234567890123456789012", "n": 12345678901234567}',
    '  {"spaces" :  [ 1 , 2 ] }  ',
]


def typed(value: Any) -> Any:
    """``value`` with every number's type (and a float's sign and NaN-ness) made visible to ``==``."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_loads_gives_the_standard_librarys_values(document: str) -> None:
    expected = typed(json.loads(document))
    assert typed(fast_json.loads(document)) == expected
    if "\ud800" not in document:  # a raw lone surrogate has no UTF-8 bytes: text only
        assert typed(fast_json.loads(document.encode())) == expected
        assert typed(fast_json.loads(memoryview(document.encode()))) == expected


def test_loads_all_gives_each_documents_values_whatever_the_page_holds() -> None:
    for page in ([], DOCUMENTS[:1], [DOCUMENTS[0], DOCUMENTS[4], DOCUMENTS[9]], DOCUMENTS):
        assert typed(fast_json.loads_all(page)) == typed([json.loads(document) for document in page])


def test_loads_all_reads_a_page_orjson_takes_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    page = [DOCUMENTS[4], DOCUMENTS[5], DOCUMENTS[6], DOCUMENTS[9]]
    expected = typed([json.loads(document) for document in page])
    monkeypatch.setattr(fast_json, "loads", lambda _document: pytest.fail("read document by document"))
    assert typed(fast_json.loads_all(page)) == expected


@pytest.mark.parametrize("document", ["1, 2", "", "{"])
def test_loads_all_reads_a_page_with_a_document_that_is_no_single_value_one_by_one(document: str) -> None:
    """Joined into one array, ``1, 2`` would read as two values and the page's values would shift."""
    with pytest.raises(ValueError):
        fast_json.loads_all(['{"a": 1}', document, "[3]"])
    assert fast_json.loads_all(['{"a": 1}', "[3]"]) == [{"a": 1}, [3]]


@pytest.mark.parametrize("document", [b"", b"{", b'{"a": 1,}', b"\xff\xfe", b"[1] x", b"{'a': 1}"])
def test_loads_refuses_what_the_standard_library_refuses(document: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(document)
    with pytest.raises(ValueError):
        fast_json.loads(document)


def test_rows_travel_as_json_with_dates_uuids_decimals_and_documents() -> None:
    rows = [{"judgement_id": uuid.UUID(int=5), "assessed_on": date(2026, 11, 9), "weight": Decimal("1.50"),
             "groups": {"sen": "none", "custom": []}, "note": "caf\u00e9", "value": None}]
    assert json.loads(array_params(("judgement_id", "assessed_on", "weight", "groups", "note", "value"), rows)[
        "rows_json"]) == [{"judgement_id": str(uuid.UUID(int=5)), "assessed_on": "2026-11-09", "weight": "1.50",
                           "groups": {"sen": "none", "custom": []}, "note": "caf\u00e9", "value": None}]


def test_an_integer_orjson_refuses_still_travels_for_the_database_to_refuse() -> None:
    assert json.loads(array_params(("value",), [{"value": 2**70}])["rows_json"]) == [{"value": 2**70}]


def finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(map(finite, value.values()))
    if isinstance(value, list):
        return all(map(finite, value))
    return not isinstance(value, float) or math.isfinite(value)


# Events never hold a non-finite number: the services refuse one in any request (see input_refusal).
@pytest.mark.parametrize("document", [*(d for d in DOCUMENTS if finite(json.loads(d))),
                                      '{"b": 1.0, "e": -0, "f": -0.0, "h": 1E-5, "i": 0.1, "j": 1e300}'])
def test_dumps_writes_what_the_standard_library_reads_back_as_the_same_values(document: str) -> None:
    value = json.loads(document)
    written = fast_json.dumps(value)
    assert typed(json.loads(written)) == typed(value)


def test_a_message_is_compact_json_as_before() -> None:
    message = {"trust_id": "t", "sequence": 1, "data": {"value": 3, "note": None, "ratio": 0.5}}
    assert fast_json.dumps(message) == json.dumps(message, separators=(",", ":")).encode()
