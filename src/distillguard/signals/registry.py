"""Signal registry: YAML config -> enabled signal instances with weights.

Modelled on presidio's recognizer registry, minus its fallback: a config that does not
parse, names an unknown signal, or passes an unknown parameter raises ``ConfigError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from distillguard.errors import ConfigError
from distillguard.signals.base import Signal
from distillguard.signals.builtin.account_facts import AccountFacts
from distillguard.signals.builtin.automation import Automation
from distillguard.signals.builtin.capability_sweep import CapabilitySweep
from distillguard.signals.builtin.established_app import EstablishedApp
from distillguard.signals.builtin.evaluation_pattern import EvaluationPattern
from distillguard.signals.builtin.organic_usage import OrganicUsage
from distillguard.signals.builtin.output_harvesting import OutputHarvesting
from distillguard.signals.builtin.reasoning_elicitation import ReasoningElicitation
from distillguard.signals.builtin.release_pivot import ReleasePivot
from distillguard.signals.builtin.rubric_grading import RubricGrading
from distillguard.signals.builtin.sensitive_rewrite import SensitiveRewrite
from distillguard.signals.builtin.synthetic_data import SyntheticData
from distillguard.signals.builtin.template_family import TemplateFamily
from distillguard.signals.builtin.volume import Volume

BUILTIN: dict[str, type[Signal]] = {
    cls.name: cls
    for cls in (TemplateFamily, ReasoningElicitation, RubricGrading, SensitiveRewrite,
                SyntheticData, CapabilitySweep, OutputHarvesting, Automation, Volume,
                ReleasePivot, AccountFacts, EvaluationPattern, EstablishedApp, OrganicUsage)
}


@dataclass(frozen=True)
class WeightedSignal:
    signal: Signal
    weight: float


@dataclass(frozen=True)
class DetectionConfig:
    """What a scan runs: enabled signals with weights, and scoring settings."""

    signals: tuple[WeightedSignal, ...]
    target_fpr: float
    interaction: float
    source: str
    #: right-tail over left-tail scale of the label-free null (scoring._score.calibrate)
    tail_ratio: float = 1.0

    def get_params(self) -> dict[str, Any]:
        return {
            "source": self.source, "target_fpr": self.target_fpr,
            "interaction": self.interaction, "tail_ratio": self.tail_ratio,
            "signals": {w.signal.name: {"weight": w.weight, "version": w.signal.version,
                                        **w.signal.get_params()} for w in self.signals},
        }


def _number(value: Any, what: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ConfigError(f"{what} must be a number in [{lo}, {hi}], got {value!r}")
    return float(value)


def parse_config(data: Any, source: str) -> DetectionConfig:
    """Validate a loaded YAML document into a :class:`DetectionConfig`."""
    if not isinstance(data, dict) or not isinstance(data.get("signals"), dict):
        raise ConfigError(f"{source}: expected a mapping with a 'signals' mapping")
    unknown_top = set(data) - {"version", "scoring", "signals"}
    if unknown_top:
        raise ConfigError(f"{source}: unknown key(s) {sorted(unknown_top)}")
    scoring = data.get("scoring") or {}
    if not isinstance(scoring, dict) or set(scoring) - {"target_fpr", "interaction",
                                                         "tail_ratio"}:
        raise ConfigError(
            f"{source}: 'scoring' accepts only target_fpr, interaction and tail_ratio")
    target_fpr = _number(scoring.get("target_fpr", 0.001), "scoring.target_fpr", 1e-6, 0.5)
    interaction = _number(scoring.get("interaction", 1.5), "scoring.interaction", 0.0, 100.0)
    tail_ratio = _number(scoring.get("tail_ratio", 1.0), "scoring.tail_ratio", 0.5, 5.0)
    out: list[WeightedSignal] = []
    for name, spec in data["signals"].items():
        if name not in BUILTIN:
            raise ConfigError(f"{source}: unknown signal '{name}' (known: {sorted(BUILTIN)})")
        if not isinstance(spec, dict) or set(spec) - {"enabled", "weight", "params"}:
            raise ConfigError(f"{source}: signal '{name}' accepts enabled, weight, params")
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{source}: signals.{name}.enabled must be true or false")
        if not enabled:
            continue
        weight = _number(spec.get("weight", 1.0), f"signals.{name}.weight", 0.0, 100.0)
        params = spec.get("params") or {}
        try:
            sig = BUILTIN[name](**params)
        except TypeError as exc:
            raise ConfigError(f"{source}: bad params for signal '{name}': {exc}") from exc
        out.append(WeightedSignal(sig, weight))
    if not out:
        raise ConfigError(f"{source}: no signal is enabled")
    return DetectionConfig(tuple(out), target_fpr, interaction, source, tail_ratio)


def load_config(path: str | Path | None = None) -> DetectionConfig:
    """Load ``path`` (or the packaged ``default.yaml``); any problem raises ConfigError."""
    try:
        if path is None:
            text = resources.files("distillguard.signals").joinpath("default.yaml").read_text(
                encoding="utf-8")
            source = "default.yaml"
        else:
            text = Path(path).read_text(encoding="utf-8")
            source = str(path)
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read detection config {path or 'default.yaml'}: {exc}") from exc
    return parse_config(data, source)
