"""Wire capture: an ASGI wrapper that records every request a hub receives.

Used by the wire-capture test and the three-lab story to prove, on the bytes that really
crossed the network, that no raw customer value or prompt text left a lab.
"""

from __future__ import annotations

import threading
from typing import Any


class WireCapture:
    """Wraps an ASGI app; ``requests`` holds ``(method, path, query, body)`` tuples."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, bytes, bytes]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def rx() -> Any:
            msg = await receive()
            if msg["type"] == "http.request":
                chunks.append(msg.get("body", b""))
            return msg

        try:
            await self.app(scope, rx, send)
        finally:
            with self._lock:
                self.requests.append((scope["method"], scope["path"],
                                      scope.get("query_string", b""), b"".join(chunks)))

    def texts(self) -> list[bytes]:
        """Every captured body, plus each request line (path and query) as text."""
        with self._lock:
            reqs = list(self.requests)
        out = [body for _, _, _, body in reqs if body]
        out += [f"{path} {query.decode('latin-1')}".encode() for _, path, query, _ in reqs]
        return out
