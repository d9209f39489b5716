"""Traffic simulator: realistic provider worlds with real prompt text.

    from distillguard.sim import simulate
    summary = simulate(Path("world/"), scale=0.2, seed=1)            # one lab
    summary = simulate(Path("worlds/"), scale=0.1, seed=1, labs=3)   # worlds/<lab>/

See ``scenarios/default.yaml`` (and ``holdout.yaml``) for what is in a world.
"""

from distillguard.sim.generate import LabSummary, SimSummary, simulate
from distillguard.sim.scenario import SCENARIO_DIR, Scenario, load_scenario

__all__ = ["LabSummary", "SCENARIO_DIR", "Scenario", "SimSummary", "load_scenario", "simulate"]
