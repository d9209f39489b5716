"""Clusters: Leiden communities and a camouflage-resistant dense-block view.

Two complementary views of the same evidence:

* **Leiden** (igraph's native implementation of Traag et al.; ``leidenalg`` is the same
  algorithm but ~20x slower on these graphs) partitions the weighted account graph into
  communities: every account belongs to one, and an operation's fleet, tied together by many
  weak and a few strong links, ends up in one or a few communities.
* **Dense blocks, Fraudar-style** (Hooi et al., KDD 2016) work on the bipartite
  account-entity incidence with column weights that fall with entity degree
  (``1 / log(degree + 5)``). Greedy peeling finds the account+entity set of maximum average
  weighted degree. Fraudar's point: an operation that adds honest-looking traffic to its
  accounts (camouflage) adds edges *outside* the block, which cannot lower the block's
  density, so it cannot dilute its way out. Peeling here is the vectorised round-based
  approximation (Bahmani, Kumar, Vassilvitskii 2012: remove every node below
  ``2(1+eps)`` times the current density per round), ``O(log n / eps)`` passes of numpy.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import igraph as ig
import numpy as np
import polars as pl

from distillguard.graph.build import AccountGraph

#: Graphs with at least this many edges run Leiden in a child process (see LeidenJob).
LEIDEN_PROCESS_MIN_EDGES = 500_000
#: Graphs with at least this many edges are built by igraph's C edge-list reader.
_EDGE_CHUNK = 500_000


def _igraph(n: int, src: np.ndarray, dst: np.ndarray) -> ig.Graph:
    """The undirected graph on ``n`` vertices with edges ``(src[i], dst[i])`` in that order.

    Small graphs: one list of Python int pairs (igraph converts those ~3x faster than a
    numpy (m, 2) array). Big ones: a text edge list read by igraph's C reader, which builds
    the graph in one step without ~1 GB of Python pairs at 8M edges; ``add_edges`` per
    chunk (the earlier way to bound that memory) re-indexes the whole graph on every call:
    13-16 s for the 16M-event scan's 8M edges, against ~4 s this way. Same edges in the same
    order either way, so the same graph and the same seeded partition.
    """
    if len(src) < _EDGE_CHUNK:
        return ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist(), strict=True)),
                        directed=False)
    with tempfile.TemporaryDirectory(prefix="distillguard-edges-") as d:
        path = Path(d) / "edges.txt"
        pl.DataFrame({"s": src, "d": dst}).write_csv(path, separator=" ",
                                                     include_header=False)
        g = ig.Graph.Read_Edgelist(str(path), directed=False)
    if g.vcount() < n:  # the reader stops at the highest vertex with an edge
        g.add_vertices(n - g.vcount())
    return g


def _leiden_arrays(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray,
                   resolution: float, seed: int, n_iterations: int) -> np.ndarray:
    """igraph's Leiden on plain edge arrays: the one place the partition is computed, in
    this process or in the child (same inputs, same seeded RNG, so the same partition)."""
    g = _igraph(n, src, dst)
    # igraph's native Leiden (same algorithm as leidenalg, ~20x faster here); igraph draws
    # from a Python RNG, seeded locally and restored so results are reproducible.
    rng = random.Random(seed)
    ig.set_random_number_generator(rng)
    try:
        part = g.community_leiden(
            objective_function="modularity",
            # a float64 array, not a list: igraph reads it into its vector either way (same
            # partition), without ~300 MB of Python floats at 8M edges (child peak at 16M
            # events 1.48 -> 1.18 GB)
            weights=np.ascontiguousarray(w, dtype=np.float64),
            resolution=resolution,
            n_iterations=n_iterations,
        )
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


def _leiden_child_main(workdir: str) -> None:
    """Entry point of the child process: arrays and parameters in, membership out."""
    d = Path(workdir)
    p = json.loads((d / "params.json").read_text())
    memb = _leiden_arrays(int(p["n"]), np.load(d / "src.npy"), np.load(d / "dst.npy"),
                          np.load(d / "w.npy"), float(p["resolution"]), int(p["seed"]),
                          int(p["n_iterations"]))
    np.save(d / "membership.npy", memb)
    (d / "peak_rss_kb").write_text(str(_own_peak_rss_kb()))


def _own_peak_rss_kb() -> int:
    """This process's peak resident memory in KiB, since it started its program.

    Not ``ru_maxrss``: Linux carries that across ``exec``, so a child forked from a 7.5 GB
    scan reports 7.5 GB whatever it used (so does the parent's ``RUSAGE_CHILDREN``).
    ``VmHWM`` is the high-water mark of the current address space only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class LeidenJob:
    """A Leiden partition being computed; :meth:`result` waits for it.

    Why a child process for big graphs: igraph runs Leiden single-threaded and holds the
    GIL throughout (its RNG calls back into Python), so on a 16M-event scan (~8M edges;
    ~50 s of wall time in the child beside features, ``leiden_s`` in the link timings, and
    its own peak memory as ``leiden_peak_rss_mb``)
    nothing else in the process could run. In a child process it runs beside the
    scan's other work (dense blocks here; features and scoring when the scan starts the
    job early, see ``graph.link.prepare_links``), on the other core. The child gets the
    same edge arrays, weights and seed, so the partition is the one computed in-process;
    if the child cannot run (no interpreter, killed) the job falls back to in-process.
    """

    def __init__(self, graph: AccountGraph, *, resolution: float, seed: int,
                 n_iterations: int, process: bool | None = None) -> None:
        self.n = graph.n_accounts
        self._args = (resolution, seed, n_iterations)
        self._memb: np.ndarray | None = None
        #: wall seconds of the partition itself (start to membership written), for the
        #: scan's profile; None until ``result`` has it
        self.elapsed_s: float | None = None
        #: peak resident memory of the child process in MB (None: ran in-process)
        self.peak_rss_mb: float | None = None
        self._t0 = time.time()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if graph.edges.height == 0:
            self._memb = np.arange(self.n, dtype=np.int64)
            return
        self._src = graph.edges.get_column("src").to_numpy()
        self._dst = graph.edges.get_column("dst").to_numpy()
        self._w = graph.edges.get_column("weight").to_numpy()
        if process is None:
            process = graph.edges.height >= LEIDEN_PROCESS_MIN_EDGES
        if process:
            self._start_child()

    def _start_child(self) -> None:
        resolution, seed, n_iterations = self._args
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="distillguard-leiden-")
            d = Path(self._tmp.name)
            np.save(d / "src.npy", self._src)
            np.save(d / "dst.npy", self._dst)
            np.save(d / "w.npy", self._w)
            (d / "params.json").write_text(json.dumps(
                {"n": self.n, "resolution": resolution, "seed": seed,
                 "n_iterations": n_iterations}))
            code = ("import sys; from distillguard.graph.cluster import _leiden_child_main; "
                    "_leiden_child_main(sys.argv[1])")
            self._proc = subprocess.Popen([sys.executable, "-c", code, str(d)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as exc:
            warnings.warn(f"Leiden child process did not start ({exc}); running in-process",
                          RuntimeWarning, stacklevel=3)
            self._cleanup()

    def _cleanup(self) -> None:
        self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def close(self) -> None:
        """Stop a child still running (the scan failed or no longer needs the partition)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def __del__(self) -> None:
        # not contextlib.suppress: at interpreter shutdown module globals may already be gone
        try:  # noqa: SIM105
            self.close()
        except Exception:  # interpreter shutdown: nothing left to clean up reliably
            pass

    def result(self) -> np.ndarray:
        """Community id per vertex (isolated vertices are their own singleton community)."""
        if self._memb is not None:
            return self._memb
        if self._proc is not None and self._tmp is not None:
            _, err = self._proc.communicate()
            out = Path(self._tmp.name) / "membership.npy"
            if self._proc.returncode == 0 and out.exists():
                memb = np.load(out)
                if len(memb) == self.n:
                    self._memb = memb
                    self.elapsed_s = out.stat().st_mtime - self._t0
                    rss = Path(self._tmp.name) / "peak_rss_kb"
                    if rss.exists():
                        self.peak_rss_mb = int(rss.read_text()) / 1024
            if self._memb is None:
                tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
                warnings.warn(f"Leiden child process failed (exit {self._proc.returncode}: "
                              f"{tail[0]}); running in-process", RuntimeWarning, stacklevel=2)
            self._cleanup()
        if self._memb is None:
            t = time.time()
            self._memb = _leiden_arrays(self.n, self._src, self._dst, self._w, *self._args)
            self.elapsed_s = time.time() - t
        del self._src, self._dst, self._w
        return self._memb


def start_leiden(graph: AccountGraph, *, resolution: float = 1.0, seed: int = 0,
                 n_iterations: int = 2, process: bool | None = None) -> LeidenJob:
    """Start :func:`leiden_membership` (in a child process for big graphs: ``process`` None
    decides by ``LEIDEN_PROCESS_MIN_EDGES``) and return at once; ``.result()`` waits."""
    return LeidenJob(graph, resolution=resolution, seed=seed, n_iterations=n_iterations,
                     process=process)


def leiden_membership(
    graph: AccountGraph, *, resolution: float = 1.0, seed: int = 0, n_iterations: int = 2
) -> np.ndarray:
    """Community id per vertex (isolated vertices are their own singleton community)."""
    return start_leiden(graph, resolution=resolution, seed=seed,
                        n_iterations=n_iterations).result()


@dataclass(frozen=True)
class DenseBlock:
    """One dense account+entity block: vertex ids of its accounts, its entities, density."""

    accounts: np.ndarray
    entities: pl.DataFrame
    density: float


def _peel(
    rows: np.ndarray,
    cols: np.ndarray,
    w: np.ndarray,
    n_rows: int,
    n_cols: int,
    eps: float,
    max_frac: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Round-based greedy peeling; returns (row mask, col mask, density) of the best set.

    Each round removes nodes whose weighted degree is at most ``2(1+eps)`` times the current
    density, but never more than ``max_frac`` of the alive nodes (the lowest-degree ones):
    account and entity degrees differ by orders of magnitude in a bipartite graph, and
    removing every node under the bar at once can wipe out a whole side in one round.
    """
    alive_r = np.zeros(n_rows, dtype=bool)
    alive_r[rows] = True
    alive_c = np.zeros(n_cols, dtype=bool)
    alive_c[cols] = True
    # Working arrays are compacted whenever a quarter of the edges has died: dead edges and
    # dead nodes are dropped and the alive nodes renumbered in their original order
    # (``id_r``/``id_c`` map back), so late rounds with a few thousand nodes left cost a few
    # thousand operations, not a pass over the whole incidence. Dead edges only ever added
    # 0.0 to the degree sums and the node order is kept, so every round removes exactly
    # the nodes the uncompacted loop removed.
    id_r = np.arange(n_rows)
    id_c = np.arange(n_cols)
    best_r, best_c, best_d = np.flatnonzero(alive_r), np.flatnonzero(alive_c), -1.0
    alive_e = np.ones(len(w), dtype=bool)
    n_alive = len(w)
    for _ in range(400):
        if n_alive < 0.75 * len(w):
            keep_r = np.flatnonzero(alive_r)
            keep_c = np.flatnonzero(alive_c)
            new_r = np.cumsum(alive_r) - 1
            new_c = np.cumsum(alive_c) - 1
            rows, cols, w = new_r[rows[alive_e]], new_c[cols[alive_e]], w[alive_e]
            id_r, id_c = id_r[keep_r], id_c[keep_c]
            alive_r = np.ones(len(id_r), dtype=bool)
            alive_c = np.ones(len(id_c), dtype=bool)
            alive_e = np.ones(len(w), dtype=bool)
        n_r = len(alive_r)
        n_nodes = int(alive_r.sum() + alive_c.sum())
        if n_nodes == 0 or n_alive == 0:
            break
        we = w if n_alive == len(w) else np.where(alive_e, w, 0.0)
        dens = float(we.sum()) / n_nodes
        if dens > best_d:
            best_r, best_c, best_d = id_r[alive_r], id_c[alive_c], dens
        deg = np.concatenate(
            [
                np.where(alive_r, np.bincount(rows, weights=we, minlength=n_r), np.inf),
                np.where(alive_c, np.bincount(cols, weights=we, minlength=len(alive_c)), np.inf),
            ]
        )
        thr = 2.0 * (1.0 + eps) * dens
        below = np.flatnonzero(deg <= thr)
        if len(below) == 0:
            break
        k = max(1, int(max_frac * n_nodes))
        if len(below) > k:
            below = below[np.argpartition(deg[below], k - 1)[:k]]
        alive_r[below[below < n_r]] = False
        alive_c[below[below >= n_r] - n_r] = False
        alive_e &= alive_r[rows] & alive_c[cols]
        n_alive = int(np.count_nonzero(alive_e))
    r_mask = np.zeros(n_rows, dtype=bool)
    r_mask[best_r] = True
    c_mask = np.zeros(n_cols, dtype=bool)
    c_mask[best_c] = True
    return r_mask, c_mask, best_d


def dense_blocks(
    incidence: pl.DataFrame,
    graph: AccountGraph,
    *,
    n_blocks: int = 8,
    min_accounts: int = 3,
    eps: float = 0.1,
    min_density_ratio: float = 2.0,
) -> list[DenseBlock]:
    """Find up to ``n_blocks`` dense account+entity blocks, densest first.

    After each block its accounts are removed and peeling starts again (as Fraudar does for
    multiple blocks). A block is kept only while its density is at least
    ``min_density_ratio`` times the density of the whole weighted incidence graph: a block
    that is no denser than the background is not a block.
    """
    ents = graph.entities.with_columns(
        (1.0 / (pl.col("degree").cast(pl.Float64) + 5.0).log()).alias("cw")
    ).with_row_index("c")
    idx = pl.DataFrame(
        {
            "account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
            "v": np.arange(graph.n_accounts, dtype=np.int64),
        }
    )
    # lockstep buckets are the most numerous entities and carry chance co-activity; the
    # repeated-pair lockstep signal lives in the graph edges, so blocks skip them
    inc = (
        incidence.filter(pl.col("kind") != "lockstep")
        .select("account_id", "kind", "entity")
        .join(ents.select("kind", "entity", "c", "cw"), on=["kind", "entity"])
        .join(idx, on="account_id")
    )
    if inc.height == 0:
        return []
    rows = inc.get_column("v").to_numpy()
    cols = inc.get_column("c").to_numpy().astype(np.int64)
    w = inc.get_column("cw").to_numpy()
    n_rows, n_cols = graph.n_accounts, ents.height
    base = float(w.sum()) / max(1, len(np.unique(rows)) + len(np.unique(cols)))
    keep = np.ones(len(w), dtype=bool)
    out: list[DenseBlock] = []
    for _ in range(max(0, n_blocks)):
        if not keep.any():
            break
        r_mask, c_mask, dens = _peel(rows[keep], cols[keep], w[keep], n_rows, n_cols, eps)
        accts = np.flatnonzero(r_mask)
        if dens < min_density_ratio * base or len(accts) < min_accounts:
            break
        ent_ids = np.flatnonzero(c_mask)
        out.append(
            DenseBlock(
                accounts=accts,
                entities=ents.filter(pl.col("c").is_in(ent_ids.tolist())).select(
                    "kind", "entity", "degree"
                ),
                density=dens,
            )
        )
        keep &= ~r_mask[rows]
    return out
