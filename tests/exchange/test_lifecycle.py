"""Revocation, valid_until expiry, sightings with corroborated confidence, SSE push,
rate limits."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from distillguard.exchange import admin
from distillguard.exchange.app import create_app
from distillguard.exchange.corroboration import corroborated_confidence
from distillguard.exchange.server import start_in_thread
from distillguard.exchange.settings import HubSettings
from distillguard.stix import sighting

from .conftest import Hub, World, make_world
from .stixgen import envelope, indicator, new_version

TAXII = "application/taxii+json;version=2.1"


def _client(hub: Hub, name: str, password: str) -> httpx.Client:
    return httpx.Client(
        base_url=hub.url,
        auth=(name, password),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        timeout=30,
    )


def _ids(resp: httpx.Response) -> list[str]:
    return [o["id"] for o in resp.json().get("objects", [])]


def test_revocation_serves_only_the_tombstone(hub: Hub, world: World) -> None:
    v1 = indicator(10)
    revoked = new_version(v1, revoked=True)
    url = f"/api/collections/{world.collection}/objects/"
    with _client(hub, world.alice.name, world.alice.password) as alice:
        alice.post(url, json=envelope([v1]))
        alice.post(url, json=envelope([revoked]))
    with _client(hub, world.bob.name, world.bob.password) as bob:
        served = bob.get(f"{url}{v1['id']}/", params={"match[version]": "all"}).json()["objects"]
    assert len(served) == 1 and served[0]["revoked"] is True


def test_expired_indicators_are_not_served(hub: Hub, world: World) -> None:
    expired = indicator(11, valid_from="2020-01-01T00:00:00Z", valid_until="2021-01-01T00:00:00Z")
    current = indicator(12, valid_until="2099-01-01T00:00:00Z")
    url = f"/api/collections/{world.collection}/objects/"
    with _client(hub, world.alice.name, world.alice.password) as alice:
        assert alice.post(url, json=envelope([expired, current])).status_code == 202
    with _client(hub, world.bob.name, world.bob.password) as bob:
        ids = _ids(bob.get(url, params={"match[id]": f"{expired['id']},{current['id']}"}))
    assert ids == [current["id"]]


def test_sightings_corroborate_and_false_positives_lower_confidence(hub: Hub) -> None:
    w = make_world(hub)
    ind = indicator(13, confidence=40)
    url = f"/api/collections/{w.collection}/objects/"
    with _client(hub, w.alice.name, w.alice.password) as alice:
        alice.post(url, json=envelope([ind]))
    reporters = []
    for tag, anonymous, fp in (("r1", False, False), ("r2", True, False), ("r3", False, True)):
        new = admin.add_member(hub.store, f"{tag}-{uuid.uuid4().hex[:6]}")
        admin.grant(hub.store, w.collection, new.member.name, read=True, write=True)
        reporters.append((new, anonymous, fp))
    for new, anonymous, fp in reporters:
        s = sighting(
            ind["id"], reporter_identity=new.member.identity_id, count=3,
            anonymous=anonymous, false_positive=fp,
        )
        with _client(hub, new.member.name, new.password.secret) as c:
            assert c.post(url, json=envelope([s, {**s, "id": f"sighting--{uuid.uuid4()}"}])).status_code == 202
    with _client(hub, w.bob.name, w.bob.password) as bob:
        summary = bob.get(f"/api/collections/{w.collection}/sightings/{ind['id']}/").json()
    assert summary["corroborating_members"] == 2
    assert summary["false_positive_members"] == 1
    assert summary["total_count"] == 18
    names = [r["member"] for r in summary["reporters"]]
    assert "anonymous" in names and reporters[1][0].member.name not in names
    assert summary["confidence"] == corroborated_confidence(40, 2, 1)
    assert corroborated_confidence(40, 2, 0) > 40 > corroborated_confidence(40, 0, 1)


def _read_events(resp: httpx.Response, n: int) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    eid = None
    for line in resp.iter_lines():
        if line.startswith("id:"):
            eid = line[3:].strip()
        elif line.startswith("data:") and eid is not None:
            events.append((eid, line[5:].strip()))
            if len(events) == n:
                return events
    return events


def test_sse_pushes_new_objects_and_resumes_with_last_event_id(hub: Hub, world: World) -> None:
    url = f"{hub.url}/api/collections/{world.collection}/events/"
    auth = (world.bob.name, world.bob.password)
    first, second = indicator(20), indicator(21)
    with httpx.stream("GET", url, auth=auth, timeout=20) as resp:
        assert resp.status_code == 200
        with _client(hub, world.alice.name, world.alice.password) as alice:
            alice.post(f"/api/collections/{world.collection}/objects/", json=envelope([first]))
            alice.post(f"/api/collections/{world.collection}/objects/", json=envelope([second]))
        events = _read_events(resp, 2)
    assert [first["id"] in events[0][1], second["id"] in events[1][1]] == [True, True]
    with httpx.stream(
        "GET", url, auth=auth, headers={"Last-Event-ID": events[0][0]}, timeout=20
    ) as resumed:
        again = _read_events(resumed, 1)
    assert second["id"] in again[0][1]


def test_sse_respects_tlp(hub: Hub) -> None:
    from .stixgen import red_indicator

    w = make_world(hub)
    url = f"{hub.url}/api/collections/{w.collection}/events/"
    red, green = red_indicator([]), indicator(22)
    with _client(hub, w.alice.name, w.alice.password) as alice:
        alice.post(f"/api/collections/{w.collection}/objects/", json=envelope([red, green]))
    with httpx.stream(
        "GET", url, auth=(w.bob.name, w.bob.password), params={"last_event_id": 0}, timeout=20
    ) as resp:
        seen: list[str] = []
        for _eid, data in _read_events(resp, 8):
            seen.append(data)
            if green["id"] in data:
                break
    assert any(green["id"] in d for d in seen) and not any(red["id"] in d for d in seen)


def test_non_reader_cannot_subscribe(hub: Hub, world: World) -> None:
    url = f"{hub.url}/api/collections/{world.collection}/events/"
    bob = (world.bob.name, world.bob.password)
    for bad in ("x", "-1", "9" * 30):
        assert httpx.get(url, auth=bob, headers={"Last-Event-ID": bad}).status_code == 400
    assert httpx.get(url, auth=(world.carol.name, world.carol.password)).status_code == 403
    assert httpx.get(url, auth=(world.dave.name, world.dave.password)).status_code == 404


def test_rate_limit_answers_429_per_member(tmp_path) -> None:
    settings = HubSettings(
        database_url=f"sqlite:///{tmp_path / 'rl.db'}", rate_limit_per_s=0.5, rate_limit_burst=3
    )
    app = create_app(settings)
    store = app.state.hub.store
    a = admin.add_member(store, "lab-a")
    b = admin.add_member(store, "lab-b")
    running = start_in_thread(app)
    with httpx.Client(base_url=running.url, timeout=30) as client:
        codes = [
            client.get("/taxii2/", auth=("lab-a", a.password.secret)).status_code for _ in range(5)
        ]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        limited = client.get("/taxii2/", auth=("lab-a", a.password.secret))
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["http_status"] == "429"
        assert client.get("/taxii2/", auth=("lab-b", b.password.secret)).status_code == 200
    running.stop()
    store.close()


def test_many_concurrent_publishers_lose_nothing(hub: Hub) -> None:
    w = make_world(hub)
    url = f"/api/collections/{w.collection}/objects/"
    batches = [[indicator(1000 + 10 * t + i) for i in range(10)] for t in range(4)]
    errors: list[int] = []

    def publish(batch: list[dict]) -> None:
        with _client(hub, w.alice.name, w.alice.password) as c:
            r = c.post(url, json=envelope(batch))
            if r.status_code != 202:
                errors.append(r.status_code)

    threads = [threading.Thread(target=publish, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with _client(hub, w.bob.name, w.bob.password) as bob:
        got = _ids(bob.get(url, params={"match[type]": "indicator", "limit": 100}))
    assert sorted(got) == sorted(o["id"] for b in batches for o in b)


@pytest.mark.parametrize("anything", [None])
def test_extension_helpers_refuse_raw_values(anything) -> None:
    from distillguard.stix import keyed_hashes

    with pytest.raises(ValueError):
        keyed_hashes(["alice@example.com"], key_id="k1", epoch="2026-11")
    ok = keyed_hashes(["a" * 64], key_id="k1", epoch="2026-11")
    assert ok["alg"] == "HMAC-SHA256"


def test_signed_webhook_delivers_visible_objects(hub: Hub) -> None:
    import http.server
    import json as _json

    from distillguard.exchange.server import free_port
    from distillguard.exchange.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

    from .stixgen import red_indicator

    got: list[tuple[bytes, dict[str, str]]] = []
    arrived = threading.Event()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((body, dict(self.headers)))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    receiver = http.server.HTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        w = make_world(hub)
        hook = admin.add_webhook(hub.store, w.bob.name, w.collection, f"http://127.0.0.1:{port}/in")
        red, green = red_indicator([]), indicator(30)
        with _client(hub, w.alice.name, w.alice.password) as alice:
            alice.post(f"/api/collections/{w.collection}/objects/", json=envelope([red, green]))
        assert arrived.wait(20)
        body, headers = got[0]
        assert verify_signature(hook.secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify_signature("wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        ids = [o["id"] for o in _json.loads(body)["objects"]]
        assert green["id"] in ids and red["id"] not in ids
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_publishing_wakes_the_webhook_thread_only_for_hooked_collections(hub: Hub) -> None:
    from distillguard.exchange.webhooks import WebhookDispatcher

    d = WebhookDispatcher(hub.store, tick_s=60)
    try:
        d.notify("any")  # before the first pass: unknown, so wake
        assert d._wake.is_set()
        d._wake.clear()
        d._hooked = frozenset({"hooked"})
        d.notify("quiet")
        assert not d._wake.is_set()
        d.notify("hooked")
        assert d._wake.is_set()
    finally:
        d._client.close()
