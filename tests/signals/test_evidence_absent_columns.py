"""Evidence never states a number about a column the logs do not carry."""

from __future__ import annotations

from distillguard.signals.builtin.automation import Automation
from distillguard.signals.builtin.output_harvesting import OutputHarvesting


def test_output_harvesting_omits_max_tokens_when_not_logged() -> None:
    row = {"mean_output_tokens": 1300.0, "out_in_ratio": 3.2, "high_max_tokens_share": None,
           "n_events": 50}
    text = OutputHarvesting().describe(row, 0.8)
    assert "1,300 output tokens" in text and "max_tokens" not in text
    row["high_max_tokens_share"] = 0.5
    assert "50% with max_tokens>=4000" in OutputHarvesting().describe(row, 0.8)


def test_automation_omits_user_agents_when_not_logged() -> None:
    row = {"quiet_hours": 0, "n_events": 900, "gap_cv": 1.5, "automation_ua_share": None}
    text = Automation().describe(row, 0.9)
    assert "user agents" not in text and "inter-arrival CV 1.50" in text
    row["automation_ua_share"] = 1.0
    assert "100% from HTTP-library" in Automation().describe(row, 0.9)
