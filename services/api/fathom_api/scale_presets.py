"""Ready-made scales a trust can adopt in one call (``POST /v1/scales/presets/{preset}``).

Colours are colour-blind safe: ordered scales take evenly spaced viridis colours (dark to
light, readable in greyscale too); red/amber/green and yes/no use the Okabe–Ito palette
(vermillion, orange, bluish green, blue) so "not yet" and "secure" stay distinct for
readers with deuteranopia or protanopia.
"""

from __future__ import annotations

from typing import Any

VIRIDIS_9 = ["#440154", "#472D7B", "#3B528B", "#2C728E", "#21918C", "#28AE80", "#5EC962", "#ADDC30", "#FDE725"]
VIRIDIS_4 = ["#440154", "#31688E", "#35B779", "#FDE725"]
VIRIDIS_3 = ["#440154", "#21918C", "#FDE725"]
OKABE_ITO_VERMILLION, OKABE_ITO_ORANGE, OKABE_ITO_GREEN, OKABE_ITO_BLUE = "#D55E00", "#E69F00", "#009E73", "#0072B2"


def _bands(labels: list[str], colours: list[str], secure_from: int, first_value: int = 1) -> list[dict[str, Any]]:
    return [{"value": first_value + n, "label": label, "secure": first_value + n >= secure_from, "colour": colour}
            for n, (label, colour) in enumerate(zip(labels, colours, strict=True))]


SOLO_DEPTH = [f"{n} {stage}" for n, stage in zip(
    range(1, 10), ["prestructural"] * 3 + ["unistructural"] * 3 + ["multistructural"] * 3, strict=True)]

PRESETS: dict[str, dict[str, Any]] = {
    "depth-1-9": {
        "name": "Depth 1-9 (SOLO)",
        "description": "1-3 prestructural, 4-6 unistructural, 7-9 multistructural; secure from 7.",
        "bands": _bands(SOLO_DEPTH, VIRIDIS_9, secure_from=7),
    },
    "emerging-developing-secure-mastery": {
        "name": "Emerging / Developing / Secure / Mastery",
        "description": "Secure and Mastery count as secure.",
        "bands": _bands(["Emerging", "Developing", "Secure", "Mastery"], VIRIDIS_4, secure_from=3),
    },
    "foundation-developing-secure-excellent": {
        "name": "Foundation / Developing / Secure / Excellent",
        "description": "Secure and Excellent count as secure.",
        "bands": _bands(["Foundation", "Developing", "Secure", "Excellent"], VIRIDIS_4, secure_from=3),
    },
    "entering-developed-secure": {
        "name": "Entering / Developed / Secure",
        "description": "Only Secure counts as secure.",
        "bands": _bands(["Entering", "Developed", "Secure"], VIRIDIS_3, secure_from=3),
    },
    "red-amber-green": {
        "name": "Red / Amber / Green",
        "description": "Green counts as secure; Okabe-Ito colours stand in for red, amber and green.",
        "bands": _bands(["Red", "Amber", "Green"], [OKABE_ITO_VERMILLION, OKABE_ITO_ORANGE, OKABE_ITO_GREEN],
                        secure_from=3),
    },
    "yes-no": {
        "name": "Yes / No mastery statement",
        "description": "0 = not yet, 1 = yes (secure).",
        "bands": _bands(["Not yet", "Yes"], [OKABE_ITO_VERMILLION, OKABE_ITO_BLUE], secure_from=1, first_value=0),
    },
}


def preset_list() -> list[dict[str, Any]]:
    return [{"preset": key, **preset} for key, preset in PRESETS.items()]
