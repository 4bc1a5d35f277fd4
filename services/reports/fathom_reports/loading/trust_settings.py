"""A trust's analysis settings from ``rm_trust_settings``; no row means the documented defaults."""

from __future__ import annotations

from sqlalchemy import Connection, text

from fathom_reports.views.trust_settings import TrustSettings
from fathom_shared.read_models.tables import TRUST_SETTINGS


def load_trust_settings(connection: Connection, trust_id: str) -> TrustSettings:
    row = connection.execute(text(
        f"SELECT {TRUST_SETTINGS.select_list()} FROM rm_trust_settings WHERE trust_id = :trust"),
        {"trust": trust_id}).one_or_none()
    if row is None:
        return TrustSettings()
    return TrustSettings(row.rollup_method, row.rollup_n, int(row.small_group_threshold),
                         float(row.secure_target_percent), int(row.score_disagreement_margin))
