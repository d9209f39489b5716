"""TLP 2.0 enforcement: what each object's markings mean for who may receive it.

Rules applied when serving (the SQL side lives in ``SqlStore._visibility``):
- TLP:CLEAR / GREEN / AMBER / unmarked: every member with read rights on the collection;
- TLP:AMBER+STRICT: only members on the collection's organisation list (``Grant.in_org``)
  and the publisher;
- TLP:RED: only the publisher and the identities named in the distillation extension's
  ``recipients`` list (identity ids of members, see ``distillguard hub member list``).
A TLP:RED object without recipients is accepted but only its publisher can read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from distillguard.stix.extension import extension_body
from distillguard.stix.markings import tlp_level


def marking_of(obj: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(TLP level, recipients) of a STIX object."""
    level = tlp_level(obj.get("object_marking_refs"))
    recipients: tuple[str, ...] = ()
    if level == "red":
        raw = extension_body(obj).get("recipients")
        if isinstance(raw, list):
            recipients = tuple(r for r in raw if isinstance(r, str) and r.startswith("identity--"))
    return level, recipients
