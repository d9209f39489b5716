"""Simulated hard-case worlds: the default scenario plus opt-in personas or campaigns.

The round-4/6 probe tests (tool users, SSO companies, aggregators, paraphrasing fleets)
each add a case the default scenario lacks; this writes the scenario and simulates it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from distillguard.sim import simulate
from distillguard.sim.scenario import SCENARIO_DIR

#: A fleet that rewords every templated request and shares no infrastructure (one
#: residential address per account, browser user agents, human rhythm, aged accounts with
#: their own cards): the round-4 probe's paraphrasing tradecraft. Tests add size and more.
PARAPHRASE_CAMPAIGN: dict[str, Any] = {
    "actor": "ACTOR-WREN", "resellers": 1,
    "families": {"cot": 0.5, "thorough": 0.3, "code": 0.2}, "roles": {"dedicated": 1.0},
    "paraphrase": 1.0, "raw_share": 0.05, "ip": {"home": 1.0}, "n_exits": 50000,
    "clients": {"chrome": 0.6, "safari": 0.2, "firefox": 0.2}, "spoof_ua": 0.0,
    "rhythm": {"human": 1.0}, "aged_share": 1.0, "email": {"consumer": 1.0},
    "payment": {"random": 1.0}, "org_share": 0.0, "ban_share": 0.0,
}


def default_plus(out: Path, *, seed: int, scale: float = 0.05,
                 personas: dict[str, Any] | None = None,
                 campaigns: dict[str, Any] | None = None) -> Path:
    """Simulate ``default.yaml`` with ``personas`` / ``campaigns`` added into ``out/world``
    (the scenario is written beside it); returns the world directory."""
    raw = yaml.safe_load((SCENARIO_DIR / "default.yaml").read_text())
    raw["personas"].update(personas or {})
    raw["campaigns"].update(campaigns or {})
    out.mkdir(parents=True, exist_ok=True)
    scenario = out / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(raw))
    world = out / "world"
    simulate(world, scale=scale, seed=seed, scenario=scenario)
    return world
