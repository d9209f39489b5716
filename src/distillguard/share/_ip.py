"""Vectorised IP helpers: IPv4 to integers, policy allow-lists, /24 and /48 blocks."""

from __future__ import annotations

import ipaddress

import numpy as np
import numpy.typing as npt
import polars as pl

from distillguard.aggregate.incidence import ip_block_expr
from distillguard.share.policy import Policy

__all__ = ["allowed_frame", "ip_block_expr", "ipv4_int_expr", "v4_ranges"]


def ipv4_int_expr(col: str | pl.Expr) -> pl.Expr:
    """IPv4 dotted quad (optionally ``/prefix``) as Int64; null when not IPv4."""
    e = pl.col(col) if isinstance(col, str) else col
    parts = (
        e.str.strip_chars().str.extract(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?:/\d+)?$", 1)
        .str.split(".")
    )
    octets = [parts.list.get(i, null_on_oob=True).cast(pl.Int64, strict=False) for i in range(4)]
    val = octets[0] * 16_777_216 + octets[1] * 65_536 + octets[2] * 256 + octets[3]
    ok = pl.all_horizontal([(o >= 0) & (o <= 255) for o in octets])
    return pl.when(ok).then(val).otherwise(None)


def v4_ranges(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
              ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    v4 = [n for n in networks if n.version == 4]
    lo = np.array([int(n.network_address) for n in v4], dtype=np.int64)
    hi = np.array([int(n.broadcast_address) for n in v4], dtype=np.int64)
    return lo, hi


def in_v4_ranges(vals: npt.NDArray[np.int64], lo: npt.NDArray[np.int64],
                 hi: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether each value lies in any [lo, hi] range (ranges may overlap)."""
    out = np.zeros(len(vals), dtype=bool)
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):  # a handful of policy ranges
        out |= (vals >= a) & (vals <= b)
    return out


def allowed_frame(ips: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """``client_ip, allowed`` for distinct ``client_ip, asn`` rows: may this IP leave raw?

    Allowed when its ASN is in ``raw_infrastructure.asns`` or it lies in one of the
    ``raw_infrastructure.cidrs`` (IPv4 vectorised; IPv6 checked per distinct address).
    """
    df = ips.select("client_ip", pl.col("asn") if "asn" in ips.columns
                    else pl.lit(None, pl.Int64).alias("asn")).unique()
    asn_ok = pl.col("asn").is_in(pl.Series(sorted(policy.raw_asns), dtype=pl.Int64).implode())
    df = df.with_columns(asn_ok.fill_null(False).alias("allowed"),
                         ipv4_int_expr("client_ip").alias("_v4"))
    nets = policy.raw_networks()
    if nets:
        lo, hi = v4_ranges(nets)
        v4 = df.get_column("_v4").fill_null(-1).to_numpy()
        cidr_ok = in_v4_ranges(v4, lo, hi) & (v4 >= 0)
        v6nets = [n for n in nets if n.version == 6]
        if v6nets:
            ips6 = df.get_column("client_ip").to_list()
            for i, ip in enumerate(ips6):
                if ip and ":" in ip:
                    try:
                        addr = ipaddress.ip_address(ip.strip())
                    except ValueError:
                        continue
                    cidr_ok[i] = any(addr in n for n in v6nets)
        df = df.with_columns(pl.col("allowed") | pl.Series(cidr_ok))
    return df.group_by("client_ip").agg(pl.col("allowed").all())
