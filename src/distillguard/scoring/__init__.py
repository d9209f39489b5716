"""Account-level scoring: signal strengths -> calibrated score, flag and reasons."""

from distillguard.scoring._explain import reasons
from distillguard.scoring._score import Calibration, calibrate, raw_scores, score_accounts

__all__ = ["Calibration", "calibrate", "raw_scores", "reasons", "score_accounts"]
