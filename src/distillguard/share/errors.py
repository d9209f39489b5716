"""Errors of the sharing side (all are :class:`distillguard.errors.DistillGuardError`)."""

from __future__ import annotations

from distillguard.errors import DistillGuardError


class ShareError(DistillGuardError):
    """Sharing could not proceed: bad policy or keyring, hub unreachable or refusing."""


class LeakError(ShareError):
    """The leak guard refused an outbound body: it holds raw customer values.

    ``findings`` lists what was found (kind and a masked excerpt, never the full value).
    """

    def __init__(self, message: str, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings
