"""The hub's per-process state and the access checks every route shares."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request

from distillguard.exchange.auth import Authenticator
from distillguard.exchange.errors import TaxiiError, not_found
from distillguard.exchange.ratelimit import RateLimiter
from distillguard.exchange.settings import HubSettings
from distillguard.exchange.store.base import Collection, Grant, HubStore, Member, Viewer
from distillguard.exchange.store.sql import fmt_ts

#: What a collection or status id may look like (anything else cannot exist; keeps NUL
#: and other bytes PostgreSQL refuses away from the database).
SAFE_KEY = re.compile(r"[A-Za-z0-9._~-]{1,64}")


class Broadcaster:
    """Wakes SSE subscribers of a collection when objects are added (thread-safe)."""

    def __init__(self) -> None:
        self._subs: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()

    def subscribe(self, collection_id: str) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        sub = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._subs.setdefault(collection_id, set()).add(sub)
        return sub

    def unsubscribe(
        self, collection_id: str, sub: tuple[asyncio.AbstractEventLoop, asyncio.Event]
    ) -> None:
        with self._lock:
            self._subs.get(collection_id, set()).discard(sub)

    def notify(self, collection_id: str) -> None:
        with self._lock:
            subs = list(self._subs.get(collection_id, ()))
        for loop, ev in subs:
            if not loop.is_closed():
                loop.call_soon_threadsafe(ev.set)


@dataclass
class Access:
    member: Member
    collection: Collection
    grant: Grant

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.member.id, self.member.identity_id, self.grant.in_org)


class Hub:
    """Everything a request handler needs; one per ``create_app`` call."""

    def __init__(self, settings: HubSettings, store: HubStore) -> None:
        self.settings = settings
        self.store = store
        self.auth = Authenticator(store, settings.auth_cache_size)
        self.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        self.events = Broadcaster()
        from distillguard.exchange.webhooks import WebhookDispatcher

        self.webhooks = (
            WebhookDispatcher(store, tick_s=settings.webhook_tick_s) if settings.webhooks else None
        )

    def published(self, collection_id: str) -> None:
        """Wake everything that pushes new objects of ``collection_id``."""
        self.events.notify(collection_id)
        if self.webhooks is not None:
            self.webhooks.notify(collection_id)

    def caller(self, request: Request) -> Member:
        """Authenticate the request and apply the member's rate limit."""
        member = self.auth.authenticate(request.headers.get("authorization"))
        wait = self.limiter.allow(member.id)
        if wait:
            raise TaxiiError(
                429,
                f"rate limit exceeded; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        return member

    def access(
        self, member: Member, collection_id: str, *, read: bool = False, write: bool = False
    ) -> Access:
        """Check rights on a collection.

        A collection the member holds no grant on answers 404 exactly like a missing
        one, so outsiders cannot probe which collections exist. Members who can see the
        collection but lack the needed right get 403.
        """
        if not SAFE_KEY.fullmatch(collection_id):
            raise not_found("collection")
        both = getattr(self.store, "grant_and_collection", None)
        if both is not None:  # one round trip (SqlStore)
            grant, collection = both(collection_id, member.id)
        else:
            grant = self.store.get_grant(collection_id, member.id)
            collection = self.store.get_collection(collection_id) if grant else None
        if grant is None or not (grant.can_read or grant.can_write):
            raise not_found("collection")
        if collection is None:
            raise not_found("collection")
        if read and not grant.can_read:
            raise TaxiiError(403, "you do not have read access to this collection")
        if write and not grant.can_write:
            raise TaxiiError(403, "you do not have write access to this collection")
        return Access(member, collection, grant)


def now_ts() -> str:
    return fmt_ts(datetime.now(UTC))


def hub_of(request: Request) -> Hub:
    hub = request.app.state.hub
    assert isinstance(hub, Hub)
    return hub
