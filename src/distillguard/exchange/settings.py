"""Hub settings: one frozen object, built once and handed to ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HubSettings:
    """Everything the hub needs to run.

    ``database_url`` is any SQLAlchemy URL: ``sqlite:///path/hub.db`` (default, zero set-up)
    or ``postgresql+psycopg://user@host/db`` (production). ``max_content_length`` is
    advertised in the API root and enforced on every request body (413 beyond it).
    Rate limits are per member (token bucket: ``rate_limit_per_s`` sustained, ``rate_limit_burst``
    at once); 0 disables them.
    """

    database_url: str = "sqlite:///distillguard-hub/hub.db"
    title: str = "distillguard exchange"
    description: str = "TAXII 2.1 hub for model-API distillation intelligence"
    contact: str = ""
    api_root: str = "api"
    max_content_length: int = 10 * 1024 * 1024
    default_page_size: int = 100
    max_page_size: int = 1000
    rate_limit_per_s: float = 0.0
    rate_limit_burst: int = 200
    #: SSE keep-alive comment interval; also bounds how long a dead subscriber lingers.
    sse_ping_s: float = 15.0
    #: Deliver signed webhooks (registered by the admin CLI); how often to retry.
    webhooks: bool = True
    webhook_tick_s: float = 2.0
    #: How many verified secrets to remember so the slow KDF runs once per credential.
    auth_cache_size: int = 1024

    @staticmethod
    def sqlite_in(data_dir: Path, **kwargs: object) -> HubSettings:
        """Settings for an embedded SQLite database file inside ``data_dir``."""
        data_dir.mkdir(parents=True, exist_ok=True)
        return HubSettings(database_url=f"sqlite:///{(data_dir / 'hub.db').resolve()}", **kwargs)  # type: ignore[arg-type]
