"""Confidence that reflects corroboration by other members' sightings.

Model (documented so members can reason about it): each distinct *other* member that
reports a true sighting is independent evidence that the indicator is right, each
distinct member that reports a false positive is evidence it is wrong. Starting from the
publisher's own confidence ``c0`` (0-100, default 50):

    p = 1 - (1 - c0/100) * (1 - CORROBORATION_WEIGHT) ** corroborators
    confidence = round(100 * p * FALSE_POSITIVE_DECAY ** false_positive_members)

Counting *members* rather than sightings means one lab re-reporting the same hit a
thousand times cannot inflate confidence.
"""

from __future__ import annotations

CORROBORATION_WEIGHT = 0.3
FALSE_POSITIVE_DECAY = 0.5


def corroborated_confidence(base: int, corroborators: int, false_positive_members: int) -> int:
    p = 1.0 - (1.0 - max(0, min(100, base)) / 100.0) * (1.0 - CORROBORATION_WEIGHT) ** max(
        0, corroborators
    )
    return round(100 * p * FALSE_POSITIVE_DECAY ** max(0, false_positive_members))
