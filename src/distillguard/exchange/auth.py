"""Credentials: HTTP Basic (TAXII's baseline) and bearer API tokens, hashed with scrypt.

Secrets are never stored: only ``scrypt$n$r$p$salt$hash`` strings. scrypt is slow on
purpose (~30 ms), so a verified secret is remembered in memory as the SHA-256 of
(credential id, secret); revocation is still checked against the database on every
request, so a revoked token stops working at once.

Token format: ``dgt_<credential id>_<secret>``; the id part makes lookup O(1) without
weakening the secret (32 random bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from distillguard.exchange.errors import unauthorized
from distillguard.exchange.store.base import Credential, HubStore, Member

_N, _R, _P = 2**14, 8, 1
#: Member names: printable, no control characters (PostgreSQL refuses NUL outright).
_NAME = re.compile(r"[^\x00-\x1f\x7f:]{1,200}")
_CRED_ID = re.compile(r"[0-9a-f]{1,40}")
TOKEN_PREFIX = "dgt_"  # noqa: S105 -- a public marker in front of every token, not a secret


def hash_secret(secret: str) -> str:
    """Slow salted hash of ``secret`` for storage."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of ``secret`` against a ``hash_secret`` string."""
    try:
        algo, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if algo != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        got = hashlib.scrypt(
            secret.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(got, expected)


def new_password() -> str:
    return secrets.token_urlsafe(18)


def new_token_secret() -> str:
    return secrets.token_urlsafe(32)


def format_token(cred_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}{cred_id}_{secret}"


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly issued credential; ``secret`` is shown once and never stored."""

    credential: Credential
    secret: str


def issue_password(store: HubStore, member_id: int, password: str | None = None) -> IssuedSecret:
    pw = password or new_password()
    return IssuedSecret(store.add_credential(member_id, "password", hash_secret(pw)), pw)


def issue_token(store: HubStore, member_id: int) -> IssuedSecret:
    secret = new_token_secret()
    cred = store.add_credential(member_id, "token", hash_secret(secret))
    return IssuedSecret(cred, format_token(cred.id, secret))


class Authenticator:
    """Turns an ``Authorization`` header into an active ``Member`` or raises 401."""

    def __init__(self, store: HubStore, cache_size: int = 1024) -> None:
        self.store = store
        self._cache: OrderedDict[bytes, None] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _verified(self, cred: Credential, secret: str) -> bool:
        key = hashlib.sha256(f"{cred.id}\0{cred.secret_hash}\0{secret}".encode()).digest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return True
        if not verify_secret(secret, cred.secret_hash):
            return False
        with self._lock:
            self._cache[key] = None
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return True

    def authenticate(self, header: str | None) -> Member:
        if not header:
            raise unauthorized()
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "basic":
            return self._basic(value)
        if scheme == "bearer":
            return self._bearer(value)
        raise unauthorized("unsupported authorization scheme; use Basic or Bearer")

    def _basic(self, value: str) -> Member:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise unauthorized("malformed Basic credentials") from None
        if not (sep and _NAME.fullmatch(user)):
            raise unauthorized("invalid credentials")
        found = self._login_candidates(user)
        if found is None or not found[0].active:
            raise unauthorized("invalid credentials")
        member, creds = found
        for cred in creds:
            if not cred.revoked and self._verified(cred, password):
                return member
        raise unauthorized("invalid credentials")

    def _login_candidates(self, user: str) -> tuple[Member, list[Credential]] | None:
        # One query where the store offers it (SqlStore); two on any other HubStore.
        lookup = getattr(self.store, "login_candidates", None)
        if lookup is not None:
            found: tuple[Member, list[Credential]] | None = lookup(user, "password")
            return found
        member = self.store.get_member_by_name(user)
        if member is None:
            return None
        return member, self.store.member_credentials(member.id, "password")

    def _bearer(self, token: str) -> Member:
        if not token.startswith(TOKEN_PREFIX):
            raise unauthorized("invalid credentials")
        cred_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
        cred = self.store.get_credential(cred_id) if sep and _CRED_ID.fullmatch(cred_id) else None
        if cred is None or cred.revoked or cred.kind != "token":
            raise unauthorized("invalid credentials")
        member = self.store.get_member(cred.member_id)
        if member is None or not member.active or not self._verified(cred, secret):
            raise unauthorized("invalid credentials")
        return member
