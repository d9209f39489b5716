"""Minimal TAXII 2.1 client for the lab side (httpx): publish, poll, push-follow.

We talk HTTP directly rather than through ``taxii2-client`` because the lab needs hooks
the OASIS client hides: every outbound body passes the leak guard *as bytes* right
before it is sent (``on_send``), and the hub's SSE push channel is not TAXII.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from distillguard.share.errors import ShareError

MEDIA = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class HubLink:
    """Where the hub is and who we are there (HTTP Basic or a ``dgt_`` bearer token)."""

    url: str  # e.g. http://127.0.0.1:8000 (the API root is ``{url}/{api_root}/``)
    user: str = ""
    password: str = ""
    token: str = ""
    api_root: str = "api"
    timeout: float = 30.0

    def client(self, on_send: Callable[[bytes], None] | None = None) -> httpx.Client:
        headers = {"Accept": MEDIA}
        auth: httpx.BasicAuth | None = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.user:
            auth = httpx.BasicAuth(self.user, self.password)
        hooks: dict[str, list[Callable[..., Any]]] = {}
        if on_send is not None:
            def _hook(request: httpx.Request) -> None:
                on_send(request.read())
            hooks["request"] = [_hook]
        return httpx.Client(base_url=self.url.rstrip("/"), headers=headers, auth=auth,
                            timeout=self.timeout, event_hooks=hooks)

    def collection_path(self, collection: str) -> str:
        return f"/{self.api_root}/collections/{collection}/"


def post_objects(client: httpx.Client, link: HubLink, collection: str, body: bytes
                 ) -> dict[str, Any]:
    resp = client.post(link.collection_path(collection) + "objects/", content=body,
                       headers={"Content-Type": MEDIA})
    if resp.status_code not in (200, 202):
        raise ShareError(f"hub refused the publication to {collection}: "
                         f"HTTP {resp.status_code} {resp.text[:300]}")
    status: dict[str, Any] = resp.json()
    return status


def iter_pages(client: httpx.Client, link: HubLink, collection: str, added_after: str | None,
               limit: int = 500) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """Pages of objects added after ``added_after``: ``(objects, date_added_last)``."""
    nxt: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if added_after:
            params["added_after"] = added_after
        if nxt:
            params["next"] = nxt
        resp = client.get(link.collection_path(collection) + "objects/", params=params)
        if resp.status_code != 200:
            raise ShareError(f"hub refused the poll of {collection}: "
                             f"HTTP {resp.status_code} {resp.text[:300]}")
        env = orjson.loads(resp.content)
        objs = env.get("objects", []) or []
        yield objs, resp.headers.get("X-TAXII-Date-Added-Last")
        if not env.get("more"):
            return
        nxt = str(env.get("next"))


def iter_events(client: httpx.Client, link: HubLink, collection: str,
                last_event_id: int | None,
                on_open: Callable[[httpx.Response], None] | None = None,
                ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Objects pushed by the hub's SSE channel: ``(event id, object)``, forever.

    ``on_open(response)`` is called once the hub accepted the subscription (so a caller
    knows nothing published from then on can be missed, and can close the response from
    another thread to stop)."""
    headers = {"Accept": "text/event-stream"}
    params = {}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
        params["last_event_id"] = str(last_event_id)
    with client.stream("GET", link.collection_path(collection) + "events/", headers=headers,
                       params=params, timeout=httpx.Timeout(link.timeout, read=None)) as resp:
        if resp.status_code != 200:
            raise ShareError(f"hub refused the push subscription to {collection}: "
                             f"HTTP {resp.status_code}")
        if on_open is not None:
            on_open(resp)
        eid: int | None = None
        data: list[str] = []
        for line in resp.iter_lines():
            if line.startswith("id:"):
                eid = int(line[3:].strip())
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif line == "" and data:
                yield (eid or 0), orjson.loads("\n".join(data))
                data = []
