"""Exchange hub vs medallion (the OASIS reference TAXII 2.1 server), side by side.

Rows (all traffic on 127.0.0.1, one server process each, same client code):
- hub.ingest.*   objects ingested per second: N indicators POSTed in envelopes of 100
                 (distillguard validates every object with the stix2-validator checks;
                 medallion validates nothing);
- hub.serve.*    objects served per second: the whole collection read back page by page
                 (limit=100, following ``next``);
- hub.sse        publish-to-receive latency over the SSE push channel, p50/p99
                 (medallion has no push channel: polling only).

Run standalone for the side-by-side table (one process, both servers, several sizes):
    .venv/bin/python bench/bench_hub.py --objects 500,2000,10000
or through the harness: .venv/bin/python bench/run.py --only hub --sizes 2K
Why the ingest ratio is what it is (per-envelope CPU of medallion, of an empty FastAPI
endpoint and of distillguard, validation cost per object):
    .venv/bin/python bench/bench_hub.py --explain --objects 500,2000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from starlette.responses import Response  # (Request, Response: explain()'s endpoint annotations)

SIZES = ["2K"]
ENVELOPE = 100
PAGE = 100
TAXII = "application/taxii+json;version=2.1"
HEADERS = {"Accept": TAXII, "Content-Type": TAXII}


def _parse_size(size: str) -> int:
    try:
        from run import parse_size  # type: ignore[import-not-found]

        return int(parse_size(size))
    except ImportError:
        mult = {"K": 1_000, "M": 1_000_000}.get(size[-1].upper(), 1)
        return int(float(size.rstrip("kKmM")) * mult)


def make_indicators(n: int) -> list[dict[str, Any]]:
    """N distinct, valid STIX 2.1 indicators (TLP:GREEN, datacenter blocks)."""
    now = "2026-11-26T00:00:00.000Z"
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": now,
            "modified": now,
            "name": f"proxy block {i}",
            "description": "datacenter block fronting a distillation cluster",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value ISSUBSET '10.{i // 256 % 256}.{i % 256}.0/24']",
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": [green],
        }
        for i in range(n)
    ]


# -- servers -------------------------------------------------------------------------------
class Target:
    name: str
    base: str
    collection_url: str
    auth: tuple[str, str]

    def stop(self) -> None: ...


class DistillguardTarget(Target):
    name = "distillguard"

    def __init__(self, tmp: Path) -> None:
        from distillguard.exchange import admin
        from distillguard.exchange.app import create_app
        from distillguard.exchange.server import start_in_thread
        from distillguard.exchange.settings import HubSettings

        settings = HubSettings(
            database_url=f"sqlite:///{tmp / 'hub.db'}",
            max_content_length=50 * 1024 * 1024,
            default_page_size=PAGE,
            max_page_size=1000,
        )
        app = create_app(settings)
        store = app.state.hub.store
        col = admin.create_collection(store, "bench")
        pub = admin.add_member(store, "bench-lab")
        admin.grant(store, col.id, "bench-lab", read=True, write=True, in_org=True)
        self.store = store
        self.running = start_in_thread(app)
        self.base = self.running.url
        self.collection_url = f"{self.base}/api/collections/{col.id}/"
        self.auth = ("bench-lab", pub.password.secret)
        self.preloaded = len(admin.definition_objects())

    def stop(self) -> None:
        self.running.stop()
        self.store.close()  # (stops its background WAL checkpoint thread)


class MedallionTarget(Target):
    name = "medallion"

    def __init__(self) -> None:
        import logging

        import medallion
        from medallion.backends.memory_backend import MemoryBackend
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = medallion.application_instance
        cid = str(uuid.uuid4())
        backend = MemoryBackend()
        backend.data = {
            "/discovery": {
                "title": "medallion",
                "default": "http://127.0.0.1/api1/",
                "api_roots": ["http://127.0.0.1/api1/"],
            },
            "api1": {
                "information": {
                    "title": "bench",
                    "versions": [TAXII],
                    "max_content_length": 50 * 1024 * 1024,
                },
                "status": [],
                "collections": [
                    {
                        "id": cid,
                        "title": "bench",
                        "can_read": True,
                        "can_write": True,
                        "media_types": ["application/stix+json;version=2.1"],
                        "objects": [],
                        "manifest": [],
                    }
                ],
            },
        }
        app.medallion_backend = backend
        app.users_backend = {"bench": "bench"}
        app.taxii_config = {"max_page_size": PAGE}
        if "objects" not in app.blueprints:
            medallion.register_blueprints(app)
        from distillguard.exchange.server import free_port

        port = free_port()
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{port}"
        self.collection_url = f"{self.base}/api1/collections/{cid}/"
        self.auth = ("bench", "bench")
        self.preloaded = 0

    def stop(self) -> None:
        self.server.shutdown()


# -- measurements ----------------------------------------------------------------------------
def warm_up(target: Target) -> None:
    """One authenticated request before timing (distillguard's first login runs scrypt;
    both servers get the same treatment), and the validator's lazy imports."""
    from distillguard.stix import validate_stix

    validate_stix(make_indicators(1)[0])
    httpx.get(f"{target.collection_url}", auth=target.auth, headers={"Accept": TAXII}, timeout=60)


def ingest(target: Target, objs: list[dict[str, Any]]) -> dict[str, Any]:
    warm_up(target)
    bodies = [
        json.dumps({"objects": objs[i : i + ENVELOPE]}).encode()
        for i in range(0, len(objs), ENVELOPE)
    ]
    stored = 0
    with httpx.Client(auth=target.auth, headers=HEADERS, timeout=600) as c:
        t0, c0 = time.perf_counter(), time.process_time()
        for body in bodies:
            r = c.post(f"{target.collection_url}objects/", content=body)
            r.raise_for_status()
            stored += int(r.json().get("success_count", 0))
        secs = time.perf_counter() - t0
        # CPU of this whole process (client + the server under test; the other server
        # is idle): steadier than wall time when the machine is shared and loaded.
        cpu = time.process_time() - c0
    if stored != len(objs):
        raise RuntimeError(f"{target.name} stored {stored} of {len(objs)}")
    return {"events": len(objs), "seconds": secs, "cpu_seconds": cpu}


def serve(target: Target, expected: int) -> dict[str, Any]:
    got = 0
    pages = 0
    with httpx.Client(auth=target.auth, headers={"Accept": TAXII}, timeout=600) as c:
        t0 = time.perf_counter()
        params: dict[str, Any] = {"limit": PAGE}
        while True:
            r = c.get(f"{target.collection_url}objects/", params=params)
            r.raise_for_status()
            env = r.json()
            got += len(env.get("objects", []))
            pages += 1
            if not env.get("more"):
                break
            params = {"limit": PAGE, "next": env["next"]}
        secs = time.perf_counter() - t0
    if got != expected:
        raise RuntimeError(f"{target.name} served {got}, expected {expected}")
    return {"events": got, "seconds": secs, "pages": pages}


def sse_latency(target: DistillguardTarget, n: int = 60) -> dict[str, Any]:
    objs = make_indicators(n)
    received: dict[str, float] = {}
    ready = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "GET", f"{target.collection_url}events/", auth=target.auth, timeout=60
        ) as resp:
            ready.set()
            for line in resp.iter_lines():
                if line.startswith("data:"):
                    received[json.loads(line[5:])["id"]] = time.perf_counter()
                    if len(received) >= n:
                        done.set()
                        return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    ready.wait(30)
    time.sleep(0.2)
    sent: dict[str, float] = {}
    with httpx.Client(auth=target.auth, headers=HEADERS, timeout=60) as c:
        for obj in objs:
            sent[obj["id"]] = time.perf_counter()
            c.post(f"{target.collection_url}objects/", json={"objects": [obj]}).raise_for_status()
            time.sleep(0.02)
    done.wait(30)
    lat = sorted((received[k] - sent[k]) * 1000 for k in sent if k in received)
    if len(lat) < n:
        raise RuntimeError(f"SSE delivered {len(lat)} of {n}")
    p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    return {
        "events": n,
        "seconds": sum(lat) / 1000,
        "p50_ms": statistics.median(lat),
        "p99_ms": p99,
        "note": f"p50 {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms",
    }


# -- harness cases (bench/run.py) -------------------------------------------------------------
def _run_one(which: str, size: str, *, read_back: bool) -> dict[str, Any]:
    n = _parse_size(size)
    objs = make_indicators(n)
    with tempfile.TemporaryDirectory() as tmp:
        target: Target = DistillguardTarget(Path(tmp)) if which == "dg" else MedallionTarget()
        try:
            ing = ingest(target, objs)
            return serve(target, n + target.preloaded) if read_back else ing
        finally:
            target.stop()


def ingest_distillguard(size: str) -> dict[str, Any]:
    return {**_run_one("dg", size, read_back=False), "note": "objects/s, SQLite, validated"}


def ingest_medallion(size: str) -> dict[str, Any]:
    return {**_run_one("med", size, read_back=False), "note": "objects/s, memory, no validation"}


def serve_distillguard(size: str) -> dict[str, Any]:
    return {**_run_one("dg", size, read_back=True), "note": f"objects/s, pages of {PAGE}"}


def serve_medallion(size: str) -> dict[str, Any]:
    return {**_run_one("med", size, read_back=True), "note": f"objects/s, pages of {PAGE}"}


def sse_distillguard(size: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        target = DistillguardTarget(Path(tmp))
        try:
            return sse_latency(target)
        finally:
            target.stop()


CASES = [ingest_distillguard, ingest_medallion, serve_distillguard, serve_medallion, sse_distillguard]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _size_rows(
    n: int, sse_events: int, read_back: bool
) -> tuple[list[tuple[str, str, float, str]], dict[str, float]]:
    """Both servers at one size: same objects, same envelopes, same warm-up, fresh
    servers (medallion's memory store slows as its collection grows, so size matters)."""
    objs = make_indicators(n)
    rows: list[tuple[str, str, float, str]] = []
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for target in (MedallionTarget(), DistillguardTarget(Path(tmp))):
            try:
                ing = ingest(target, objs)
                rates[f"{target.name}.ingest"] = ing["events"] / ing["seconds"]
                rates[f"{target.name}.ingest-cpu"] = ing["events"] / max(ing["cpu_seconds"], 1e-9)
                rows.append((f"{target.name}.ingest", str(n), ing["seconds"],
                             f"{rates[target.name + '.ingest']:,.0f} obj/s "
                             f"(process CPU {ing['cpu_seconds']:.3f} s)"))
                if read_back:
                    srv = serve(target, n + target.preloaded)
                    rates[f"{target.name}.serve"] = srv["events"] / srv["seconds"]
                    rows.append((f"{target.name}.serve", str(srv["events"]), srv["seconds"],
                                 f"{rates[target.name + '.serve']:,.0f} obj/s "
                                 f"({srv['pages']} pages)"))
                if isinstance(target, DistillguardTarget) and sse_events:
                    lat = sse_latency(target, sse_events)
                    rows.append(("distillguard.sse", str(sse_events), lat["seconds"], lat["note"]))
            finally:
                target.stop()
    return rows, rates


def _per_envelope_cpu(url: str, auth: tuple[str, str], bodies: list[bytes]) -> list[float]:
    """Process CPU (ms) of each POST: client and server together, as in ``ingest``."""
    out = []
    with httpx.Client(auth=auth, headers=HEADERS, timeout=600) as c:
        for body in bodies:
            c0 = time.process_time()
            c.post(url, content=body).raise_for_status()
            out.append((time.process_time() - c0) * 1000)
    return out


def explain(n: int) -> None:
    """Where the ingest ratio's limits come from, in the units that decide them: process
    CPU per 100-object envelope (client + server) for medallion as its collection grows,
    for an empty FastAPI endpoint on the hub's own uvicorn set-up (the per-request floor
    any FastAPI server pays with this client), and for distillguard; plus the per-object
    cost of validation and of the whole ``prepare`` step."""
    import timeit

    from fastapi import FastAPI

    from distillguard.exchange.ingest import prepare
    from distillguard.exchange.server import start_in_thread
    from distillguard.stix import validate_stix

    objs = make_indicators(n)
    bodies = [json.dumps({"objects": objs[i : i + ENVELOPE]}).encode()
              for i in range(0, n, ENVELOPE)]
    med = MedallionTarget()
    try:
        warm_up(med)
        med_ms = _per_envelope_cpu(f"{med.collection_url}objects/", med.auth, bodies)
    finally:
        med.stop()
    floor_app = FastAPI()

    @floor_app.post("/empty/")
    async def empty(request: Request) -> Response:
        await request.body()
        return Response(b"{}", status_code=202, media_type=TAXII)

    floor = start_in_thread(floor_app)
    try:
        _per_envelope_cpu(f"{floor.url}/empty/", ("a", "b"), bodies[:2])  # warm
        floor_ms = _per_envelope_cpu(f"{floor.url}/empty/", ("a", "b"), bodies)
    finally:
        floor.stop()
    with tempfile.TemporaryDirectory() as tmp:
        dg = DistillguardTarget(Path(tmp))
        try:
            warm_up(dg)
            dg_ms = _per_envelope_cpu(f"{dg.collection_url}objects/", dg.auth, bodies)
        finally:
            dg.stop()
    fresh = make_indicators(2000)
    per_obj = 1e6 / len(fresh)
    v_us = min(timeit.repeat(lambda: [validate_stix(o) for o in fresh], number=1, repeat=5))
    p_us = min(timeit.repeat(lambda: prepare(fresh, "identity--x"), number=1, repeat=5))
    v_us, p_us = v_us * per_obj, p_us * per_obj
    med_total, dg_total = sum(med_ms), sum(dg_ms)
    print(f"explain n={n}: process CPU per {ENVELOPE}-object envelope, ms (client + server)")
    print("  medallion, envelope by envelope: " + " ".join(f"{x:.1f}" for x in med_ms[:20])
          + (" ..." if len(med_ms) > 20 else ""))
    print(f"  empty FastAPI endpoint (floor): median {statistics.median(floor_ms):.2f}")
    print(f"  distillguard: median {statistics.median(dg_ms):.2f} (first {dg_ms[0]:.2f})")
    print(f"  per object: validate_stix {v_us:.1f} us, prepare (validation + serialisation,"
          f" digest, metadata) {p_us:.1f} us")
    budget = med_total / 10 / len(bodies)
    floor_med, dg_med = statistics.median(floor_ms), statistics.median(dg_ms)
    prep_ms = p_us * ENVELOPE / 1000
    print(f"  10x medallion at n={n} allows {budget:.2f} ms per envelope; the floor + validation"
          f" alone is {floor_med + v_us * ENVELOPE / 1000:.2f} ms, + the rest of prepare"
          f" {floor_med + prep_ms:.2f} ms; the remaining {dg_med - floor_med - prep_ms:.2f} ms"
          f" is the store (SQLite insert, commit), authentication, threadpool hops, status;"
          f" CPU ratio now {med_total / dg_total:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--objects", default="2000",
                    help="comma-separated collection sizes, e.g. 500,2000,10000 (one run)")
    ap.add_argument("--serve-max", type=int, default=2000,
                    help="read back (serve rows) only at sizes up to this: medallion's paging "
                         "is quadratic (2000 objects: ~30 s; 10000 would take ~15 min)")
    ap.add_argument("--sse-events", type=int, default=100,
                    help="SSE latency samples (measured at the first size only; 0: skip)")
    ap.add_argument("--explain", action="store_true",
                    help="instead of the table: per-envelope CPU of medallion, an empty FastAPI "
                         "endpoint and distillguard, and validation cost per object, per size")
    args = ap.parse_args()
    sizes = [int(x) for x in str(args.objects).split(",") if x.strip()]
    if args.explain:
        print(f"load average (1 min) {os.getloadavg()[0]:.2f}")
        for n in sizes:
            explain(n)
        print(f"load average (1 min) {os.getloadavg()[0]:.2f}")
        return
    load_before = os.getloadavg()
    print(f"{'name':<22} {'size':>7} {'wall s':>9}  result")
    summary: list[str] = []
    for i, n in enumerate(sizes):
        rows, rates = _size_rows(n, args.sse_events if i == 0 else 0, n <= args.serve_max)
        for name, size, secs, note in rows:
            print(f"{name:<22} {size:>7} {secs:>9.3f}  {note}", flush=True)
        ratios = [
            f"{what} {rates[f'distillguard.{what}'] / rates[f'medallion.{what}']:.1f}x"
            for what in ("ingest", "serve", "ingest-cpu")
            if f"medallion.{what}" in rates
        ]
        summary.append(f"n={n:<6} distillguard / medallion: " + ", ".join(ratios))
    if args.sse_events:
        print(f"{'medallion.sse':<22} {'-':>7} {0.0:>9.3f}  n/a: no push channel (polling only)")
    for line in summary:
        print("speed-up " + line)
    print(f"peak RSS {_rss_mb():.0f} MB (both servers and the client in one process)")
    # Wall-clock ratios move with machine load (both servers share this process's CPU).
    print("load average (1/5/15 min) before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}"
          .format(*load_before, *os.getloadavg()))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
