"""``create_app(settings)``: the FastAPI application of the exchange hub."""

from __future__ import annotations

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
    return app
