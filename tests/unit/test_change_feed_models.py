"""The reports side names the same models the projector announces (webhook ``models`` are checked against it)."""

from __future__ import annotations

from fathom_reports.changes.store import MODELS
from fathom_shared.read_models.notices import model_name
from fathom_shared.read_models.tables import TABLES


def test_models_are_the_projectors_tables() -> None:
    assert set(MODELS) == {model_name(t.name) for t in TABLES} | {model_name("rm_pupil_objective")}
