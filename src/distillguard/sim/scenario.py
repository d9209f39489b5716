"""Scenario files: who is in the world, how much they send, when, and with what tradecraft.

A scenario is YAML. Volumes are given at scale 1 (about a million events); ``--scale``
multiplies them. Unknown keys are an error (a typo must not silently change a world).
See ``scenarios/default.yaml`` for every key with comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from distillguard.errors import ConfigError

SCENARIO_DIR = Path(__file__).parent / "scenarios"


@dataclass(frozen=True)
class LabSpec:
    name: str
    processor: str
    models: tuple[str, ...]
    model_weights: tuple[float, ...]
    old_releases: tuple[str, ...]  # ISO dates of the current models' releases
    new_model: str
    release_day: float  # days after start (fractional)
    benign_volume: float = 1.0
    prompt_retention: float = 1.0  # share of events whose prompt text the lab keeps
    records_ja4: bool = True  # does the lab's edge record TLS fingerprints
    records_asn: bool = True


@dataclass(frozen=True)
class PersonaSpec:
    name: str
    accounts: float
    events: float
    knobs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Presence:
    """How one campaign shows up at one lab."""

    volume: float = 1.0
    start_day: float = 0.0
    low_and_slow_only: bool = False


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    actor: str
    accounts: float
    events: float
    families: dict[str, float]
    roles: dict[str, float]
    resellers: float
    presence: tuple[Presence, ...]
    knobs: dict[str, Any] = field(default_factory=dict)

    def knob(self, key: str, default: Any) -> Any:
        return self.knobs.get(key, default)


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime
    days: int
    labs: tuple[LabSpec, ...]
    personas: tuple[PersonaSpec, ...]
    campaigns: tuple[CampaignSpec, ...]
    source: str


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise ConfigError(f"scenario {where}: missing key '{key}'")
    return d[key]


def _check_keys(d: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = set(d) - allowed
    if extra:
        raise ConfigError(f"scenario {where}: unknown key(s) {sorted(extra)}")


def load_scenario(path: Path | None = None) -> Scenario:
    """Parse and validate a scenario file (the bundled default when ``path`` is None)."""
    p = Path(path) if path is not None else SCENARIO_DIR / "default.yaml"
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"scenario file not found: {p}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"scenario file {p} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"scenario file {p}: expected a mapping at top level")
    try:
        return _parse(raw, str(p))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"scenario file {p}: {exc}") from exc


def _parse(raw: dict[str, Any], src: str) -> Scenario:
    _check_keys(raw, {"name", "start", "days", "labs", "personas", "campaigns"}, "top level")
    start = _req(raw, "start", "top level")
    if isinstance(start, str):
        start = datetime.fromisoformat(start.replace("Z", "+00:00"))
    if not isinstance(start, datetime):
        raise ConfigError(f"scenario {src}: 'start' must be an ISO timestamp")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    days = int(_req(raw, "days", "top level"))
    if not 3 <= days <= 366:
        raise ConfigError(f"scenario {src}: 'days' must be between 3 and 366")
    labs = []
    for i, lab in enumerate(_req(raw, "labs", "top level")):
        w = f"labs[{i}]"
        _check_keys(lab, {"name", "processor", "models", "new_model", "release_day", "benign_volume",
                          "prompt_retention", "records_ja4", "records_asn"}, w)
        models = _req(lab, "models", w)
        rel = float(_req(lab, "release_day", w))
        if not 0 < rel < days:
            raise ConfigError(f"scenario {src}: {w}.release_day must be inside the timeline")
        labs.append(
            LabSpec(
                name=str(_req(lab, "name", w)),
                processor=str(lab.get("processor", "stripe")),
                models=tuple(m["name"] for m in models),
                model_weights=tuple(float(m.get("weight", 1.0)) for m in models),
                old_releases=tuple(str(m.get("released", "2025-06-01")) for m in models),
                new_model=str(_req(lab, "new_model", w)),
                release_day=rel,
                benign_volume=float(lab.get("benign_volume", 1.0)),
                prompt_retention=float(lab.get("prompt_retention", 1.0)),
                records_ja4=bool(lab.get("records_ja4", True)),
                records_asn=bool(lab.get("records_asn", True)),
            )
        )
    if not labs:
        raise ConfigError(f"scenario {src}: at least one lab is required")
    import dataclasses as dc

    from distillguard.sim.campaigns import DEFAULT_KNOBS
    from distillguard.sim.personas import PERSONAS
    from distillguard.sim.templates import ATTACK_FAMILIES

    persona_fields = {f.name for f in dc.fields(next(iter(PERSONAS.values())))} - {"name"}

    personas = []
    for name, p in (_req(raw, "personas", "top level") or {}).items():
        if name not in PERSONAS:
            raise ConfigError(f"scenario {src}: unknown persona '{name}' (known: {sorted(PERSONAS)})")
        p = dict(p)
        _check_keys(p, persona_fields | {"accounts", "events"}, f"personas.{name}")
        acc = float(p.pop("accounts"))
        ev = float(p.pop("events"))
        personas.append(PersonaSpec(name, acc, ev, p))
    campaigns = []
    for name, c in (raw.get("campaigns") or {}).items():
        w = f"campaigns.{name}"
        c = dict(c)
        _check_keys(c, set(DEFAULT_KNOBS) | {"actor", "accounts", "events", "families", "roles",
                                              "resellers", "presence"}, w)
        fams = {str(k): float(v) for k, v in _req(c, "families", w).items()}
        for f in fams:
            if f not in ATTACK_FAMILIES:
                raise ConfigError(f"scenario {src}: {w}: unknown family '{f}'")
        roles = {str(k): float(v) for k, v in _req(c, "roles", w).items()}
        for r in roles:
            if r not in ("dedicated", "mixed", "low_and_slow", "direct"):
                raise ConfigError(f"scenario {src}: {w}: unknown role '{r}'")
        pres = tuple(
            Presence(
                volume=float(x.get("volume", 1.0)),
                start_day=float(x.get("start_day", 0.0)),
                low_and_slow_only=bool(x.get("low_and_slow_only", False)),
            )
            for x in c.pop("presence", [{}])
        )
        campaigns.append(
            CampaignSpec(
                name=name,
                actor=str(c.pop("actor")),
                accounts=float(c.pop("accounts")),
                events=float(c.pop("events")),
                families=fams,
                roles=roles,
                resellers=float(c.pop("resellers", 3)),
                presence=pres,
                knobs={k: v for k, v in c.items() if k not in ("families", "roles")},
            )
        )
    return Scenario(
        name=str(raw.get("name", Path(src).stem)),
        start=start.astimezone(UTC),
        days=days,
        labs=tuple(labs),
        personas=tuple(personas),
        campaigns=tuple(campaigns),
        source=src,
    )
