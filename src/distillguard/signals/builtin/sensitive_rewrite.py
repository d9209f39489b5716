"""Rewrites of sensitive queries: collecting answers the model would refuse in their plain form. Jailbreakers overlap, which is why operation-side evidence is needed too."""

from __future__ import annotations

from dataclasses import dataclass

from distillguard.signals.builtin._intent import IntentSignal


@dataclass(frozen=True, kw_only=True)
class SensitiveRewrite(IntentSignal):
    name = "sensitive_rewrite"
    requires = ("rewrite_share", "rewrite_family_share", "n_sampled")
    intent = "rewrite"
    phrase = "ask to rephrase a sensitive query so it gets answered"
