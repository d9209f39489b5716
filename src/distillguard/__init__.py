"""distillguard: detect adversarial distillation of model APIs and share what you catch.

The public surface is deliberately small; see ``distillguard.ingest`` for reading the
traffic-log contract, ``distillguard.pipeline`` for a whole scan and
``distillguard.exchange`` for the TAXII 2.1 hub.
"""

from distillguard.errors import (
    DistillGuardError,
    ExchangeError,
    IngestError,
    SignalError,
)

__version__ = "0.1.0"

__all__ = [
    "DistillGuardError",
    "ExchangeError",
    "IngestError",
    "SignalError",
    "__version__",
]
