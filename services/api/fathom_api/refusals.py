"""Why a command is refused, in the domain's words: raised by command rules, answered by :mod:`fathom_api.http`.

Command rules know nothing of HTTP; the entry point maps each refusal to its problem+json answer
(status and title), so the same rule can run from a CLI or an import without a Flask request.
"""

from __future__ import annotations

from collections.abc import Mapping


class CommandRefused(Exception):
    """A command that must not be carried out; nothing is appended."""

    def __init__(self, detail: str | None = None, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(detail or type(self).__name__)
        self.detail = detail
        self.errors = dict(errors or {})


class Invalid(CommandRefused):
    """The request names something unknown or breaks a rule of the data (422)."""


class InvalidFile(Invalid):
    """An import's rows break a rule; errors are keyed ``<file>.<line>.<column>`` (422)."""


class Forbidden(CommandRefused):
    """The caller may not do this (403)."""


class NotFound(CommandRefused):
    """The resource the command acts on does not exist in the caller's trust (404)."""


class Conflict(CommandRefused):
    """The command contradicts the current state: an id in use, a stale version, done already (409)."""
