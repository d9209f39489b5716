"""The sharing policy: what may leave the lab, how marked, and where it goes.

A lab's legal / trust-and-safety owners sign off on this file, not on code. Everything
:mod:`distillguard.share.publish` emits is decided here::

    collection: 1b6e...            # default TAXII collection id
    collections:                    # optional per-signal-type overrides
      prompt-template: 9c2d...
    tlp: amber                      # clear | green | amber | amber+strict | red
    min_confidence: 60              # campaign score x 100 below this stays home
    min_cluster_size: 3             # campaigns with fewer accounts stay home
    signal_types: [payment-fingerprint, email-domain, network-infrastructure,
                   prompt-template, cluster-summary]
    min_share: 0.6                  # an entity leaves only if >= this share of its
                                    # accounts (or events) belong to the campaign
    raw_infrastructure:             # IPs that may leave raw (known proxy / datacenter)
      asns: [14061, 16509]
      cidrs: [203.0.113.0/24]
    valid_days: 30

Identifiers that belong to customers (account ids, e-mail domains, payment fingerprints,
IPs outside ``raw_infrastructure``) only ever leave as keyed hashes; that is not a policy
choice and cannot be configured away.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillguard.share.errors import ShareError
from distillguard.stix.extension import SIGNAL_TYPES
from distillguard.stix.markings import MARKING_ID_OF_LEVEL

DEFAULT_SIGNALS: tuple[str, ...] = (
    "payment-fingerprint", "email-domain", "network-infrastructure", "prompt-template",
    "cluster-summary",
)


@dataclass(frozen=True)
class Policy:
    """A parsed, validated sharing policy (see the module docstring for the file)."""

    collection: str = ""
    collections: dict[str, str] = field(default_factory=dict)
    tlp: str = "amber"
    min_confidence: int = 60
    min_cluster_size: int = 3
    signal_types: tuple[str, ...] = DEFAULT_SIGNALS
    min_share: float = 0.6
    raw_asns: frozenset[int] = frozenset()
    raw_cidrs: tuple[str, ...] = ()
    valid_days: int = 30
    max_values_per_indicator: int = 5000

    def __post_init__(self) -> None:
        if self.tlp not in MARKING_ID_OF_LEVEL:
            raise ShareError(f"policy: tlp must be one of {sorted(MARKING_ID_OF_LEVEL)}")
        bad = [s for s in self.signal_types if s not in SIGNAL_TYPES]
        if bad:
            raise ShareError(f"policy: unknown signal types {bad}; known: {list(SIGNAL_TYPES)}")
        if not 0 <= self.min_confidence <= 100:
            raise ShareError("policy: min_confidence must be in 0..100")
        if self.min_cluster_size < 1:
            raise ShareError("policy: min_cluster_size must be >= 1")
        if not 0.0 <= self.min_share <= 1.0:
            raise ShareError("policy: min_share must be in 0..1")
        for c in self.raw_cidrs:
            try:
                ipaddress.ip_network(c, strict=False)
            except ValueError as exc:
                raise ShareError(f"policy: raw_infrastructure cidr {c!r} is invalid") from exc

    @property
    def marking_ref(self) -> str:
        return MARKING_ID_OF_LEVEL[self.tlp]

    def allows(self, signal_type: str) -> bool:
        return signal_type in self.signal_types

    def collection_for(self, signal_type: str) -> str:
        return self.collections.get(signal_type, self.collection)

    def raw_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(c, strict=False) for c in self.raw_cidrs]


def policy_from_dict(raw: dict[str, Any]) -> Policy:
    known = {"collection", "collections", "tlp", "min_confidence", "min_cluster_size",
             "signal_types", "min_share", "raw_infrastructure", "valid_days",
             "max_values_per_indicator"}
    unknown = sorted(set(raw) - known)
    if unknown:  # a typo must not silently widen what leaves
        raise ShareError(f"policy: unknown keys {unknown}")
    infra = raw.get("raw_infrastructure") or {}
    if not isinstance(infra, dict):
        raise ShareError("policy: raw_infrastructure must be a mapping with asns / cidrs")
    try:
        return Policy(
            collection=str(raw.get("collection", "")),
            collections={str(k): str(v) for k, v in (raw.get("collections") or {}).items()},
            tlp=str(raw.get("tlp", "amber")).lower(),
            min_confidence=int(raw.get("min_confidence", 60)),
            min_cluster_size=int(raw.get("min_cluster_size", 3)),
            signal_types=tuple(raw.get("signal_types", DEFAULT_SIGNALS)),
            min_share=float(raw.get("min_share", 0.6)),
            raw_asns=frozenset(int(a) for a in infra.get("asns", []) or []),
            raw_cidrs=tuple(str(c) for c in infra.get("cidrs", []) or []),
            valid_days=int(raw.get("valid_days", 30)),
            max_values_per_indicator=int(raw.get("max_values_per_indicator", 5000)),
        )
    except (TypeError, ValueError) as exc:
        raise ShareError(f"policy: {exc}") from exc


def load_policy(path: str | Path | None) -> Policy:
    """The policy in ``path`` (YAML); the conservative defaults when ``path`` is None."""
    if path is None:
        return Policy()
    import yaml

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ShareError(f"cannot read sharing policy {p}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ShareError(f"sharing policy {p}: expected a mapping")
    return policy_from_dict(raw)
