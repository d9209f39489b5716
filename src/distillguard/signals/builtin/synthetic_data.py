"""Synthetic-data generation phrasing: asking for datasets of varied examples to train on."""

from __future__ import annotations

from dataclasses import dataclass

from distillguard.signals.builtin._intent import IntentSignal


@dataclass(frozen=True, kw_only=True)
class SyntheticData(IntentSignal):
    name = "synthetic_data"
    requires = ("synth_share", "synth_family_share", "n_sampled")
    intent = "synth"
    phrase = "ask for synthetic training data"
