"""TLP marking-definition identifiers (TLP 2.0 and the older TLP 1.0 ones stix2 predefines).

The ids are fixed by OASIS (TLP 2.0: extension-definition--60a3c5c5-...). We map both
generations onto one ordered vocabulary so the hub can enforce the strictest level an
object carries, whichever generation its publisher used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP_CLEAR: Final = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_GREEN: Final = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_AMBER: Final = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_AMBER_STRICT: Final = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP_RED: Final = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

# TLP 1.0 (predefined in STIX 2.1 itself, exported by stix2 as TLP_WHITE ... TLP_RED).
TLP1_WHITE: Final = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_GREEN: Final = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_AMBER: Final = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_RED: Final = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

#: Levels from least to most restrictive; "none" means the object carries no TLP marking.
TLP_LEVELS: Final = ("none", "clear", "green", "amber", "amber+strict", "red")

_LEVEL_OF: Final[dict[str, str]] = {
    TLP_CLEAR: "clear",
    TLP1_WHITE: "clear",
    TLP_GREEN: "green",
    TLP1_GREEN: "green",
    TLP_AMBER: "amber",
    TLP1_AMBER: "amber",
    TLP_AMBER_STRICT: "amber+strict",
    TLP_RED: "red",
    TLP1_RED: "red",
}

MARKING_ID_OF_LEVEL: Final[dict[str, str]] = {
    "clear": TLP_CLEAR,
    "green": TLP_GREEN,
    "amber": TLP_AMBER,
    "amber+strict": TLP_AMBER_STRICT,
    "red": TLP_RED,
}


def tlp_level(marking_refs: Iterable[str] | None) -> str:
    """The most restrictive TLP level among ``marking_refs`` ("none" when there is none)."""
    best = 0
    for ref in marking_refs or ():
        level = _LEVEL_OF.get(ref) if isinstance(ref, str) else None
        if level is not None:
            best = max(best, TLP_LEVELS.index(level))
    return TLP_LEVELS[best]


def tlp2_marking_definition(level: str) -> dict[str, object]:
    """The OASIS TLP 2.0 marking-definition object for ``level`` (as published by OASIS)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING_ID_OF_LEVEL[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}
        },
    }
