"""The OASIS taxii2-client against a running hub, on both storage backends."""

from __future__ import annotations

import time

import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from distillguard.stix import validate_stix

from .conftest import Hub, World
from .stixgen import envelope, indicator, new_version


def _collection(hub: Hub, world: World, who: str = "alice") -> Collection:
    lab = getattr(world, who)
    return Collection(hub.collection_url(world.collection), user=lab.name, password=lab.password)


def test_discovery_lists_the_api_root_and_its_limits(hub: Hub, world: World) -> None:
    server = Server(f"{hub.url}/taxii2/", user=world.alice.name, password=world.alice.password)
    assert server.title
    assert [r.url for r in server.api_roots] == [hub.api]
    root = server.api_roots[0]
    assert root.max_content_length == 256 * 1024
    assert "application/taxii+json;version=2.1" in root.versions


def test_collections_show_callers_rights_and_hide_others(hub: Hub, world: World) -> None:
    root = ApiRoot(hub.api, user=world.bob.name, password=world.bob.password)
    mine = {c.id: c for c in root.collections}
    assert world.collection in mine
    assert mine[world.collection].can_read and not mine[world.collection].can_write
    dave_root = ApiRoot(hub.api, user=world.dave.name, password=world.dave.password)
    assert world.collection not in {c.id for c in dave_root.collections}


def test_publish_returns_status_and_everything_served_validates(hub: Hub, world: World) -> None:
    col = _collection(hub, world)
    objs = [indicator(i) for i in range(5)]
    status = col.add_objects(envelope(objs))
    assert status.status == "complete"
    assert status.success_count == 5 and status.failure_count == 0
    root = ApiRoot(hub.api, user=world.alice.name, password=world.alice.password)
    again = root.get_status(status.id)
    assert again.success_count == 5
    served = col.get_objects()["objects"]
    ids = {o["id"] for o in served}
    assert {o["id"] for o in objs} <= ids
    for obj in served:
        report = validate_stix(obj, deep=True)
        assert report.valid, report.errors


def test_paginated_read_with_added_after(hub: Hub, world: World) -> None:
    col = _collection(hub, world)
    first = col.add_objects(envelope([indicator(100 + i) for i in range(3)]))
    assert first.success_count == 3
    page = col.get_manifest()
    cutoff = max(o["date_added"] for o in page["objects"])
    batch = [indicator(200 + i) for i in range(23)]
    assert col.add_objects(envelope(batch)).success_count == 23
    seen: list[str] = []
    pages = 0
    for env in as_pages(col.get_objects, per_request=5, added_after=cutoff):
        pages += 1
        seen.extend(o["id"] for o in env.get("objects", []))
    assert seen == [o["id"] for o in batch]
    assert pages == 5


def test_manifest_versions_and_object_by_id(hub: Hub, world: World) -> None:
    col = _collection(hub, world)
    v1 = indicator(300)
    v2 = new_version(v1, name="renamed block")
    assert col.add_objects(envelope([v1])).success_count == 1
    assert col.add_objects(envelope([v2])).success_count == 1
    versions = col.object_versions(v1["id"])["versions"]
    assert versions == [v1["modified"], v2["modified"]]
    latest = col.get_object(v1["id"])["objects"]
    assert [o["name"] for o in latest] == ["renamed block"]
    both = col.get_object(v1["id"], version="all")["objects"]
    assert len(both) == 2
    manifest = col.get_manifest(id=v1["id"])["objects"]
    assert len(manifest) == 1 and manifest[0]["version"] == versions[-1]
    assert manifest[0]["media_type"] == "application/stix+json;version=2.1"


def test_delete_removes_an_object(hub: Hub, world: World) -> None:
    col = _collection(hub, world)
    obj = indicator(400)
    col.add_objects(envelope([obj]))
    col.delete_object(obj["id"])
    with pytest.raises(requests.HTTPError) as err:
        col.get_object(obj["id"])
    assert err.value.response.status_code == 404


def test_mixed_envelope_stores_good_objects_and_reports_bad_ones(hub: Hub, world: World) -> None:
    col = _collection(hub, world)
    good = indicator(500)
    bad = {**indicator(501), "pattern": "[this is not a pattern"}
    status = col.add_objects(envelope([good, bad]))
    assert status.success_count == 1 and status.failure_count == 1
    failure = status.failures[0]
    assert failure["id"] == bad["id"]
    assert "Pattern" in failure["message"] or "pattern" in failure["message"]
    assert col.get_object(good["id"])["objects"][0]["id"] == good["id"]


def test_hub_publishes_its_extension_definition(hub: Hub, world: World) -> None:
    col = _collection(hub, world, "bob")
    found = col.get_objects(type="extension-definition")["objects"]
    assert len(found) == 1 and found[0]["extension_types"] == ["property-extension"]
    assert validate_stix(found[0], deep=True).valid


def test_publication_is_quick_to_poll(hub: Hub, world: World) -> None:
    col = _collection(hub, world)
    t0 = time.monotonic()
    col.add_objects(envelope([indicator(600)]))
    assert time.monotonic() - t0 < 30  # sanity only; timings live in bench/
