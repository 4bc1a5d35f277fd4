"""The web app's colours meet WCAG 2.1 AA: every band's label on its band colour, and the page's text colours.

Read from ``app.css`` itself, so a palette change that breaks contrast fails here rather than in a review.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fathom_reports

CSS = (Path(fathom_reports.__file__).parent / "web" / "static" / "css" / "app.css").read_text()
COLOURS = dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})", CSS))
AA_NORMAL_TEXT = 4.5


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("step", range(7))
def test_each_band_label_is_readable_on_its_band(step: int) -> None:
    assert contrast(COLOURS[f"band-{step}"], COLOURS[f"band-{step}-ink"]) >= AA_NORMAL_TEXT


@pytest.mark.parametrize(("text", "background"), [
    ("ink", "paper"), ("ink", "wash"), ("muted", "paper"), ("muted", "wash"), ("accent", "paper"),
    ("accent-ink", "accent"), ("error", "paper"), ("ok", "paper"),
])
def test_page_text_colours_are_readable(text: str, background: str) -> None:
    assert contrast(COLOURS[text], COLOURS[background]) >= AA_NORMAL_TEXT


def test_neighbouring_bands_differ_in_lightness_not_only_in_hue() -> None:
    """Colour-blind readers tell bands apart by lightness: adjacent steps on each side of the middle differ."""
    lightness = [luminance(COLOURS[f"band-{step}"]) for step in range(7)]
    assert lightness[0] < lightness[1] < lightness[2] < lightness[3]
    assert lightness[3] > lightness[4] > lightness[5] > lightness[6]
