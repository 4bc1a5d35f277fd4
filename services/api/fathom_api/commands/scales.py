"""Scales: defined, adopted from a preset, or superseded by a new version.

Band values of an existing scale never change (judgements already recorded on it would
change meaning), so there is no way to edit bands in place: a trust defines a new version
``{scale}-v{n}`` that names the one it supersedes. Objectives keep the scale they were
defined on; new objectives (or a new framework import) use the new version.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import Access
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_api.scale_presets import PRESETS
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise


def _require_writer(principal: Principal) -> None:
    if not Access(principal).may_write_framework():
        raise Forbidden("Only trust leaders and integrations define scales.")


def _scale(conn: Connection, scale_id: str) -> Any:
    return conn.execute(
        text("SELECT scale_id, name, bands, version, previous_version FROM scales "
             "WHERE trust_id = current_setting('fathom.trust') AND scale_id = :id"),
        {"id": scale_id},
    ).one_or_none()


def _scale_defined(scale_id: str, name: str, bands: list[dict[str, Any]], version: int = 1,
                   previous_version: str | None = None) -> Decision:
    data = serialise("ScaleDefined", {"scale_id": scale_id, "name": name, "bands": bands,
                                      "version": version, "previous_version": previous_version})
    return Decision(
        events=[NewEvent("scale", scale_id, "ScaleDefined", data)],
        expected_versions={("scale", scale_id): 0},
        resource_id=scale_id,
    )


def _new_scale(conn: Connection, scale_id: str) -> None:
    if _scale(conn, scale_id) is not None:
        raise Conflict(f"Scale {scale_id} already exists.", errors={"id": ["Already in use."]})


def define_scale(payload: dict[str, Any]) -> Decide:
    """Define a scale: ordered bands, each marked secure or not, with an optional #RRGGBB colour."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        _require_writer(principal)
        scale_id = payload.get("id") or str(uuid.uuid4())
        _new_scale(conn, scale_id)
        return _scale_defined(scale_id, payload["name"], payload["bands"])

    return decide


def adopt_preset(payload: dict[str, Any], preset: str) -> Decide:
    """Adopt a ready-made scale (see ``GET /v1/scales/presets``); its id defaults to the preset's name."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        _require_writer(principal)
        if preset not in PRESETS:
            raise NotFound(f"No preset {preset!r}; GET /v1/scales/presets lists them.")
        scale_id = payload.get("id") or preset
        _new_scale(conn, scale_id)
        return _scale_defined(scale_id, PRESETS[preset]["name"], PRESETS[preset]["bands"])

    return decide


def new_scale_version(payload: dict[str, Any], scale_id: str) -> Decide:
    """Supersede a scale with a new version ``{first}-v{n}`` (there is no editing bands in place).

    Band values of an existing scale never change, so judgements keep their meaning. Only
    the newest version can be superseded (409 otherwise); the name defaults to the old one.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        _require_writer(principal)
        current = _scale(conn, scale_id)
        if current is None:
            raise NotFound(f"No scale {scale_id}.")
        newer = conn.execute(
            text("SELECT scale_id FROM scales WHERE trust_id = current_setting('fathom.trust') "
                 "AND previous_version = :id"), {"id": scale_id}).scalar()
        if newer is not None:
            raise Conflict(f"Scale {scale_id} was already superseded by {newer}.")
        first = current
        while first.previous_version is not None:
            first = _scale(conn, first.previous_version)
        version = current.version + 1
        new_id = f"{first.scale_id}-v{version}"
        _new_scale(conn, new_id)
        return _scale_defined(new_id, payload.get("name") or current.name, payload["bands"], version, scale_id)

    return decide
