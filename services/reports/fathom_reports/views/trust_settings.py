"""A trust's analysis settings (``rm_trust_settings``), with the documented defaults.

The row is only written once a trust changes a setting, so a missing row means "defaults",
never "no thresholds".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fathom_shared.read_models.tables import DEFAULT_SETTINGS


@dataclass(frozen=True)
class TrustSettings:
    rollup_method: str = DEFAULT_SETTINGS["rollup_method"]
    rollup_n: int | None = DEFAULT_SETTINGS["rollup_n"]
    small_group_threshold: int = DEFAULT_SETTINGS["small_group_threshold"]
    """Percentages computed over fewer pupils than this are marked ``small_group``."""
    secure_target_percent: float = float(DEFAULT_SETTINGS["secure_target_percent"])
    """An assessed objective whose % secure is below this is a gap (``below_target``)."""
    score_disagreement_margin: int = DEFAULT_SETTINGS["score_disagreement_margin"]
    """How many bands (0..3) a test score and teacher judgement may differ before a moderation prompt."""

    def is_small(self, pupils: int) -> bool:
        return pupils < self.small_group_threshold

    def view(self) -> dict[str, Any]:
        return {"small_group_threshold": self.small_group_threshold,
                "secure_target_percent": self.secure_target_percent,
                "score_disagreement_margin": self.score_disagreement_margin,
                "rollup_method": self.rollup_method, "rollup_n": self.rollup_n}
