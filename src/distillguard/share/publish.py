"""Scan results -> STIX indicators, as the sharing policy allows.

For each campaign the scan found (``campaigns.json``) that clears the policy's confidence
and size bars, one indicator per signal type:

=======================  ==================================================================
payment-fingerprint      keyed hashes of the cards the campaign's accounts used
email-domain             keyed hashes of their sign-up e-mail domains
model-api-account        keyed hashes of the account ids (off by default: ids are lab-local)
network-infrastructure   /24 (IPv4) and /48 (IPv6) blocks: raw (STIX pattern) when every
                         address is in the policy's ``raw_infrastructure``, else keyed hashes
prompt-template          one indicator per template family: keyed hash of the family id and
                         a keyed MinHash sketch of its skeleton (never text)
cluster-summary          a ``grouping`` tying the campaign's indicators, with its size, time
                         span and targeted model
=======================  ==================================================================

Only entities the campaign *owns* leave: at least ``policy.min_share`` of the entity's
accounts (cards, domains) or events (IP blocks, templates) belong to the campaign. A
webmail domain or a shared cloud egress used by thousands of honest customers stays home,
which both protects those customers and keeps partners' false positives down.

Campaign ids and template family labels are lab-internal (and the labels are unkeyed
hashes of template text), so objects name a campaign by a keyed reference only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from distillguard.share._ip import allowed_frame, ip_block_expr
from distillguard.share.keys import KeyRing, keyed_hash_one, keyed_hashes_of
from distillguard.share.policy import Policy
from distillguard.share.sketch import keyed_minhash
from distillguard.stix.extension import (
    distillation_properties,
    keyed_hashes,
    new_id,
    stix_now,
    template_sketch,
)

#: Hash domains (one per identifier kind; see keys.keyed_hash_one).
DOMAINS: Mapping[str, str] = {
    "payment-fingerprint": "payment-fingerprint",
    "email-domain": "email-domain",
    "model-api-account": "account-id",
    "network-infrastructure": "ip-block",
    "prompt-template": "template-id",
}
MAX_TEMPLATES_PER_CAMPAIGN = 40
ENVELOPE_OBJECTS = 200
MIN_TEMPLATE_EVENTS = 5


@dataclass(frozen=True)
class Outbound:
    """One object that would leave, with a human-readable line for ``--dry-run``."""

    obj: dict[str, Any]
    collection: str
    campaign_ref: str
    signal_type: str
    form: str  # "keyed-hash", "raw", "sketch", "summary"
    n_values: int
    raw_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Publication:
    outbound: tuple[Outbound, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (campaign_id, why) -- stays in the lab

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [o.obj for o in self.outbound]

    def by_collection(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for o in self.outbound:
            out.setdefault(o.collection, []).append(o.obj)
        return out

    def bundle(self) -> dict[str, Any]:
        return {"type": "bundle", "id": new_id("bundle"), "objects": self.objects}


@dataclass(frozen=True)
class Context:
    policy: Policy
    keyring: KeyRing
    identity: str | None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def _ts(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    when: datetime = value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def campaign_ref(campaign_id: str, ring: KeyRing) -> str:
    """Keyed, stable reference of a campaign (same id -> same ref within an epoch)."""
    return "dg-" + keyed_hash_one(ring.key(), campaign_id, "campaign-ref")[:16]


def _indicator(ctx: Context, camp: Mapping[str, Any], ref: str, signal: str, *,
               pattern: str, pattern_type: str, ext: dict[str, Any], what: str) -> dict[str, Any]:
    now = stix_now()
    conf = int(round(100 * float(camp.get("score", 0.0))))
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": new_id("indicator"),
        "created": now,
        "modified": now,
        "name": f"{signal} of distillation campaign {ref}",
        "description": f"{what}; campaign {ref}, {len(camp['accounts'])} accounts",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": pattern_type,
        "valid_from": _ts(camp["first_seen"]),
        "valid_until": _ts(ctx.now + timedelta(days=ctx.policy.valid_days)),
        "confidence": max(0, min(100, conf)),
        "labels": ["distillation", ref],
        "object_marking_refs": [ctx.policy.marking_ref],
        "extensions": ext,
    }
    if ctx.identity:
        obj["created_by_ref"] = ctx.identity
    return obj


def _hashed(ctx: Context, camp: Mapping[str, Any], ref: str, signal: str,
            values: pl.Series) -> Outbound | None:
    vals = values.drop_nulls().unique().sort()
    if vals.len() == 0:
        return None
    ring = ctx.keyring
    hashes: list[str] = (keyed_hashes_of(vals, ring.key(), DOMAINS[signal]).get_column("hash")
                         .sort().head(ctx.policy.max_values_per_indicator).to_list())
    ext = distillation_properties(
        signal, hashes=keyed_hashes(hashes, key_id=ring.key_id, epoch=ring.active),
        cluster_size=len(camp["accounts"]),
    )
    pattern = f"keyed-hash {signal} key_id={ring.key_id} epoch={ring.active} n={len(hashes)}"
    obj = _indicator(ctx, camp, ref, signal, pattern=pattern, pattern_type="distillguard-keyed",
                     ext=ext, what=f"{len(hashes)} keyed {signal} hashes (HMAC-SHA256)")
    return Outbound(obj, ctx.policy.collection_for(signal), ref, signal, "keyed-hash", len(hashes))


def _owned(entity_rows: pl.DataFrame, key: str, members: pl.Series, min_share: float,
           weight: str | None = None) -> pl.Series:
    """Entities whose campaign share (by accounts, or by ``weight`` rows) >= min_share."""
    df = entity_rows.filter(pl.col(key).is_not_null()).with_columns(
        pl.col("account_id").is_in(members.implode()).alias("_in")
    )
    if weight is None:
        df = df.unique(["account_id", key])
    agg = df.group_by(key).agg(pl.col("_in").mean().alias("share"), pl.col("_in").any().alias("any"))
    return agg.filter(pl.col("any") & (pl.col("share") >= min_share)).get_column(key)


def _ip_outbound(ctx: Context, camp: Mapping[str, Any], ref: str, events: pl.DataFrame,
                 members: pl.Series, allowed: pl.DataFrame) -> list[Outbound]:
    ev = events  # account_id, client_ip, block (precomputed once per publication)
    blocks = _owned(ev, "block", members, ctx.policy.min_share, weight="events")
    if blocks.len() == 0:
        return []
    # A block may leave raw only if every address seen in it is allowed infrastructure.
    per_block = (
        ev.filter(pl.col("block").is_in(blocks.implode())).select("block", "client_ip").unique()
        .join(allowed, on="client_ip", how="left")
        .group_by("block").agg(pl.col("allowed").fill_null(False).all())
    )
    raw = per_block.filter("allowed").get_column("block").sort()
    hashed = per_block.filter(~pl.col("allowed")).get_column("block")
    out: list[Outbound] = []
    if raw.len():
        raw_list = raw.head(ctx.policy.max_values_per_indicator).to_list()
        terms = [
            f"{'ipv6' if ':' in b else 'ipv4'}-addr:value ISSUBSET '{b}'" for b in raw_list
        ]
        ext = distillation_properties("network-infrastructure", cluster_size=len(camp["accounts"]))
        obj = _indicator(ctx, camp, ref, "network-infrastructure",
                         pattern="[" + " OR ".join(terms) + "]", pattern_type="stix", ext=ext,
                         what=f"{len(raw_list)} proxy/datacenter blocks")
        out.append(Outbound(obj, ctx.policy.collection_for("network-infrastructure"), ref,
                            "network-infrastructure", "raw", len(raw_list), tuple(raw_list)))
    h = _hashed(ctx, camp, ref, "network-infrastructure", hashed)
    if h is not None:
        out.append(h)
    return out


def _template_outbound(ctx: Context, camp: Mapping[str, Any], ref: str, events: pl.DataFrame,
                       members: pl.Series, skeletons: pl.DataFrame | None) -> list[Outbound]:
    ev = events.select("account_id", "template_id").filter(pl.col("template_id").is_not_null())
    in_c = pl.col("account_id").is_in(members.implode())
    fams = (
        ev.group_by("template_id")
        .agg(in_c.sum().alias("n_in"), pl.len().alias("n"))
        .filter((pl.col("n_in") >= MIN_TEMPLATE_EVENTS)
                & (pl.col("n_in") / pl.col("n") >= ctx.policy.min_share))
        .sort("n_in", "template_id", descending=[True, False])
        .head(MAX_TEMPLATES_PER_CAMPAIGN)
    )
    if fams.height == 0:
        return []
    ring = ctx.keyring
    key = ring.key()
    texts: dict[int, str] = {}
    if skeletons is not None and skeletons.height:
        texts = dict(zip(skeletons.get_column("template_id").to_list(),
                         skeletons.get_column("skeleton").to_list(), strict=True))
    ids = fams.get_column("template_id").to_list()
    sigs = keyed_minhash([texts.get(t, "") for t in ids], key)
    out = []
    for i, tid in enumerate(ids):
        h = keyed_hash_one(key, str(int(tid)), DOMAINS["prompt-template"])
        sketch = (template_sketch(sigs[i].tolist(), key_id=ring.key_id, epoch=ring.active)
                  if int(tid) in texts else None)
        ext = distillation_properties(
            "prompt-template", hashes=keyed_hashes([h], key_id=ring.key_id, epoch=ring.active),
            sketch=sketch, cluster_size=len(camp["accounts"]),
        )
        obj = _indicator(
            ctx, camp, ref, "prompt-template",
            pattern=f"keyed-sketch prompt-template key_id={ring.key_id} epoch={ring.active}",
            pattern_type="distillguard-keyed", ext=ext,
            what="prompt-template family: keyed id hash" + (" and keyed MinHash sketch"
                                                             if sketch else ""),
        )
        out.append(Outbound(obj, ctx.policy.collection_for("prompt-template"), ref,
                            "prompt-template", "sketch" if sketch else "keyed-hash", 1))
    return out


def _summary(ctx: Context, camp: Mapping[str, Any], ref: str, members: list[Outbound]
             ) -> Outbound:
    now = stix_now()
    obj: dict[str, Any] = {
        "type": "grouping",
        "spec_version": "2.1",
        "id": new_id("grouping"),
        "created": now,
        "modified": now,
        "name": f"distillation campaign {ref}",
        "description": (f"{len(camp['accounts'])} accounts, {int(camp.get('n_events', 0))} "
                        f"requests between {_ts(camp['first_seen'])} and {_ts(camp['last_seen'])}"),
        "context": "suspicious-activity",
        "object_refs": [m.obj["id"] for m in members],
        "confidence": max(0, min(100, int(round(100 * float(camp.get("score", 0.0)))))),
        "labels": ["distillation", ref],
        "object_marking_refs": [ctx.policy.marking_ref],
        "extensions": distillation_properties(
            "cluster-summary", cluster_size=len(camp["accounts"]),
            targeted_model=camp.get("top_model") or None,
        ),
    }
    if ctx.identity:
        obj["created_by_ref"] = ctx.identity
    return Outbound(obj, ctx.policy.collection_for("cluster-summary"), ref, "cluster-summary",
                    "summary", len(members))


def build_publication(
    campaigns: Sequence[Mapping[str, Any]],
    accounts: pl.DataFrame,
    events: pl.DataFrame,
    *,
    policy: Policy,
    keyring: KeyRing,
    identity: str | None = None,
    skeletons: pl.DataFrame | None = None,
) -> Publication:
    """Everything that would leave for ``campaigns``, decided by ``policy``.

    ``accounts``: canonical accounts table; ``events``: the stage-1 frame (at least
    ``account_id, client_ip, asn, template_id``); ``skeletons``: ``template_id, skeleton``
    (see :func:`distillguard.share.sketch.family_skeletons`) to add template sketches.
    """
    ctx = Context(policy, keyring, identity)
    out: list[Outbound] = []
    skipped: list[tuple[str, str]] = []
    ev_blocks = (events.select("account_id", "client_ip").drop_nulls("client_ip")
                 .with_columns(ip_block_expr("client_ip").alias("block"))
                 if "client_ip" in events.columns else None)
    allowed = (allowed_frame(events.select("client_ip", "asn").drop_nulls("client_ip"), policy)
               if policy.allows("network-infrastructure") and "client_ip" in events.columns
               else pl.DataFrame(schema={"client_ip": pl.String(), "allowed": pl.Boolean()}))
    for camp in campaigns:
        cid = str(camp["campaign_id"])
        conf = 100 * float(camp.get("score", 0.0))
        if conf < policy.min_confidence:
            skipped.append((cid, f"confidence {conf:.0f} < {policy.min_confidence}"))
            continue
        if len(camp["accounts"]) < policy.min_cluster_size:
            skipped.append((cid, f"{len(camp['accounts'])} accounts < {policy.min_cluster_size}"))
            continue
        ref = campaign_ref(cid, keyring)
        members = pl.Series(list(camp["accounts"]), dtype=pl.String)
        mine: list[Outbound] = []
        acc_cols = {"payment-fingerprint": "payment_fingerprint", "email-domain": "email_domain"}
        for signal, col in acc_cols.items():
            if policy.allows(signal) and col in accounts.columns:
                owned = _owned(accounts.select("account_id", col), col, members, policy.min_share)
                o = _hashed(ctx, camp, ref, signal, owned)
                if o is not None:
                    mine.append(o)
        if policy.allows("model-api-account"):
            o = _hashed(ctx, camp, ref, "model-api-account", members)
            if o is not None:
                mine.append(o)
        if policy.allows("network-infrastructure") and ev_blocks is not None:
            mine += _ip_outbound(ctx, camp, ref, ev_blocks, members, allowed)
        if policy.allows("prompt-template") and "template_id" in events.columns:
            mine += _template_outbound(ctx, camp, ref, events, members, skeletons)
        if not mine:
            skipped.append((cid, "no entity owned by the campaign passes the policy"))
            continue
        out += mine
        if policy.allows("cluster-summary"):
            out.append(_summary(ctx, camp, ref, mine))
    return Publication(tuple(out), tuple(skipped))


def render_dry_run(pub: Publication) -> str:
    """Readable view of exactly what would leave (and what stays home, and why)."""
    lines = [f"{len(pub.outbound)} objects would leave the lab:"]
    lines.append(f"  {'campaign ref':<20} {'signal type':<24} {'form':<11} {'values':>6}  "
                 f"{'TLP/conf':<12} collection")
    from distillguard.stix.markings import tlp_level

    for o in pub.outbound:
        tlp = tlp_level(o.obj.get("object_marking_refs"))
        lines.append(f"  {o.campaign_ref:<20} {o.signal_type:<24} {o.form:<11} {o.n_values:>6}  "
                     f"{tlp + '/' + str(o.obj.get('confidence', '')):<12} {o.collection or '-'}")
        for v in o.raw_values:
            lines.append(f"      raw: {v}")
    for cid, why in pub.skipped:
        lines.append(f"  stays home: campaign {cid}: {why}")
    return "\n".join(lines)


def send_publication(pub: Publication, link: Any, guard: Any) -> list[dict[str, Any]]:
    """Post each collection's objects to the hub. Every request body is checked by
    ``guard`` (a :class:`~distillguard.share.leakguard.LeakGuard`) as the exact bytes
    about to leave; a refused body raises :class:`LeakError` and nothing is sent."""
    import orjson

    from distillguard.share.client import post_objects

    statuses = []
    bodies: list[tuple[str, bytes]] = []
    for col, objs in pub.by_collection().items():
        if not col:
            from distillguard.share.errors import ShareError

            raise ShareError("no collection for some objects: set `collection` in the policy")
        for i in range(0, len(objs), ENVELOPE_OBJECTS):  # stay under the hub's body limit
            bodies.append((col, orjson.dumps({"objects": objs[i:i + ENVELOPE_OBJECTS]})))
    for _, body in bodies:  # check everything before sending anything
        guard.enforce(body)
    with link.client(on_send=guard.enforce) as client:
        for col, body in bodies:
            statuses.append(post_objects(client, link, col, body))
    return statuses
