"""Attribution: a member publishes only as itself, and can ask the hub who it is."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stix2

from distillguard.exchange import admin
from distillguard.stix import FORUM_IDENTITY_ID
from distillguard.stix.extension import sighting

from .conftest import Hub, World, make_world
from .stixgen import envelope, indicator, random_id

TAXII = "application/taxii+json;version=2.1"


def _client(hub: Hub, name: str | None = None, password: str | None = None) -> httpx.Client:
    auth = (name, password) if name is not None and password is not None else None
    return httpx.Client(base_url=hub.url, auth=auth, headers={"Accept": TAXII}, timeout=30)


def _post(c: httpx.Client, cid: str, objs: list[dict[str, Any]]) -> httpx.Response:
    return c.post(f"/api/collections/{cid}/objects/", json=envelope(objs),
                  headers={"Content-Type": TAXII})


def _status(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    return body["details"] if resp.status_code == 422 else body


def _identity(identity_id: str, name: str) -> dict[str, Any]:
    obj = stix2.v21.Identity(id=identity_id, name=name, identity_class="organization")
    return dict(json.loads(obj.serialize()))


def _visible(hub: Hub, w: World, oid: str) -> bool:
    with _client(hub, w.bob.name, w.bob.password) as bob:
        resp = bob.get(f"/api/collections/{w.collection}/objects/{oid}/")
    return resp.status_code == 200


@pytest.fixture(scope="module")
def w(hub: Hub) -> World:
    return make_world(hub)


def test_impersonation_is_rejected_and_tells_nothing_about_the_other_member(
    hub: Hub, w: World
) -> None:
    as_bob = indicator(600, created_by_ref=w.bob.identity)
    as_stranger = indicator(601, created_by_ref=random_id("identity"))
    with _client(hub, w.alice.name, w.alice.password) as alice:
        r_bob = _post(alice, w.collection, [as_bob])
        r_stranger = _post(alice, w.collection, [as_stranger])
    assert r_bob.status_code == r_stranger.status_code == 422
    f_bob, f_stranger = _status(r_bob)["failures"], _status(r_stranger)["failures"]
    assert [f["id"] for f in f_bob] == [as_bob["id"]]
    assert "created_by_ref" in f_bob[0]["message"] and w.alice.identity in f_bob[0]["message"]
    # A real member's identity and a made-up one are refused in the same words.
    assert f_bob[0]["message"] == f_stranger[0]["message"]
    assert w.bob.identity not in r_bob.text and w.bob.name not in r_bob.text
    assert not _visible(hub, w, as_bob["id"])


def test_own_attribution_and_own_identity_object_are_accepted(hub: Hub, w: World) -> None:
    mine = indicator(602, created_by_ref=w.alice.identity)
    me = _identity(w.alice.identity, "Alice Lab")
    with _client(hub, w.alice.name, w.alice.password) as alice:
        resp = _post(alice, w.collection, [mine, me])
    assert resp.status_code == 202, resp.text
    assert _status(resp)["success_count"] == 2
    assert _visible(hub, w, mine["id"]) and _visible(hub, w, me["id"])


def test_mixed_envelope_stores_only_the_honest_objects(hub: Hub, w: World) -> None:
    mine = indicator(603, created_by_ref=w.alice.identity)
    unsigned = indicator(604)  # no created_by_ref: accepted, publisher recorded by the hub
    forged = indicator(605, created_by_ref=w.carol.identity)
    bobs_identity = _identity(w.bob.identity, "not really Bob")
    forum = _identity(FORUM_IDENTITY_ID, "not really the forum")
    with _client(hub, w.alice.name, w.alice.password) as alice:
        resp = _post(alice, w.collection, [mine, unsigned, forged, bobs_identity, forum])
        assert resp.status_code == 202
        status = alice.get(f"/api/status/{resp.json()['id']}/").json()
    assert status["total_count"] == 5 and status["success_count"] == 2
    assert {s["id"] for s in status["successes"]} == {mine["id"], unsigned["id"]}
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert set(failed) == {forged["id"], w.bob.identity, FORUM_IDENTITY_ID}
    assert "own identity object" in failed[w.bob.identity]
    assert _visible(hub, w, mine["id"]) and _visible(hub, w, unsigned["id"])
    assert not _visible(hub, w, forged["id"])
    # The hub's own forum identity and extension-definition are still served untouched.
    with _client(hub, w.bob.name, w.bob.password) as bob:
        served = bob.get(
            f"/api/collections/{w.collection}/objects/",
            params={"match[type]": "identity,extension-definition"},
        ).json()["objects"]
    names = {o["id"]: o.get("name") for o in served}
    assert names[FORUM_IDENTITY_ID] != "not really the forum"
    assert w.bob.identity not in names
    assert any(o["type"] == "extension-definition" for o in served)


def test_sightings_name_only_the_poster_and_anonymous_ones_stay_anonymous(
    hub: Hub, w: World
) -> None:
    ind = indicator(606)
    with _client(hub, w.alice.name, w.alice.password) as alice:
        assert _post(alice, w.collection, [ind]).status_code == 202
    own = {**sighting(ind["id"], reporter_identity=w.carol.identity, count=2),
           "where_sighted_refs": [w.carol.identity]}
    # The summary names a member anonymous if any of its reports asked, so Alice reports
    # anonymously and Carol openly.
    anon = sighting(ind["id"], reporter_identity=w.alice.identity, count=3, anonymous=True)
    as_alice = sighting(ind["id"], reporter_identity=w.alice.identity)
    where_alice = {**sighting(ind["id"], reporter_identity=w.carol.identity),
                   "where_sighted_refs": [w.alice.identity]}
    anon_named = {**anon, "id": random_id("sighting"), "created_by_ref": w.carol.identity}
    with _client(hub, w.alice.name, w.alice.password) as alice:
        assert _post(alice, w.collection, [anon]).status_code == 202
    assert "created_by_ref" not in anon
    with _client(hub, w.carol.name, w.carol.password) as carol:
        resp = _post(carol, w.collection, [own, as_alice, where_alice, anon_named])
    assert resp.status_code == 202
    status = _status(resp)
    assert {s["id"] for s in status["successes"]} == {own["id"]}
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert "created_by_ref" in failed[as_alice["id"]]
    assert "where_sighted_refs" in failed[where_alice["id"]]
    assert "anonymous" in failed[anon_named["id"]]
    with _client(hub, w.bob.name, w.bob.password) as bob:
        summary = bob.get(f"/api/collections/{w.collection}/sightings/{ind['id']}/").json()
    assert summary["total_count"] == 5
    assert {r["member"] for r in summary["reporters"]} == {w.carol.name, "anonymous"}


def test_whoami_tells_a_member_its_identity_and_rights(hub: Hub, w: World) -> None:
    token = admin.issue_member_token(hub.store, w.carol.name).secret
    with _client(hub, w.alice.name, w.alice.password) as alice:
        resp = alice.get("/api/members/me/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/taxii+json")
    me = resp.json()
    assert (me["name"], me["identity_id"], me["org"]) == (w.alice.name, w.alice.identity, "alice-lab")
    mine = {c["id"]: c for c in me["collections"]}
    assert (mine[w.collection]["can_read"], mine[w.collection]["can_write"]) == (True, True)
    bearer = httpx.get(f"{hub.url}/api/members/me/", timeout=30,
                       headers={"Accept": TAXII, "Authorization": f"Bearer {token}"}).json()
    assert bearer["identity_id"] == w.carol.identity
    carol = {c["id"]: c for c in bearer["collections"]}
    assert (carol[w.collection]["can_read"], carol[w.collection]["can_write"]) == (False, True)
    with _client(hub, w.dave.name, w.dave.password) as dave:
        assert w.collection not in {c["id"] for c in dave.get("/api/members/me/").json()["collections"]}


@pytest.mark.parametrize("creds", ["none", "wrong"])
def test_whoami_requires_credentials_and_leaks_nothing(hub: Hub, w: World, creds: str) -> None:
    password = "not-the-password" if creds == "wrong" else None
    with _client(hub, w.alice.name if password else None, password) as c:
        resp = c.get("/api/members/me/")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/taxii+json")
    assert resp.headers["www-authenticate"].startswith("Basic")
    assert resp.json()["http_status"] == "401"
    for secret in (w.alice.identity, w.collection, "alice-lab"):
        assert secret not in resp.text
