"""Chain-of-thought elicitation: harvesting full reasoning traces to train a reasoning model. Tutoring traffic also asks for steps, so this is weighed with behaviour."""

from __future__ import annotations

from dataclasses import dataclass

from distillguard.signals.builtin._intent import IntentSignal


@dataclass(frozen=True, kw_only=True)
class ReasoningElicitation(IntentSignal):
    name = "reasoning_elicitation"
    requires = ("cot_share", "cot_family_share", "n_sampled")
    intent = "cot"
    phrase = "ask for step-by-step reasoning traces"
