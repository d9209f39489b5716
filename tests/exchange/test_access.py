"""Access control: credentials, rights, TLP 2.0 -- denied, with nothing leaked."""

from __future__ import annotations

import uuid

import httpx
import pytest

from distillguard.exchange import admin

from .conftest import Hub, World, make_world
from .stixgen import amber_strict_indicator, envelope, indicator, red_indicator

TAXII = "application/taxii+json;version=2.1"


def _client(hub: Hub, name: str | None = None, password: str | None = None) -> httpx.Client:
    auth = (name, password) if name is not None and password is not None else None
    return httpx.Client(base_url=hub.url, auth=auth, headers={"Accept": TAXII}, timeout=30)


def _post(client: httpx.Client, cid: str, objs: list[dict]) -> httpx.Response:
    return client.post(
        f"/api/collections/{cid}/objects/",
        json=envelope(objs),
        headers={"Content-Type": TAXII},
    )


def _ids(resp: httpx.Response) -> set[str]:
    return {o["id"] for o in resp.json().get("objects", [])}


@pytest.fixture(scope="module")
def published(hub: Hub, world: World) -> dict[str, dict]:
    """Alice publishes one object of each TLP level that matters."""
    objs = {
        "green": indicator(1),
        "red": red_indicator([]),
        "amber_strict": amber_strict_indicator(),
    }
    with _client(hub, world.alice.name, world.alice.password) as c:
        assert _post(c, world.collection, list(objs.values())).status_code == 202
    return objs


def _assert_no_leak(resp: httpx.Response, published: dict[str, dict]) -> None:
    text = resp.text
    for obj in published.values():
        assert obj["id"] not in text
        assert obj["pattern"] not in text
    assert resp.headers["content-type"].startswith("application/taxii+json")


def test_wrong_password_is_denied_without_content(hub: Hub, world: World, published) -> None:
    with _client(hub, world.alice.name, "not-the-password") as c:
        resp = c.get(f"/api/collections/{world.collection}/objects/")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Basic")
    _assert_no_leak(resp, published)
    with _client(hub) as anon:
        assert anon.get("/taxii2/").status_code == 401


def test_revoked_token_stops_working_at_once(hub: Hub, world: World, published) -> None:
    issued = admin.issue_member_token(hub.store, world.bob.name)
    headers = {"Authorization": f"Bearer {issued.secret}", "Accept": TAXII}
    url = f"{hub.url}/api/collections/{world.collection}/objects/"
    assert httpx.get(url, headers=headers).status_code == 200
    admin.revoke_credential(hub.store, issued.credential.id)
    resp = httpx.get(url, headers=headers)
    assert resp.status_code == 401
    _assert_no_leak(resp, published)


def test_rotated_password_replaces_the_old_one(hub: Hub) -> None:
    w = make_world(hub)
    new = admin.rotate_password(hub.store, w.bob.name)
    with _client(hub, w.bob.name, w.bob.password) as old:
        assert old.get("/taxii2/").status_code == 401
    with _client(hub, w.bob.name, new.secret) as c:
        assert c.get("/taxii2/").status_code == 200


def test_revoked_member_is_locked_out(hub: Hub) -> None:
    w = make_world(hub)
    admin.revoke_member(hub.store, w.alice.name)
    with _client(hub, w.alice.name, w.alice.password) as c:
        assert c.get("/taxii2/").status_code == 401


def test_no_read_right_is_forbidden_without_content(hub: Hub, world: World, published) -> None:
    with _client(hub, world.carol.name, world.carol.password) as c:
        for path in ("objects/", "manifest/", f"objects/{published['green']['id']}/"):
            resp = c.get(f"/api/collections/{world.collection}/{path}")
            assert resp.status_code == 403, path
            _assert_no_leak(resp, published)


def test_no_write_right_is_forbidden_and_stores_nothing(hub: Hub, world: World) -> None:
    obj = indicator(42)
    with _client(hub, world.bob.name, world.bob.password) as c:
        resp = _post(c, world.collection, [obj])
        assert resp.status_code == 403
        got = c.get(f"/api/collections/{world.collection}/objects/", params={"match[id]": obj["id"]})
        assert obj["id"] not in _ids(got)


def test_outsider_cannot_tell_forbidden_from_missing_collection(
    hub: Hub, world: World, published
) -> None:
    with _client(hub, world.dave.name, world.dave.password) as c:
        forbidden = c.get(f"/api/collections/{world.collection}/objects/")
        missing = c.get(f"/api/collections/{uuid.uuid4()}/objects/")
        forbidden_col = c.get(f"/api/collections/{world.collection}/")
    assert forbidden.status_code == missing.status_code == forbidden_col.status_code == 404
    assert forbidden.json() == missing.json()
    _assert_no_leak(forbidden, published)


def test_tlp_red_reaches_only_named_recipients(hub: Hub) -> None:
    w = make_world(hub)
    red = red_indicator([w.bob.identity])
    with _client(hub, w.alice.name, w.alice.password) as alice:
        assert _post(alice, w.collection, [red]).status_code == 202
        assert red["id"] in _ids(alice.get(f"/api/collections/{w.collection}/objects/"))
    with _client(hub, w.bob.name, w.bob.password) as bob:
        assert red["id"] in _ids(bob.get(f"/api/collections/{w.collection}/objects/"))
    outsider = admin.add_member(hub.store, f"erin-{uuid.uuid4().hex[:6]}")
    admin.grant(hub.store, w.collection, outsider.member.name, read=True, write=False, in_org=True)
    with _client(hub, outsider.member.name, outsider.password.secret) as erin:
        listing = erin.get(f"/api/collections/{w.collection}/objects/")
        assert listing.status_code == 200 and red["id"] not in listing.text
        manifest = erin.get(f"/api/collections/{w.collection}/manifest/")
        assert red["id"] not in manifest.text
        by_id = erin.get(f"/api/collections/{w.collection}/objects/{red['id']}/")
        unknown = erin.get(f"/api/collections/{w.collection}/objects/indicator--{uuid.uuid4()}/")
        assert by_id.status_code == unknown.status_code == 404
        assert by_id.json() == unknown.json()
        versions = erin.get(f"/api/collections/{w.collection}/objects/{red['id']}/versions/")
        assert versions.status_code == 404 and red["pattern"] not in versions.text


def test_tlp_amber_strict_only_for_the_org_list(hub: Hub, world: World, published) -> None:
    strict = published["amber_strict"]["id"]
    with _client(hub, world.bob.name, world.bob.password) as bob:  # reader, not on org list
        ids = _ids(bob.get(f"/api/collections/{world.collection}/objects/", params={"limit": 200}))
        assert published["green"]["id"] in ids and strict not in ids
    member = admin.add_member(hub.store, f"org-{uuid.uuid4().hex[:6]}")
    admin.grant(hub.store, world.collection, member.member.name, read=True, write=False, in_org=True)
    with _client(hub, member.member.name, member.password.secret) as org:
        ids = _ids(org.get(f"/api/collections/{world.collection}/objects/", params={"limit": 200}))
        assert strict in ids and published["red"]["id"] not in ids


def test_members_cannot_revise_or_delete_each_others_objects(hub: Hub) -> None:
    w = make_world(hub)
    admin.grant(hub.store, w.collection, w.bob.name, read=True, write=True)
    obj = indicator(77)
    with _client(hub, w.alice.name, w.alice.password) as alice:
        assert _post(alice, w.collection, [obj]).status_code == 202
    hijack = {**obj, "modified": "2030-01-01T00:00:00.000Z", "revoked": True}
    with _client(hub, w.bob.name, w.bob.password) as bob:
        resp = _post(bob, w.collection, [hijack])
        assert resp.status_code == 422
        assert "another member" in resp.json()["details"]["failures"][0]["message"]
        assert bob.delete(f"/api/collections/{w.collection}/objects/{obj['id']}/").status_code == 403
        served = bob.get(f"/api/collections/{w.collection}/objects/{obj['id']}/").json()
        assert served["objects"][0].get("revoked") is None


def test_status_is_private_to_its_poster(hub: Hub, world: World) -> None:
    with _client(hub, world.alice.name, world.alice.password) as alice:
        status_id = _post(alice, world.collection, [indicator(5)]).json()["id"]
        assert alice.get(f"/api/status/{status_id}/").status_code == 200
    with _client(hub, world.bob.name, world.bob.password) as bob:
        assert bob.get(f"/api/status/{status_id}/").status_code == 404


def test_audit_log_records_publication_and_is_append_only(hub: Hub, world: World) -> None:
    from sqlalchemy import text

    with _client(hub, world.alice.name, world.alice.password) as alice:
        _post(alice, world.collection, [indicator(6)])
        # read here too: the test must not rely on another test having read before it
        assert alice.get(f"/api/collections/{world.collection}/objects/").status_code == 200
    actions = {e["action"] for e in hub.store.audit_log(limit=500)}
    assert {"objects.publish", "objects.read", "collection.create", "member.add"} <= actions
    with pytest.raises(Exception, match="append-only"), hub.store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(Exception, match="append-only"), hub.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
