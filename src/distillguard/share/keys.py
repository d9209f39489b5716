"""Consortium keys: one key id, one secret per epoch, HMAC-SHA256 keyed hashes.

Why epochs: members hash customer identifiers under a key every member holds, so any
member can test "did a partner flag *this* card?" but an outsider cannot. If one epoch's
key leaks, only identifiers published in that epoch become guessable. The consortium
admin derives epoch keys from a master secret (:func:`derive_epoch_keys`) and hands labs
only the epoch keys (never the master); a keyring file holds them::

    key_id: forum-2026
    epochs:
      "2026-11": 3f0c...   # 64 hex (32 bytes)
      "2026-12": 9ab1...
    active: "2026-12"       # optional; default: the latest epoch

Hashing is vectorised over distinct values only; callers deduplicate before hashing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from distillguard.share.errors import ShareError


class KeyringError(ShareError):
    """A keyring is missing, malformed or lacks the epoch asked for."""


@dataclass(frozen=True)
class KeyRing:
    """Epoch keys of one consortium key id. ``active`` is the epoch used to publish."""

    key_id: str
    epochs: dict[str, bytes] = field(default_factory=dict)
    active: str = ""

    def __post_init__(self) -> None:
        if not self.epochs:
            raise KeyringError(f"keyring {self.key_id!r} holds no epoch keys")
        for epoch, key in self.epochs.items():
            if len(key) < 16:
                raise KeyringError(f"epoch {epoch!r} key is shorter than 16 bytes")
        if not self.active:
            object.__setattr__(self, "active", max(self.epochs))
        elif self.active not in self.epochs:
            raise KeyringError(f"active epoch {self.active!r} has no key in the keyring")

    def key(self, epoch: str | None = None) -> bytes:
        epoch = epoch or self.active
        try:
            return self.epochs[epoch]
        except KeyError:
            raise KeyringError(f"no key for epoch {epoch!r} in keyring {self.key_id!r}") from None

    def has(self, key_id: str, epoch: str) -> bool:
        return key_id == self.key_id and epoch in self.epochs

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "active": self.active,
                "epochs": {e: k.hex() for e, k in sorted(self.epochs.items())}}


def derive_epoch_keys(master: bytes, epochs: Iterable[str]) -> dict[str, bytes]:
    """Per-epoch keys ``HMAC(master, "distillguard/epoch/" + epoch)`` (admin side only)."""
    return {e: hmac.digest(master, f"distillguard/epoch/{e}".encode(), "sha256") for e in epochs}


def new_keyring(key_id: str, epochs: Sequence[str], master: bytes | None = None) -> KeyRing:
    """A fresh keyring (random master unless given); for tests, demos and the admin CLI."""
    master = master if master is not None else secrets.token_bytes(32)
    return KeyRing(key_id, derive_epoch_keys(master, epochs))


def load_keyring(path: str | Path) -> KeyRing:
    import yaml

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KeyringError(f"cannot read keyring {p}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("epochs"), dict):
        raise KeyringError(f"keyring {p}: expected a mapping with key_id and epochs")
    try:
        epochs = {str(e): bytes.fromhex(str(k)) for e, k in raw["epochs"].items()}
    except ValueError as exc:
        raise KeyringError(f"keyring {p}: epoch keys must be hex") from exc
    return KeyRing(str(raw.get("key_id", "")), epochs, str(raw.get("active") or ""))


def save_keyring(ring: KeyRing, path: str | Path) -> None:
    import yaml

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(ring.to_dict(), sort_keys=False), encoding="utf-8")
    p.chmod(0o600)


def normalise(values: pl.Series) -> pl.Series:
    """Canonical spelling before hashing (trim, lower case), so two labs agree."""
    return values.cast(pl.String).str.strip_chars().str.to_lowercase()


def keyed_hash_one(key: bytes, value: str, domain: str) -> str:
    """HMAC-SHA256 of ``domain + NUL + value``; the domain separates signal types so an
    e-mail hash can never be replayed as a card hash."""
    return hmac.digest(key, f"{domain}\x00{value}".encode(), "sha256").hex()


def keyed_hashes_of(values: pl.Series, key: bytes, domain: str) -> pl.DataFrame:
    """``value, hash`` for the distinct non-null normalised ``values``.

    One HMAC per *distinct* value (~0.6 µs each); callers join the result back, so 16M
    events with 1M distinct IP blocks cost about a second.
    """
    uniq = normalise(values).drop_nulls().unique()
    uniq = uniq.filter(uniq != "")
    digest = hmac.digest
    prefix = f"{domain}\x00"
    hashes = [digest(key, (prefix + v).encode(), "sha256").hex() for v in uniq.to_list()]
    return pl.DataFrame({"value": uniq, "hash": pl.Series(hashes, dtype=pl.String)})


def fingerprint(data: bytes) -> str:
    """Short unkeyed digest for ids and logs (never of customer values)."""
    return hashlib.sha256(data).hexdigest()[:16]
