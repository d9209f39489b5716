"""The exchange hub: a TAXII 2.1 server for STIX 2.1 distillation intelligence.

``create_app(settings)`` builds the FastAPI app; ``SqlStore`` stores to SQLite or
PostgreSQL; ``admin`` holds member / credential / collection operations; ``server``
runs it in a background thread.
"""

from distillguard.exchange import admin
from distillguard.exchange.app import create_app
from distillguard.exchange.settings import HubSettings
from distillguard.exchange.store.sql import SqlStore

__all__ = ["HubSettings", "SqlStore", "admin", "create_app"]
