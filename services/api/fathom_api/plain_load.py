"""Loading a request body without marshmallow's per-field machinery when every value is plainly valid.

A batch of 300 judgements is 2,100 fields; marshmallow deserialises and validates each through several
layers of calls, which cost more than appending the events. :class:`PlainLoad` reads the same schema (its
fields, their types, ``required`` / ``load_default`` / ``allow_none`` and their own validators, so each rule
still has one definition) and builds exactly the dict marshmallow would, when every value is of the plain
kind a JSON client sends and passes every validator. At the first value that is anything else (missing,
unknown key, wrong type, failing a validator) it gives up and the schema loads the body as it always did,
so every refusal, and its field path and message, is marshmallow's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.utils import missing

Reader = Callable[[Any], Any]
"""Turns one plain value into what the field loads, or raises :class:`NotPlain`."""


class NotPlain(Exception):
    """A value the plain reader does not vouch for: marshmallow decides."""


def _checked(field: fields.Field, kind: type, convert: Reader | None = None) -> Reader:
    validators = list(field.validators)

    def read(value: Any) -> Any:
        if type(value) is not kind:
            raise NotPlain
        if convert is not None:
            try:
                value = convert(value)
            except ValueError as exc:
                raise NotPlain from exc
        try:
            for validate in validators:
                validate(value)
        except ValidationError as exc:
            raise NotPlain from exc
        return value

    return read


def _reader(field: fields.Field) -> Reader | None:
    """The plain reader of ``field``, or None when its kind is not one this module knows exactly."""
    if field.data_key is not None or field.attribute is not None or field.dump_only:
        return None
    kind = type(field)
    if kind is fields.String:
        return _checked(field, str)
    if kind is fields.Integer and field.strict:  # marshmallow turns an int into itself; bools are not plain
        return _checked(field, int)
    if kind is fields.Date and field.format in (None, "iso", "iso8601"):
        return _checked(field, str, dt.date.fromisoformat)  # what fields.Date calls for "iso"
    if (kind is fields.List and type(field.inner) is fields.Nested and not field.inner.many
            and field.inner.unknown in (None, RAISE)):
        nested = _schema_reader(field.inner.schema)
        if nested is None or field.inner.validators:
            return None
        return _checked(field, list, lambda items: [nested(item) for item in items])
    return None


def _schema_reader(schema: Schema) -> Reader | None:
    """A reader for a whole object of ``schema``: strict about unknown keys, no hooks, only known field kinds."""
    if schema.opts.unknown != RAISE or any(schema._hooks.values()) or schema.many:
        return None
    plan = []
    for name, field in schema.load_fields.items():
        read = _reader(field)
        if read is None:
            return None
        plan.append((name, field, read))
    names = frozenset(name for name, _, _ in plan)
    required = frozenset(name for name, field, _ in plan if field.required)

    def read_object(data: Any) -> dict[str, Any]:
        if type(data) is not dict or not required <= data.keys() <= names:
            raise NotPlain
        loaded: dict[str, Any] = {}
        for name, field, read in plan:
            value = data.get(name, missing)
            if value is missing:
                default = field.load_default
                if default is not missing:
                    loaded[name] = default() if callable(default) else default
            elif value is None:
                if not field.allow_none:
                    raise NotPlain
                loaded[name] = None
            else:
                loaded[name] = read(value)
        return loaded

    return read_object


class PlainLoad(Schema):
    """A schema that loads plainly valid bodies directly (see the module docstring), and the rest as marshmallow."""

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None) -> Any:
        plain = many is None and partial is None and unknown in (None, RAISE)
        if plain and (reader := self._plain_reader()) is not None:
            try:
                return reader(data)
            except NotPlain:
                pass
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def _plain_reader(self) -> Reader | None:
        cached = self.__dict__.get("_plain")
        if cached is None:
            cached = self.__dict__["_plain"] = (_schema_reader(self),)
        return cached[0]
