"""JSON parsed and written in C, to exactly the values the standard library gives and reads.

``orjson`` parses several times faster than :func:`json.loads` and, for the documents it is given here,
to the same values (a unit test holds the two to it). It refuses a few inputs the standard library
takes — ``NaN`` and ``Infinity``, lone surrogates — and reads an integer beyond 64 bits as a float;
those documents go to :func:`json.loads` (any with a run of 19 digits, where such an integer could be),
so the answer, or the error, is the standard library's in every case.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson

_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_LONG_NUMBER = b"0" * 19
"""An integer literal of 19 digits or more may not fit 64 bits (``orjson`` would make it a float). Found by
turning every digit into ``0`` and searching for 19 of them: far cheaper than a regular expression."""


def loads(document: bytes | bytearray | memoryview | str) -> Any:
    """:func:`json.loads`, faster."""
    if isinstance(document, memoryview):
        document = bytes(document)
    raw = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(document)
        except orjson.JSONDecodeError:
            pass
    return json.loads(document)


def loads_all(documents: Sequence[str]) -> list[Any]:
    """``[loads(document) for document in documents]`` for documents that are each one JSON value (a ``jsonb``
    column's text is), parsed as one JSON array: one call into C for a page of events' data instead of one (and the
    driver's loader around it) per event. A page holding what :func:`loads` leaves to the standard library, or
    whose array does not come out at the documents' count, is read document by document."""
    if documents:
        raw = ("[" + ",".join(documents) + "]").encode("utf-8", "surrogatepass")
        if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
            try:
                values = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
            else:
                if len(values) == len(documents):
                    return values
    return [loads(document) for document in documents]


def dumps(value: Any) -> bytes:
    """Compact JSON (``separators=(",", ":")``) that :func:`json.loads` reads back as ``value``, in C.

    ``orjson`` writes non-ASCII text as UTF-8 rather than ``\\u`` escapes (the same JSON value) and refuses
    integers beyond 64 bits, which go to :func:`json.dumps`. It writes ``NaN`` as ``null``: only for values
    that cannot hold one (read from ``jsonb``, which has no ``NaN``).
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()
