"""Scales: defined, adopted from a preset, or superseded by a new version.

Band values of an existing scale never change (judgements already recorded on it would
change meaning), so there is no way to edit bands in place: a trust defines a new version
``{scale}-v{n}`` that names the one it supersedes. Objectives keep the scale they were
defined on; new objectives (or a new framework import) use the new version.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Mapping
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import Access
from fathom_api.command_tables import exists
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_api.scale_presets import PRESETS
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise


def _require_writer(caller: Principal) -> None:
    if not Access(caller).may_write_framework():
        raise Forbidden("Only trust leaders and integrations define scales.")


def _defined(scale_id: str, name: str, bands: list[dict[str, Any]], taken: Container[str], version: int = 1,
             previous_version: str | None = None) -> list[NewEvent]:
    """``ScaleDefined`` for a new scale id (409 if ``taken`` holds it)."""
    if scale_id in taken:
        raise Conflict(f"Scale {scale_id} already exists.", errors={"id": ["Already in use."]})
    data = serialise("ScaleDefined", {"scale_id": scale_id, "name": name, "bands": bands,
                                      "version": version, "previous_version": previous_version})
    return [NewEvent("scale", scale_id, "ScaleDefined", data)]


def decide_definition(scale_id: str, definition: dict[str, Any], taken: Container[str],
                      caller: Principal) -> list[NewEvent]:
    """A scale defined by hand: ordered bands under a new id."""
    _require_writer(caller)
    return _defined(scale_id, definition["name"], definition["bands"], taken)


def decide_adoption(scale_id: str, preset: str, taken: Container[str], caller: Principal) -> list[NewEvent]:
    """A ready-made scale (:data:`fathom_api.scale_presets.PRESETS`) under a new id."""
    _require_writer(caller)
    if preset not in PRESETS:
        raise NotFound(f"No preset {preset!r}; GET /v1/scales/presets lists them.")
    return _defined(scale_id, PRESETS[preset]["name"], PRESETS[preset]["bands"], taken)


def decide_new_version(scale_id: str, new_version: dict[str, Any], scales: Mapping[str, Any],
                       caller: Principal) -> list[NewEvent]:
    """``{first}-v{n}`` superseding the newest version of a scale (``scales``: the trust's scales by id)."""
    _require_writer(caller)
    current = scales.get(scale_id)
    if current is None:
        raise NotFound(f"No scale {scale_id}.")
    newer = next((s.scale_id for s in scales.values() if s.previous_version == scale_id), None)
    if newer is not None:
        raise Conflict(f"Scale {scale_id} was already superseded by {newer}.")
    first = current
    while first.previous_version is not None:
        first = scales[first.previous_version]
    version = current.version + 1
    return _defined(f"{first.scale_id}-v{version}", new_version.get("name") or current.name, new_version["bands"],
                    scales, version, scale_id)


def _scales(conn: Connection) -> dict[str, Any]:
    """The trust's scales by id (a trust has a handful: every version of each)."""
    rows = conn.execute(text("SELECT scale_id, name, bands, version, previous_version FROM scales "
                             "WHERE trust_id = current_setting('fathom.trust')"))
    return {row.scale_id: row for row in rows}


def _taken(conn: Connection, scale_id: str) -> set[str]:
    return {scale_id} if exists(conn, "scales", "scale_id", scale_id) else set()


def _creation(events: list[NewEvent]) -> Decision:
    """A new scale stream: expected version 0, answered with the new id."""
    return Decision(events=events, expected_versions={("scale", events[0].stream_id): 0},
                    resource_id=events[0].stream_id)


def define_scale(payload: dict[str, Any]) -> Decide:
    """Define a scale: ordered bands, each marked secure or not, with an optional #RRGGBB colour."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        scale_id = payload.get("id") or str(uuid.uuid4())
        return _creation(decide_definition(scale_id, payload, _taken(conn, scale_id), principal))

    return decide


def adopt_preset(payload: dict[str, Any], preset: str) -> Decide:
    """Adopt a ready-made scale (see ``GET /v1/scales/presets``); its id defaults to the preset's name."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        scale_id = payload.get("id") or preset
        return _creation(decide_adoption(scale_id, preset, _taken(conn, scale_id), principal))

    return decide


def new_scale_version(payload: dict[str, Any], scale_id: str) -> Decide:
    """Supersede a scale with a new version ``{first}-v{n}`` (there is no editing bands in place).

    Band values of an existing scale never change, so judgements keep their meaning. Only
    the newest version can be superseded (409 otherwise); the name defaults to the old one.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        return _creation(decide_new_version(scale_id, payload, _scales(conn), principal))

    return decide
