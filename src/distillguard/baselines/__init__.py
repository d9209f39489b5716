"""Baselines the detector is measured against (evaluation only, never part of ``scan``).

* :func:`rate_limit_scores` -- a per-account rate-limit rule, what providers already run
  (and what caught nothing in the disclosed incidents: the operations spread load over
  thousands of accounts that each stay under the limits).
* :func:`prada_scores` -- PRADA (Juuti et al., 2019): per account, the distances of each new
  query to the closest earlier one are tested for normality (Shapiro-Wilk); synthetic
  query streams deviate from the natural spread. Queries are embedded as hashed character
  n-gram vectors, the same representation as the content classifiers.
"""

from distillguard.baselines.prada import prada_scores
from distillguard.baselines.rate_limit import RATE_LIMITS, rate_limit_scores

__all__ = ["RATE_LIMITS", "prada_scores", "rate_limit_scores"]
