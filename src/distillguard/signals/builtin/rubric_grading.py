"""Rubric / reward-model grading requests: using the model as a reward model for RL on a student model. Evaluation harnesses also grade, hence a content signal, not a verdict."""

from __future__ import annotations

from dataclasses import dataclass

from distillguard.signals.builtin._intent import IntentSignal


@dataclass(frozen=True, kw_only=True)
class RubricGrading(IntentSignal):
    name = "rubric_grading"
    requires = ("rubric_share", "rubric_family_share", "n_sampled")
    intent = "rubric"
    phrase = "ask the model to grade or rank answers"
