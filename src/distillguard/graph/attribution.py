"""Attribution hooks: link a cluster to a named actor from known indicators, with evidence.

A provider keeps a local watch-list of indicators tied to actors it (or a peer) has seen
before: proxy /24s, card-sequence prefixes, e-mail domains, user agents, TLS fingerprints,
template families. When a new cluster touches them, the campaign is attributed to that
actor and the link carries the exact indicators and how many accounts matched them.
Peers' indicators (the sharing feature) enter through the same ``Indicator`` objects.

Watch-list format (YAML or JSON)::

    actors:
      - name: "Operation Lantern"
        source: "internal case 2026-014"        # optional
        min_matches: 1                          # indicators that must match (default 1)
        indicators:
          - {kind: ip_block, value: "203.0.113.0/24"}
          - {kind: ip, value: "198.51.100.0/22"}  # kind ip accepts a CIDR
          - {kind: payment_prefix, value: "pm_4417"}
          - {kind: email_domain, value: "mailbox-x.example"}
          - {kind: asn, value: 64500}

``kind`` is any incidence kind (see ``distillguard.aggregate.incidence``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import yaml

from distillguard.errors import ConfigError

if TYPE_CHECKING:
    from distillguard.graph.link import Cluster

KNOWN_KINDS = frozenset(
    {
        "ip",
        "ip_block",
        "asn",
        "user_agent",
        "tls",
        "system_prompt",
        "template",
        "payment",
        "payment_prefix",
        "email_domain",
        "org",
    }
)


@dataclass(frozen=True)
class Indicator:
    kind: str
    value: str
    actor: str
    source: str = ""


@dataclass(frozen=True)
class Actor:
    name: str
    indicators: tuple[Indicator, ...]
    min_matches: int = 1
    source: str = ""


@dataclass(frozen=True)
class Attribution:
    """A cluster -> actor link: the matched indicators and accounts per indicator."""

    actor: str
    matches: tuple[tuple[str, str, int], ...]  # (kind, value, n_accounts)
    source: str = ""

    def describe(self) -> str:
        m = "; ".join(f"{k} {v} ({n} accts)" for k, v, n in self.matches)
        src = f" [{self.source}]" if self.source else ""
        return f"{self.actor}{src}: {m}"


def load_watchlist(path: Path | str) -> tuple[Actor, ...]:
    """Parse a YAML/JSON watch-list; a broken file stops the run (ConfigError)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        raw = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"watch-list {p}: cannot read: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("actors"), list):
        raise ConfigError(f"watch-list {p}: expected a mapping with an 'actors' list")
    actors: list[Actor] = []
    for i, a in enumerate(raw["actors"]):
        if not isinstance(a, dict) or not a.get("name"):
            raise ConfigError(f"watch-list {p}: actor #{i} needs a 'name'")
        inds = []
        for j, ind in enumerate(a.get("indicators") or []):
            if not isinstance(ind, dict) or "kind" not in ind or "value" not in ind:
                raise ConfigError(
                    f"watch-list {p}: actor {a['name']!r} indicator #{j}: need kind and value"
                )
            kind = str(ind["kind"])
            if kind not in KNOWN_KINDS:
                raise ConfigError(
                    f"watch-list {p}: actor {a['name']!r} indicator #{j}: unknown kind {kind!r}"
                )
            inds.append(
                Indicator(kind, str(ind["value"]), str(a["name"]), str(a.get("source", "")))
            )
        actors.append(
            Actor(
                str(a["name"]), tuple(inds), int(a.get("min_matches", 1)), str(a.get("source", ""))
            )
        )
    return tuple(actors)


def _matches(members: pl.DataFrame, ind: Indicator) -> int:
    """Number of member accounts whose incidence touches the indicator."""
    rows = members.filter(pl.col("kind") == ind.kind)
    if rows.height == 0:
        return 0
    if ind.kind == "ip" and "/" in ind.value:
        try:
            net = ipaddress.ip_network(ind.value, strict=False)
        except ValueError:
            return 0
        ips = rows.select("entity").unique().get_column("entity").to_list()
        hit = []
        for ip in ips:  # unique IPs of one cluster: small
            try:
                if ipaddress.ip_address(ip) in net:
                    hit.append(ip)
            except ValueError:
                continue
        return int(rows.filter(pl.col("entity").is_in(hit)).get_column("account_id").n_unique())
    value = ind.value.lower() if ind.kind == "email_domain" else ind.value
    return int(rows.filter(pl.col("entity") == value).get_column("account_id").n_unique())


def attribute(
    members_incidence: pl.DataFrame, actors: tuple[Actor, ...]
) -> tuple[Attribution, ...]:
    """Attributions for one cluster, given its members' incidence rows."""
    out = []
    for a in actors:
        m = tuple(
            (ind.kind, ind.value, n)
            for ind in a.indicators
            if (n := _matches(members_incidence, ind)) > 0
        )
        if len(m) >= max(1, a.min_matches):
            out.append(Attribution(a.name, tuple(sorted(m, key=lambda t: -t[2])), a.source))
    return tuple(sorted(out, key=lambda x: -len(x.matches)))


def attribute_clusters(
    clusters: list[Cluster], incidence: pl.DataFrame, actors: tuple[Actor, ...]
) -> list[Cluster]:
    """Return the clusters with ``attribution`` filled where the watch-list matches.

    Only clusters with at least one flagged member are checked: attribution names who ran
    a campaign, and an all-clean cluster is not one.
    """
    if not actors:
        return clusters
    out = []
    for c in clusters:
        if c.n_flagged == 0:
            out.append(c)
            continue
        rows = incidence.filter(pl.col("account_id").is_in(list(c.accounts)))
        att = attribute(rows, actors)
        out.append(dataclasses.replace(c, attribution=att) if att else c)
    return out
