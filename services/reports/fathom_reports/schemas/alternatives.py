"""A response field that holds one of several shapes, documented as an OpenAPI ``oneOf``.

A view whose query arguments choose between encodings of one field (the Class Analysis heat map, ``full`` or
``compact``) must document both, so a generated client — or a check against the document — accepts either
answer. Marshmallow has no such field, and apispec documents an unknown field as anything.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields

__all__ = ["OneOf", "one_of_properties"]


class OneOf(fields.Field):
    """A value in exactly one of ``choices``' shapes (the choices must not overlap: an array and an object).

    Loading tries each choice in turn and takes the first that loads; the schema's tests load real answers
    through it, so each shape is checked as strictly as its own field would be.
    """

    def __init__(self, *choices: fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices

    def _bind_to_schema(self, field_name: str, parent: Any) -> None:
        super()._bind_to_schema(field_name, parent)
        self.choices = tuple(copy.deepcopy(choice) for choice in self.choices)  # as fields.List does its inner
        for choice in self.choices:
            choice._bind_to_schema(field_name, self)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        errors: list[Any] = []
        for choice in self.choices:
            try:
                return choice.deserialize(value, attr, data, **kwargs)
            except ValidationError as error:
                errors.append(error.messages)
        raise ValidationError({"one_of": errors})

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


def one_of_properties(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """An apispec attribute function (``converter.add_attribute_function``): a :class:`OneOf` field as
    ``oneOf`` of its choices' own properties (nested schemas become references to their components)."""
    if not isinstance(field, OneOf):
        return {}
    return {"oneOf": [self.field2property(choice) for choice in field.choices]}
