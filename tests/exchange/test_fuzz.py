"""Property test: whatever a member sends, the hub answers with a 2xx/4xx TAXII body,
never a 500."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Hub, World
from .stixgen import indicator

TAXII = "application/taxii+json;version=2.1"

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    ["type", "id", "spec_version", "created", "modified", "pattern", "pattern_type",
     "valid_from", "valid_until", "revoked", "confidence", "object_marking_refs",
     "extensions", "sighting_of_ref", "count", "labels", "name"]
)


@st.composite
def _mutated_indicator(draw: st.DrawFn) -> dict:
    obj = indicator(draw(st.integers(0, 10_000)))
    for key in draw(st.lists(_keys, max_size=4)):
        if draw(st.booleans()):
            obj.pop(key, None)
        else:
            obj[key] = draw(_json)
    return obj


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objs=st.lists(_mutated_indicator() | _json, min_size=1, max_size=4))
def test_random_envelopes_never_cause_a_server_error(hub: Hub, world: World, objs: list) -> None:
    resp = httpx.post(
        f"{hub.url}/api/collections/{world.collection}/objects/",
        json={"objects": objs},
        auth=(world.alice.name, world.alice.password),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        timeout=30,
    )
    assert resp.status_code in (202, 400, 422), resp.text[:300]
    assert resp.headers["content-type"].startswith("application/taxii+json")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "next", "added_after", "match[id]", "match[type]",
                         "match[version]", "match[spec_version]", "other"]),
        st.text(max_size=30),
        max_size=4,
    ),
    path=st.sampled_from(["objects/", "manifest/", "events/x/", "objects/indicator--x/versions/"]),
)
def test_random_queries_never_cause_a_server_error(hub: Hub, world: World, params, path) -> None:
    resp = httpx.get(
        f"{hub.url}/api/collections/{world.collection}/{path}",
        params=params,
        auth=(world.bob.name, world.bob.password),
        headers={"Accept": TAXII},
        timeout=30,
    )
    assert resp.status_code < 500, resp.text[:300]
