"""``create_app(settings)``: the FastAPI application of the exchange hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from distillguard.exchange.context import Hub
from distillguard.exchange.errors import install_error_handlers
from distillguard.exchange.routes import (
    api_root,
    collections,
    discovery,
    events,
    manifest,
    members,
    objects,
    sightings,
    status,
    versions,
)
from distillguard.exchange.settings import HubSettings
from distillguard.exchange.store.base import HubStore
from distillguard.exchange.store.sql import SqlStore

log = logging.getLogger(__name__)


def create_app(settings: HubSettings, store: HubStore | None = None) -> FastAPI:
    """Build the hub. The schema is created if missing; ``store`` overrides the URL."""
    store = store or SqlStore(settings.database_url)
    store.create_schema()
    hub = Hub(settings, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if hub.webhooks is not None:
            hub.webhooks.start()
        try:
            yield
        finally:
            if hub.webhooks is not None:
                hub.webhooks.stop()

    app = FastAPI(
        lifespan=lifespan,
        title=settings.title,
        description=settings.description,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.hub = hub
    install_error_handlers(app)
    # versions/ before objects/{id}/ is irrelevant (distinct paths); events and
    # sightings and members/me are hub extensions beside the TAXII resources.
    for module in (discovery, api_root, collections, objects, manifest, versions, status,
                   events, sightings, members):
        app.include_router(module.router)
    _build_route_tables(app)
    return app


def _build_route_tables(app: FastAPI) -> None:
    """Build each included router's route table now rather than on its first request.

    FastAPI 0.16x resolves an included router's routes (dependants, parameter models)
    lazily, when the first request reaches that router: ~17 ms of the first publish,
    paid by whichever client comes first. ``effective_candidates`` is that lazy step
    (cached on the router); on a FastAPI without it this does nothing.
    """
    for route in app.router.routes:
        for step in ("effective_candidates", "effective_low_priority_routes"):
            build = getattr(route, step, None)
            if callable(build):
                try:
                    build()
                except Exception:  # a warm-up only: the first request builds it instead
                    log.debug("could not pre-build FastAPI route tables", exc_info=True)
                    return
