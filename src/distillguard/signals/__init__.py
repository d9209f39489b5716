"""Detection signals: small pluggable units that turn account features into evidence.

See :mod:`distillguard.signals.base` for the contract and ``default.yaml`` for the
default set with their weights.
"""

from distillguard.signals.base import Evidence, Finding, Signal
from distillguard.signals.registry import (
    BUILTIN,
    DetectionConfig,
    WeightedSignal,
    load_config,
    parse_config,
)

__all__ = ["BUILTIN", "DetectionConfig", "Evidence", "Finding", "Signal", "WeightedSignal",
           "load_config", "parse_config"]
