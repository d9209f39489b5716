"""Hostile input: every attack gets a 4xx with a TAXII error body, the hub stays up and
nothing stored before is lost."""

from __future__ import annotations

import uuid

import httpx
import pytest

from .conftest import Hub, World
from .stixgen import envelope, indicator

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(scope="module")
def alice(hub: Hub, world: World):
    with httpx.Client(
        base_url=hub.url,
        auth=(world.alice.name, world.alice.password),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        timeout=30,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def baseline(alice: httpx.Client, world: World) -> list[str]:
    objs = [indicator(900 + i) for i in range(3)]
    assert alice.post(f"/api/collections/{world.collection}/objects/", json=envelope(objs)).status_code == 202
    return [o["id"] for o in objs]


def _post_raw(alice: httpx.Client, world: World, body: bytes) -> httpx.Response:
    return alice.post(f"/api/collections/{world.collection}/objects/", content=body)


def _assert_4xx_taxii(resp: httpx.Response, *codes: int) -> None:
    assert resp.status_code in codes, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/taxii+json")
    body = resp.json()
    assert body["http_status"] == str(resp.status_code) and body["title"]


def _deep(depth: int) -> bytes:
    return b'{"objects": [' + b"[" * depth + b"]" * depth + b"]}"


def _nested(depth: int) -> dict:
    node: dict = {}
    for _ in range(depth):
        node = {"a": node}
    return node


def _with_id(stix_id: str) -> dict:
    return {**indicator(950), "id": stix_id}


HOSTILE_BODIES = {
    "not-json": b"{this is not json",
    "deep-10k": _deep(10_000),
    "not-an-envelope": b"[1, 2, 3]",
    "empty-envelope": b'{"objects": []}',
    "lone-surrogate": b'{"objects": [{"type": "indicator", "name": "\\ud800"}]}',
    "invalid-utf8": b'{"objects": [{"type": "indicator", "name": "\xc0\xaf"}]}',
    "objects-not-dicts": b'{"objects": [1, "two", null]}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_malformed_bodies_are_rejected(alice, world, baseline, name: str) -> None:
    _assert_4xx_taxii(_post_raw(alice, world, HOSTILE_BODIES[name]), 400, 422)


HOSTILE_OBJECTS = {
    "malformed-id": lambda: _with_id("indicator--not-a-uuid"),
    "id-type-mismatch": lambda: _with_id(f"malware--{uuid.uuid4()}"),
    "homoglyph-type": lambda: _with_id(f"ind\u0456cator--{uuid.uuid4()}"),  # Cyrillic i
    "rtl-override-id": lambda: _with_id(f"indicator--{uuid.uuid4()}\u202e"),
    "fullwidth-digits": lambda: _with_id("indicator--" + "\uff11" * 8 + "-1111-4111-8111-111111111111"),
    "nul-in-name": lambda: {**indicator(951), "name": "bad\u0000name"},
    "bad-pattern": lambda: {**indicator(952), "pattern": "[ipv4-addr:value = "},
    "missing-pattern": lambda: {k: v for k, v in indicator(953).items() if k != "pattern"},
    "bad-timestamp": lambda: {**indicator(954), "modified": "yesterday"},
    "confidence-out-of-range": lambda: {**indicator(955), "confidence": 1000},
    "no-type": lambda: {"id": f"indicator--{uuid.uuid4()}"},
    "trailing-newline-id": lambda: _with_id(f"indicator--{uuid.uuid4()}\n"),
    "nested-300-deep": lambda: {**indicator(957), "x_deep": _nested(300)},
    "huge-id": lambda: {**indicator(956), "id": "indicator--" + "a" * 5000},
    # STIX forbids null property values; a null spec_version once reached PostgreSQL's
    # NOT NULL column as a 500 (found by test_fuzz)
    "null-spec-version": lambda: {**indicator(958), "spec_version": None},
    "null-created": lambda: {**indicator(959), "created": None},
    "null-optional": lambda: {**indicator(960), "confidence": None},
}


@pytest.mark.parametrize("name", sorted(HOSTILE_OBJECTS))
def test_invalid_stix_is_rejected_with_reasons(alice, world, baseline, name: str) -> None:
    resp = alice.post(
        f"/api/collections/{world.collection}/objects/", json=envelope([HOSTILE_OBJECTS[name]()])
    )
    _assert_4xx_taxii(resp, 422)
    failures = resp.json()["details"]["failures"]
    assert len(failures) == 1 and failures[0]["message"]


def test_oversized_body_is_413(alice, world, baseline) -> None:
    big = envelope([indicator(960, description="x" * (300 * 1024))])
    _assert_4xx_taxii(alice.post(f"/api/collections/{world.collection}/objects/", json=big), 413)

    def chunks():  # no Content-Length: the limit is enforced while streaming
        yield b'{"objects": ['
        for _ in range(400):
            yield b'"' + b"y" * 1024 + b'",'
        yield b"1]}"

    _assert_4xx_taxii(_post_raw(alice, world, chunks()), 413)  # type: ignore[arg-type]


def test_conflicting_duplicate_version_is_refused_and_original_kept(alice, world, baseline) -> None:
    original = indicator(970)
    url = f"/api/collections/{world.collection}/objects/"
    assert alice.post(url, json=envelope([original])).status_code == 202
    forged = {**original, "pattern": "[ipv4-addr:value = '8.8.8.8']"}
    resp = alice.post(url, json=envelope([forged]))
    _assert_4xx_taxii(resp, 422)
    assert "different content" in resp.json()["details"]["failures"][0]["message"]
    assert alice.post(url, json=envelope([original])).status_code == 202  # idempotent re-post
    served = alice.get(f"{url}{original['id']}/", params={"match[version]": "all"}).json()
    assert [o["pattern"] for o in served["objects"]] == [original["pattern"]]


def test_same_envelope_conflict_keeps_the_first(alice, world, baseline) -> None:
    a = indicator(971)
    b = {**a, "name": "conflicting twin"}
    resp = alice.post(f"/api/collections/{world.collection}/objects/", json=envelope([a, b]))
    assert resp.status_code == 202
    assert resp.json()["success_count"] == 1 and resp.json()["failure_count"] == 1


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": "abc"}, "objects/"),
        ({"limit": "-3"}, "objects/"),
        ({"added_after": "last tuesday"}, "objects/"),
        ({"next": "'; DROP TABLE objects; --"}, "objects/"),
        ({"next": "99999999999999999999999"}, "objects/"),
        ({"match[id]": ",".join(f"indicator--{uuid.uuid4()}" for _ in range(1001))}, "objects/"),
        ({"match[version]": "sometime"}, "objects/"),
        ({"match[id]": "indicator--nope"}, "manifest/"),
        ({"match[type]": "Indicator<script>"}, "objects/"),
        ({"match[spec_version]": "9.9"}, "objects/"),
        ({}, "objects/indicator--%E2%80%AEbad/"),
    ],
)
def test_bad_query_parameters_are_400(alice, world, baseline, params, path) -> None:
    _assert_4xx_taxii(alice.get(f"/api/collections/{world.collection}/{path}", params=params), 400)


def test_media_types_are_negotiated(alice, world, baseline) -> None:
    url = f"/api/collections/{world.collection}/objects/"
    _assert_4xx_taxii(alice.get(url, headers={"Accept": "text/html"}), 406)
    ok = alice.get(url, headers={"Accept": "application/stix+json;version=2.1"})
    assert ok.status_code == 200
    resp = alice.post(url, json=envelope([indicator(980)]), headers={"Content-Type": "text/plain"})
    _assert_4xx_taxii(resp, 415)


def test_unknown_paths_and_methods_get_taxii_errors(alice, world, baseline) -> None:
    _assert_4xx_taxii(alice.get("/nope/"), 404)
    _assert_4xx_taxii(alice.get("/other-root/collections/"), 404)
    _assert_4xx_taxii(alice.put(f"/api/collections/{world.collection}/objects/"), 405)


def test_hub_survives_and_keeps_everything(alice, world, baseline, hub: Hub) -> None:
    # runs last in this module: everything above must not have cost anything stored
    for _ in range(3):
        _post_raw(alice, world, _deep(10_000))
    assert alice.get("/taxii2/").status_code == 200
    got = alice.get(
        f"/api/collections/{world.collection}/objects/",
        params={"match[id]": ",".join(baseline)},
    ).json()
    assert sorted(o["id"] for o in got["objects"]) == sorted(baseline)


@pytest.mark.parametrize(
    "path",
    ["/api/collections/%00/objects/", "/api/status/%00/", "/api/collections/a%00b/",
     "/api/collections/" + "x" * 300 + "/objects/"],
)
def test_nul_and_oversized_path_keys_are_404(alice, world, baseline, path) -> None:
    _assert_4xx_taxii(alice.get(path), 404)


@pytest.mark.parametrize(
    "auth",
    [("a\x00b", "pw"), ("x" * 500, "pw"), (":", "pw")],
)
def test_hostile_usernames_are_401(hub: Hub, auth) -> None:
    resp = httpx.get(f"{hub.url}/taxii2/", auth=auth, headers={"Accept": TAXII})
    _assert_4xx_taxii(resp, 401)


@pytest.mark.parametrize("token", ["dgt_zz%00_x", "dgt_" + "a" * 100 + "_x", "dgt_", "nope"])
def test_hostile_bearer_tokens_are_401(hub: Hub, token: str) -> None:
    resp = httpx.get(
        f"{hub.url}/taxii2/", headers={"Accept": TAXII, "Authorization": f"Bearer {token}"}
    )
    _assert_4xx_taxii(resp, 401)
