"""Benign personas, including the hard negatives that make distillation hard to spot.

Each persona is a *distribution* over accounts: rate, rhythm, time zone, clients, network,
sampling settings, recipe mix and model adoption are drawn per account. Several personas
deliberately look like attackers on one feature or another:

===================  =========================================================================
app_backend          one account, huge volume, datacenter IPs, SDK user agent, 24/7
enterprise_batch     one instruction template over many records, temperature 0, nightly runs,
                     org accounts share a corporate card and a rare e-mail domain
agent_dev            tool schemas, long multi-turn agent loops, coding prompts
benchmark_eval       public problem sets verbatim, shared harness templates across accounts,
                     temperature 0, high max_tokens, jumps on a new model on release day
jailbreaker          fresh accounts, VPN exits, abuse (but not distillation), gets banned
education            sign-up bursts of a class from one campus network and e-mail domain,
                     "explain step by step"
research             "Let's think step by step", LLM-as-judge grading prompts, 32k max_tokens
rag_app              app backend stuffing retrieved documents next to the question (two slots)
judge_service        an evaluation SaaS grading replies with rubric prompts at volume
safety_eval          a red-teaming firm running jailbreak / harmful probe sets in bulk,
                     first thing on a new model's release day
tool_user            customers of a bring-your-own-key coding tool: one system prompt, one
                     wrapper template, one user agent across thousands of unrelated
                     accounts; tools, long agent loops, high max_tokens, temperature 0,
                     the new model within a day of release (the tool changes its default)
sso_employee         (opt-in) a large company on SSO: 50-300 employee accounts per org under one
                     e-mail domain, one egress block, one corporate card, provisioned together;
                     the internal assistant's system prompt and shared prompt templates
                     (ticket summary, code review, "think step by step" analyses), office hours
aggregator           (opt-in) an API aggregator / router (OpenRouter-, LiteLLM-proxy-like, or a B2B
                     app reselling model access): one aged high-tier account (or 2-3 keys'
                     worth of one company) carrying thousands of end users' traffic - 24/7
                     from datacenter IPs, router user agents, every capability area with a
                     different customer app's system prompt on each request, step-by-step
                     and coding prompts, high max_tokens, the new model on release day
resold_customer      honest customers of a proxy reseller: share the reseller's IPs, client
                     and payment with distillation accounts (built by ``campaigns``)
===================  =========================================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from distillguard.errors import ConfigError
from distillguard.sim import templates as T
from distillguard.sim.build import (
    BENIGN_COUNTRIES,
    TIER_RPM,
    LabCtx,
    account_ids,
    adoption,
    api_keys,
    calibrate_rates,
    choice,
    clients_table,
    home_ips,
    ip_pool_mix,
    settings,
)
from distillguard.sim.content import ChatRecipe, TemplateRecipe
from distillguard.sim.infra import (
    CONSUMER_MAIL,
    COUNTRY_TZ,
    EDU_DOMAINS,
    card,
    company_domains,
    make_ip_pool,
)
from distillguard.sim.scenario import PersonaSpec
from distillguard.sim.world import DAY_US, NEVER, RHYTHMS, Group


@dataclass(frozen=True)
class PersonaDef:
    name: str
    tiers: dict[str, float]
    ip: dict[str, float]
    clients: dict[str, float]
    rhythm: dict[str, float]
    temps: dict[float | None, float]
    maxes: dict[int, float]
    recipes: tuple[tuple[str, float], ...]
    countries: dict[str, float] = field(default_factory=lambda: dict(BENIGN_COUNTRIES))
    v6: float = 0.2
    mobile: tuple[float, float] = (0.0, 0.0)
    rate_sigma: float = 0.9
    active_p: tuple[float, float] = (0.3, 0.8)
    gap: tuple[float, float] = (30.0, 120.0)
    sess_len: float = 5.0
    fixed_p: float = 0.7
    clients_per_account: float = 0.15  # probability of a second client
    ip_mode: dict[int, float] = field(default_factory=lambda: {0: 1.0})
    adopt: tuple[float, float, float, float] = (0.5, 7.0, 0.3, 0.7)  # share, mean days, lo, hi
    email: str = "consumer"
    org_size: tuple[int, int] = (1, 1)
    org_card: bool = False
    new_accounts: float = 0.08
    cohorts: bool = False
    banned: float = 0.0  # share of accounts banned during the timeline (abuse)
    n_keys: tuple[int, int] = (1, 2)
    out_mult: tuple[float, float] = (0.6, 1.9)
    weekend: float = 0.85
    release_boost: float = 1.0
    zdr: float = 0.0  # share of accounts under zero data retention (prompt text not kept)
    provision_hours: float = 0.0  # > 0: a new org's accounts are created together (SSO/SCIM)
    org_egress: bool = False  # each org egresses through its own corporate /24
    mix_concentration: float = 8.0  # how closely an account's recipe mix follows ``recipes``


PERSONAS: dict[str, PersonaDef] = {
    p.name: p
    for p in (
        PersonaDef(
            "casual_chat",
            tiers={"free": 0.7, "build": 0.3},
            ip={"residential": 0.7, "mobile": 0.3},
            clients={"chrome": 0.3, "safari": 0.15, "firefox": 0.05, "ios-app": 0.12,
                     "openai-python": 0.1, "anthropic-python": 0.05, "openai-node": 0.05,
                     "okhttp": 0.06, "dart": 0.05, "curl": 0.04, "postman": 0.03},
            rhythm={"human": 1.0},
            temps={None: 0.55, 0.7: 0.2, 1.0: 0.2, 0.5: 0.05},
            maxes={0: 0.45, 1024: 0.2, 2048: 0.15, 4096: 0.15, 8192: 0.05},
            recipes=(("chat", 0.9), ("code_raw", 0.05), ("tools_raw", 0.05)),
            mobile=(0.0, 0.5),
            active_p=(0.1, 0.6),
            gap=(40.0, 180.0),
        ),
        PersonaDef(
            "power_user",
            tiers={"build": 0.7, "scale": 0.2, "free": 0.1},
            ip={"residential": 0.7, "corporate": 0.2, "mobile": 0.1},
            clients={"openai-python": 0.25, "anthropic-python": 0.2, "httpx": 0.05,
                     "langchain": 0.1, "litellm": 0.08, "chrome": 0.15, "curl": 0.07,
                     "openai-node": 0.1},
            rhythm={"human": 0.7, "business": 0.3},
            temps={None: 0.3, 0.7: 0.25, 1.0: 0.2, 0.2: 0.15, 0.0: 0.1},
            maxes={0: 0.2, 4096: 0.3, 8192: 0.25, 2048: 0.1, 16384: 0.1, 32000: 0.05},
            recipes=(("chat", 0.6), ("code_raw", 0.2), ("tools_raw", 0.1), ("student", 0.1)),
            mobile=(0.0, 0.2),
            active_p=(0.5, 0.95),
            gap=(15.0, 90.0),
            sess_len=8.0,
            adopt=(0.85, 1.5, 0.4, 0.9),
            rate_sigma=0.7,
        ),
        PersonaDef(
            "app_backend",
            tiers={"scale": 0.6, "enterprise": 0.4},
            ip={"datacenter": 1.0},
            clients={"openai-node": 0.25, "openai-python": 0.25, "anthropic-python": 0.15,
                     "go": 0.1, "java": 0.1, "litellm": 0.05, "axios": 0.1},
            rhythm={"app": 1.0},
            temps={0.7: 0.3, 0.3: 0.3, 0.5: 0.2, 1.0: 0.2},
            maxes={1024: 0.4, 512: 0.3, 2048: 0.3},
            recipes=(("app_chat", 1.0),),
            zdr=0.25,
            v6=0.05,
            active_p=(1.0, 1.0),
            fixed_p=0.97,
            rate_sigma=1.0,
            adopt=(0.35, 12.0, 1.0, 1.0),
            email="company",
            n_keys=(1, 4),
            weekend=0.9,
            new_accounts=0.0,
        ),
        PersonaDef(
            "enterprise_batch",
            tiers={"enterprise": 0.5, "scale": 0.5},
            ip={"corporate": 0.6, "datacenter": 0.4},
            clients={"python-requests": 0.3, "openai-python": 0.3, "httpx": 0.1, "java": 0.15,
                     "go": 0.1, "aiohttp": 0.05},
            rhythm={"batch": 0.85, "business": 0.15},
            temps={0.0: 0.7, 0.2: 0.2, None: 0.1},
            maxes={256: 0.3, 64: 0.2, 1024: 0.3, 16: 0.2},
            recipes=(("batch", 0.95), ("chat", 0.05)),
            zdr=0.3,
            v6=0.0,
            active_p=(0.3, 0.9),
            gap=(0.3, 2.5),
            fixed_p=0.99,
            rate_sigma=0.8,
            adopt=(0.2, 14.0, 1.0, 1.0),
            email="company",
            org_size=(1, 6),
            org_card=True,
            new_accounts=0.05,
        ),
        PersonaDef(
            "agent_dev",
            tiers={"build": 0.6, "scale": 0.3, "free": 0.1},
            ip={"residential": 0.5, "corporate": 0.3, "datacenter": 0.2},
            clients={"langchain": 0.25, "openai-python": 0.2, "anthropic-python": 0.2,
                     "litellm": 0.1, "openai-node": 0.1, "async-openai-python": 0.1,
                     "postman": 0.05},
            rhythm={"business": 0.6, "human": 0.4},
            temps={0.0: 0.3, 0.2: 0.2, None: 0.3, 0.7: 0.2},
            maxes={4096: 0.35, 1024: 0.15, 0: 0.15, 8192: 0.25, 16384: 0.1},
            recipes=(("agent_tools", 0.6), ("chat", 0.2), ("code_raw", 0.2)),
            active_p=(0.3, 0.8),
            gap=(4.0, 60.0),
            sess_len=12.0,
            fixed_p=0.85,
            adopt=(0.6, 3.0, 0.3, 0.9),
        ),
        PersonaDef(
            "benchmark_eval",
            tiers={"scale": 0.5, "research": 0.3, "build": 0.2},
            ip={"datacenter": 0.8, "corporate": 0.2},
            clients={"openai-python": 0.3, "async-openai-python": 0.25, "litellm": 0.15,
                     "aiohttp": 0.1, "httpx": 0.1, "anthropic-python": 0.1},
            rhythm={"batch": 1.0},
            temps={0.0: 0.9, None: 0.1},
            maxes={2048: 0.3, 4096: 0.3, 1024: 0.2, 32768: 0.1, 16384: 0.1},
            recipes=(("bench", 0.5), ("bench_code", 0.3), ("bench_tools", 0.2)),
            v6=0.0,
            active_p=(0.1, 0.4),
            gap=(0.4, 3.0),
            fixed_p=0.99,
            adopt=(0.95, 0.4, 0.5, 0.9),
            email="company",
            org_size=(1, 5),
            org_card=True,
            release_boost=4.0,
            new_accounts=0.1,
        ),
        PersonaDef(
            "jailbreaker",
            tiers={"free": 0.85, "build": 0.15},
            ip={"datacenter": 0.5, "residential": 0.3, "mobile": 0.2},
            clients={"chrome": 0.35, "python-requests": 0.2, "openai-python": 0.2, "curl": 0.1,
                     "postman": 0.1, "firefox": 0.05},
            rhythm={"human": 1.0},
            temps={None: 0.5, 1.0: 0.3, 1.5: 0.1, 2.0: 0.1},
            maxes={0: 0.6, 4096: 0.2, 2048: 0.2},
            recipes=(("jailbreak", 0.5), ("harm_raw", 0.3), ("chat", 0.2)),
            ip_mode={0: 0.5, 2: 0.5},
            active_p=(0.2, 0.7),
            gap=(20.0, 120.0),
            adopt=(0.7, 1.0, 0.4, 0.8),
            new_accounts=0.45,
            banned=0.3,
            email="mixed",
            out_mult=(0.3, 0.8),
        ),
        PersonaDef(
            "education",
            tiers={"education": 0.8, "free": 0.2},
            ip={"campus": 0.7, "residential": 0.2, "mobile": 0.1},
            clients={"chrome": 0.3, "safari": 0.15, "openai-python": 0.3, "firefox": 0.05,
                     "anthropic-python": 0.1, "curl": 0.05, "postman": 0.05},
            rhythm={"human": 1.0},
            temps={None: 0.5, 0.7: 0.3, 0.0: 0.2},
            maxes={0: 0.5, 1024: 0.3, 4096: 0.2},
            recipes=(("student", 0.5), ("chat", 0.5)),
            active_p=(0.15, 0.6),
            adopt=(0.4, 8.0, 0.3, 0.8),
            email="edu",
            cohorts=True,
            new_accounts=0.3,
        ),
        PersonaDef(
            "research",
            tiers={"research": 0.7, "scale": 0.3},
            ip={"campus": 0.5, "datacenter": 0.5},
            clients={"openai-python": 0.3, "async-openai-python": 0.2, "anthropic-python": 0.15,
                     "litellm": 0.15, "httpx": 0.1, "aiohttp": 0.1},
            rhythm={"batch": 0.5, "business": 0.5},
            temps={0.0: 0.5, 0.6: 0.2, 1.0: 0.3},
            maxes={32768: 0.25, 32000: 0.1, 16384: 0.3, 8192: 0.25, 4096: 0.1},
            recipes=(("research", 0.7), ("chat", 0.3)),
            v6=0.05,
            active_p=(0.2, 0.7),
            gap=(0.5, 20.0),
            fixed_p=0.95,
            adopt=(0.8, 1.0, 0.4, 0.8),
            email="edu",
            org_size=(1, 4),
            out_mult=(1.2, 3.0),
            release_boost=2.0,
        ),
        PersonaDef(
            "rag_app",
            tiers={"scale": 0.6, "enterprise": 0.4},
            ip={"datacenter": 1.0},
            clients={"langchain": 0.3, "openai-python": 0.25, "openai-node": 0.2, "anthropic-python": 0.15, "go": 0.1},
            rhythm={"app": 1.0},
            temps={0.0: 0.4, 0.2: 0.4, None: 0.2},
            maxes={512: 0.4, 1024: 0.4, 2048: 0.2},
            recipes=(("rag", 0.85), ("app_chat", 0.15)),
            v6=0.05,
            active_p=(1.0, 1.0),
            fixed_p=0.97,
            adopt=(0.4, 10.0, 1.0, 1.0),
            email="company",
            n_keys=(1, 3),
            new_accounts=0.0,
            zdr=0.15,
        ),
        PersonaDef(
            "judge_service",
            tiers={"scale": 0.5, "enterprise": 0.5},
            ip={"datacenter": 1.0},
            clients={"openai-python": 0.3, "async-openai-python": 0.3, "httpx": 0.2, "litellm": 0.2},
            rhythm={"batch": 0.5, "app": 0.5},
            temps={0.0: 0.9, None: 0.1},
            maxes={256: 0.3, 512: 0.4, 1024: 0.3},
            recipes=(("judge", 1.0),),
            v6=0.0,
            active_p=(0.6, 1.0),
            gap=(0.2, 2.0),
            fixed_p=0.99,
            adopt=(0.5, 4.0, 0.3, 0.7),
            email="company",
            new_accounts=0.1,
        ),
        PersonaDef(
            "safety_eval",
            tiers={"research": 0.5, "scale": 0.5},
            ip={"datacenter": 0.6, "corporate": 0.4},
            clients={"openai-python": 0.35, "python-requests": 0.25, "httpx": 0.2, "aiohttp": 0.2},
            rhythm={"batch": 1.0},
            temps={None: 0.4, 0.7: 0.3, 1.0: 0.3},
            maxes={150: 0.3, 512: 0.4, 0: 0.3},
            recipes=(("safety", 0.9), ("chat", 0.1)),
            v6=0.0,
            active_p=(0.1, 0.5),
            gap=(0.3, 3.0),
            fixed_p=0.95,
            adopt=(0.9, 0.5, 0.5, 0.9),
            email="company",
            org_size=(1, 3),
            org_card=True,
            release_boost=3.0,
        ),
        PersonaDef(
            "tool_user",
            tiers={"build": 0.6, "free": 0.25, "scale": 0.15},
            ip={"residential": 0.55, "corporate": 0.35, "mobile": 0.1},
            clients={"ide-agent": 1.0},
            rhythm={"business": 0.6, "human": 0.4},
            temps={0.0: 0.7, None: 0.3},
            maxes={8192: 0.5, 16384: 0.3, 4096: 0.2},
            recipes=(("ide_agent", 0.9), ("chat", 0.1)),
            active_p=(0.2, 0.8),
            gap=(3.0, 25.0),
            sess_len=14.0,
            fixed_p=0.8,
            adopt=(0.9, 0.6, 0.5, 0.9),
            release_boost=1.5,
            out_mult=(0.8, 2.0),
        ),
        PersonaDef(
            "sso_employee",
            tiers={"enterprise": 1.0},
            ip={"corporate": 1.0},
            clients={"chrome": 0.4, "openai-python": 0.3, "httpx": 0.1, "openai-node": 0.2},
            rhythm={"business": 0.9, "human": 0.1},
            temps={None: 0.5, 0.2: 0.3, 0.0: 0.2},
            maxes={4096: 0.4, 8192: 0.3, 16384: 0.2, 0: 0.1},
            recipes=(("internal", 0.5), ("internal_reason", 0.2), ("chat", 0.2), ("code_raw", 0.1)),
            v6=0.0,
            active_p=(0.4, 0.9),
            gap=(10.0, 60.0),
            sess_len=6.0,
            fixed_p=0.9,
            clients_per_account=0.05,
            adopt=(0.9, 2.0, 0.6, 1.0),  # IT switches the assistant's default model
            email="sso",
            org_size=(50, 300),
            org_card=True,
            new_accounts=0.5,
            provision_hours=2.0,
            org_egress=True,
            weekend=0.15,
            out_mult=(0.8, 1.6),
        ),
        PersonaDef(
            "aggregator",
            tiers={"enterprise": 0.7, "scale": 0.3},
            ip={"datacenter": 1.0},
            clients={"litellm": 0.35, "openai-python": 0.2, "httpx": 0.15, "openai-node": 0.15,
                     "go": 0.1, "aiohttp": 0.05},
            rhythm={"app": 1.0},  # its end users' clocks, all time zones: around the clock
            temps={None: 0.3, 0.7: 0.25, 0.0: 0.2, 1.0: 0.15, 0.3: 0.1},
            maxes={4096: 0.2, 8192: 0.25, 16384: 0.25, 32000: 0.15, 0: 0.15},
            recipes=(("relay_chat", 0.35), ("code_raw", 0.12), ("relay_agent", 0.1),
                     ("student", 0.12), ("research", 0.12), ("rag", 0.07), ("tools_raw", 0.07),
                     ("chat", 0.05)),
            v6=0.05,
            active_p=(1.0, 1.0),
            fixed_p=0.4,  # each request carries its end user's own sampling settings
            rate_sigma=0.5,
            n_keys=(3, 12),
            adopt=(1.0, 0.2, 0.4, 0.8),  # its users ask for the new model on release day
            release_boost=1.8,
            email="company",
            org_size=(1, 3),
            org_card=True,
            new_accounts=0.0,
            weekend=0.95,
            out_mult=(0.9, 2.2),
            mix_concentration=300.0,  # thousands of end users: every account carries the whole mix
        ),
        PersonaDef(
            "resold_customer",
            tiers={"build": 0.8, "free": 0.2},
            ip={"residential": 1.0},
            clients={"openai-python": 1.0},
            rhythm={"human": 1.0},
            temps={None: 0.5, 0.7: 0.3, 1.0: 0.2},
            maxes={0: 0.5, 2048: 0.3, 4096: 0.2},
            recipes=(("chat", 0.75), ("code_raw", 0.15), ("tools_raw", 0.1)),
            active_p=(0.4, 0.9),
            adopt=(0.6, 3.0, 0.3, 0.8),
        ),
    )
}


def benign_recipes(names: tuple[tuple[str, float], ...], ctx: LabCtx, n: int, rng: np.random.Generator) -> list[object]:
    """Instantiate benign recipes for ``n`` accounts (per-account template choices)."""
    P = ctx.pools
    out: list[object] = []
    for name, _ in names:
        off = rng.integers(0, 10_000, n)
        if name == "chat":
            sysc: tuple[str | None, ...] = (None,) * 7 + T.GENERIC_SYSTEM
            out.append(ChatRecipe("chat_b", P, system=sysc, acct_system=rng.integers(0, len(sysc), n), out_median=450.0, truth="chat"))
        elif name == "app_chat":
            out.append(ChatRecipe("chat_b", P, system=T.APP_SYSTEM, acct_system=rng.integers(0, len(T.APP_SYSTEM), n), truth="app"))
        elif name == "code_raw":
            out.append(TemplateRecipe(["<<X>>"], [("code_b", 1.0)], P, off, span=1, out_median=800.0, truth="code"))
        elif name == "tools_raw":
            out.append(TemplateRecipe(["<<X>>"], [("tools_b", 1.0)], P, off, span=1, out_median=200.0, truth="tools"))
        elif name == "harm_raw":
            out.append(TemplateRecipe(["<<X>>"], [("harm_b", 1.0)], P, off, span=1, out_median=120.0, truth="harm"))
        elif name == "batch":
            out.append(TemplateRecipe(
                [t for t, _ in T.BATCH], [("chat_b", 0.7), ("answer_b", 0.3)], P, off, span=1, drift=0,
                out_median=[float(m) for _, m in T.BATCH], area=11, truth="batch"))
        elif name == "agent_tools":
            sysc = tuple(T.AGENT_DEV_SYSTEM)
            out.append(TemplateRecipe(
                ["<<X>>"], [("tools_b", 1.0)], P, off, span=1, tools=True, n_messages=(1, 15),
                system=sysc, acct_system=rng.integers(0, len(sysc), n), out_median=120.0, truth="agent"))
        elif name == "bench":
            out.append(TemplateRecipe(
                list(T.BENCH_HARNESS), [("rg_pub", 1.0)], P, off, span=1, drift=0,
                x_mode="sequential", out_median=450.0, truth="bench"))
        elif name == "bench_code":
            out.append(TemplateRecipe(
                list(T.BENCH_CODE_HARNESS), [("humaneval_pub", 1.0)], P, off, span=1, drift=0,
                x_mode="sequential", out_median=260.0, truth="bench"))
        elif name == "bench_tools":
            out.append(TemplateRecipe(
                ["<<X>>"], [("tools_pub", 1.0)], P, off, span=1, drift=0, tools=True,
                x_mode="sequential", out_median=90.0, truth="bench"))
        elif name == "jailbreak":
            out.append(TemplateRecipe(
                list(T.JAILBREAK_JOIN), [("jailbreak_b", 1.0)], P, off, span=2, y_pool="harm_b",
                raw_share=0.3, out_median=160.0, area=10, truth="jailbreak"))
        elif name == "student":
            out.append(TemplateRecipe(
                list(T.STUDENT), [("rg_pub", 0.6), ("code_b", 0.25), ("humaneval_pub", 0.15)], P,
                off, span=3, drift=0, out_median=700.0, truth="student"))
        elif name == "research":
            out.append(TemplateRecipe(
                list(T.RESEARCH), [("rg_pub", 0.6), ("humaneval_pub", 0.2), ("chat_b", 0.2)], P,
                off, span=2, drift=0, y_pool="answer_b", out_median=900.0, truth="research"))
        elif name == "ide_agent":
            sysc = tuple(T.IDE_AGENT_SYSTEM)
            out.append(TemplateRecipe(
                list(T.IDE_AGENT), [("code_b", 0.6), ("tools_b", 0.4)], P, off, span=2, drift=0,
                y_pool="words", tools=True, n_messages=(3, 40), system=sysc,
                acct_system=rng.integers(0, len(sysc), n), out_median=450.0, truth="ide_agent"))
        elif name == "internal":
            sysc = tuple(T.INTERNAL_ASSISTANT_SYSTEM)
            out.append(TemplateRecipe(
                list(T.INTERNAL_TEMPLATES), [("chat_b", 0.6), ("code_b", 0.4)], P, off, span=5, drift=0,
                system=sysc, acct_system=rng.integers(0, len(sysc), n), out_median=400.0, truth="internal"))
        elif name == "internal_reason":
            sysc = tuple(T.INTERNAL_ASSISTANT_SYSTEM)
            out.append(TemplateRecipe(
                list(T.INTERNAL_REASONING), [("chat_b", 0.5), ("rg_pub", 0.3), ("code_b", 0.2)], P, off,
                span=4, drift=0, system=sysc, acct_system=rng.integers(0, len(sysc), n),
                out_median=800.0, truth="internal"))
        elif name == "relay_chat":  # a different customer app's system prompt on each request
            sysc = (None,) * 4 + T.APP_SYSTEM + T.GENERIC_SYSTEM
            out.append(ChatRecipe("chat_b", P, system=sysc, acct_system=None, out_median=500.0, truth="chat"))
        elif name == "relay_agent":
            sysc = tuple(T.AGENT_DEV_SYSTEM) + T.IDE_AGENT_SYSTEM
            out.append(TemplateRecipe(
                ["<<X>>"], [("tools_b", 0.6), ("code_b", 0.4)], P, off, span=1, tools=True, n_messages=(1, 20),
                system=sysc, acct_system=None, out_median=300.0, truth="agent"))
        elif name == "rag":
            out.append(TemplateRecipe(
                list(T.RAG), [("chat_b", 1.0)], P, off, span=1, drift=0, y_pool="answer_b",
                system=(None, None) + T.APP_SYSTEM[:3], acct_system=rng.integers(0, 5, n),
                out_median=260.0, truth="rag"))
        elif name == "judge":
            judges = list(T.JUDGE_SERVICE) + [T.RESEARCH[2]]
            out.append(TemplateRecipe(
                judges, [("chat_b", 1.0)], P, off, span=1, drift=0, y_pool="answer_b",
                out_median=70.0, area=7, truth="judge"))
        elif name == "safety":
            out.append(TemplateRecipe(
                list(T.SAFETY_EVAL), [("harm_b", 0.6), ("jailbreak_b", 0.4)], P, off, span=2, drift=0,
                y_pool="harm_b", x_mode="sequential", out_median=140.0, area=6, truth="safety"))
        else:  # pragma: no cover - guarded by PersonaDef definitions
            raise ConfigError(f"unknown benign recipe '{name}'")
    return out


def _emails(rng: np.random.Generator, ctx: LabCtx, kind: str, n: int, org: np.ndarray) -> list[str]:
    words = ctx.pools.text["words"].to_pylist()
    if kind == "consumer":
        return list(choice(rng, CONSUMER_MAIL, n))
    if kind == "mixed":
        base = list(choice(rng, CONSUMER_MAIL, n))
        from distillguard.sim.infra import DISPOSABLE_MAIL

        for i in np.flatnonzero(rng.random(n) < 0.3):
            base[i] = DISPOSABLE_MAIL[int(rng.integers(0, len(DISPOSABLE_MAIL)))]
        return base
    if kind == "edu":
        # one university per org / cohort
        uni = rng.integers(0, len(EDU_DOMAINS), int(org.max()) + 1)
        return [EDU_DOMAINS[uni[o]] for o in org]
    doms = company_domains(rng, words, int(org.max()) + 1)
    out = [doms[o] for o in org]
    if kind == "sso":  # accounts provisioned by the company's identity provider
        return out
    # some employees sign up with personal addresses
    for i in np.flatnonzero(rng.random(n) < 0.15):
        out[i] = "gmail.com"
    return out


def build_persona(ctx: LabCtx, spec: PersonaSpec) -> Group:
    """All accounts of one benign persona in one lab."""
    base = PERSONAS[spec.name]
    try:
        d = dataclasses.replace(base, **spec.knobs) if spec.knobs else base
    except TypeError as exc:
        raise ConfigError(f"persona '{spec.name}': {exc}") from exc
    rng = ctx.rng("persona", spec.name)
    vol = ctx.lab.benign_volume
    n = max(2, int(round(spec.accounts * ctx.scale * vol)))
    events = spec.events * ctx.scale * vol
    # organisations / cohorts
    lo, hi = d.org_size
    if d.cohorts:
        sizes = rng.integers(8, 40, size=n)
    else:
        sizes = rng.integers(lo, hi + 1, size=n)
    org = np.repeat(np.arange(n), sizes)[:n]
    n_org = int(org.max()) + 1
    org_ids = ["org-" + s[5:] for s in account_ids(ctx, spec.name + "/org", n_org)]
    country = choice(rng, d.countries, n_org)[org] if (hi > 1 or d.cohorts) else choice(rng, d.countries, n)
    tz = np.array([COUNTRY_TZ.get(c, 0.0) for c in country]) + rng.normal(0, 0.5, n)
    # sign-up: old accounts, and a share created during the timeline (cohorts together)
    age = rng.exponential(300 * DAY_US, n_org).astype(np.int64)[org]
    created = ctx.t0 - age - rng.integers(0, DAY_US, n)
    new = rng.random(n_org)[org] < d.new_accounts
    burst_t = ctx.t0 + rng.integers(0, int(ctx.days * 0.9) * DAY_US, n_org)[org]
    if d.provision_hours > 0:  # directory sync creates the whole org within hours
        spread = rng.exponential(d.provision_hours * 3600 * US(), n).astype(np.int64)
    elif d.cohorts:
        spread = rng.exponential(3600 * US(), n).astype(np.int64)
    else:
        spread = rng.integers(0, 5 * DAY_US, n)
    created = np.where(new, burst_t + spread, created)
    start = np.maximum(ctx.t0, created + rng.exponential(1800 * US(), n).astype(np.int64))
    end = np.full(n, NEVER, np.int64)
    if d.banned:
        b = rng.random(n) < d.banned
        life = rng.exponential(5 * DAY_US, n).astype(np.int64)
        end = np.where(b, np.maximum(start, ctx.t0) + life, end)
    active_p = rng.uniform(*d.active_p, n)
    raw = rng.lognormal(0.0, d.rate_sigma, n)
    rate = calibrate_rates(raw, active_p, start, end, ctx, events, d.weekend)
    rh_names = choice(rng, d.rhythm, n)
    rhythm = np.array([RHYTHMS[r] for r in rh_names], np.int8)
    if "batch" in d.rhythm:
        # batch jobs run at a fixed hour; the tz field holds the job's UTC start hour
        job_hour = (rng.choice([1.0, 2.0, 3.0, 22.0, 0.0, 13.0], n) - tz) % 24
        tz = np.where(rhythm == RHYTHMS["batch"], job_hour, tz)
    gap = rng.uniform(*d.gap, n)
    tiers = list(choice(rng, d.tiers, n))
    rpm = np.array([TIER_RPM[t] for t in tiers], np.int32)
    n_keys = rng.integers(d.n_keys[0], d.n_keys[1] + 1, n)
    ids = account_ids(ctx, spec.name, n)
    keys, key_off = api_keys(ctx, ids, n_keys)
    # clients: an org standardises on one client, people pick their own
    ua, ja4 = clients_table(rng, d.clients, max(4, n_org * 2 if hi > 1 else n * 2))
    if hi > 1 or d.cohorts:
        c1 = (org * 2) % len(ua)
    else:
        c1 = rng.integers(0, len(ua), n)
    acct_client = np.stack([c1, rng.integers(0, len(ua), n)], axis=1)
    client2 = np.where(rng.random(n) < d.clients_per_account, rng.uniform(0.05, 0.4, n), 0.0)
    # network
    countries = tuple(sorted(set(country)))
    pool = ip_pool_mix(rng, d.ip, max(64, n * 3 if hi == 1 else n_org * 4), countries, d.v6)
    mob = make_ip_pool(rng, "mobile", max(32, n // 2), countries=countries, v6_share=0.35)
    from distillguard.sim.build import concat_pools

    ips = concat_pools(pool, mob)
    home = home_ips(rng, ips, country, 0, len(pool))
    if hi > 1 or d.cohorts:  # an org egresses through the same addresses
        home = home[np.searchsorted(org, org)]
    mobile_end = len(ips)
    if d.org_egress:  # a company's own block, not one shared with other companies
        first = np.searchsorted(org, np.arange(n_org))
        eg = [make_ip_pool(rng, "corporate", 8, countries=(str(country[f]),), n_subnets=1) for f in first]
        eg_base = len(ips)
        ips = concat_pools(ips, *eg)
        home = eg_base + 8 * org[:, None] + rng.integers(0, 8, (n_org, 3))[org]
    mobile_share = rng.uniform(*d.mobile, n)
    modes = list(d.ip_mode)
    ip_mode = np.array(modes, np.int8)[rng.choice(len(modes), n, p=np.array(list(d.ip_mode.values())) / sum(d.ip_mode.values()))]
    adopt, new_share = adoption(rng, ctx, n, d.adopt[0], d.adopt[1], (d.adopt[2], d.adopt[3]), start)
    n_old = len(ctx.models.names) - 1
    w = np.array(ctx.lab.model_weights, float)
    old_pref = rng.choice(n_old, n, p=w / w.sum())
    temp, talt, mx, malt = settings(rng, d.temps, d.maxes, n)
    recipes = benign_recipes(d.recipes, ctx, n, rng)
    rw = np.array([x for _, x in d.recipes], float)
    per = rng.dirichlet(rw * d.mix_concentration + 0.05, n)
    cw = np.cumsum(per, axis=1)
    # payment: an org shares a corporate card, people have their own
    bins = rng.integers(0, 20, n_org)
    from distillguard.sim.infra import CARD_BINS, VIRTUAL_BINS

    pay: list[str | None]
    if d.org_card:
        pay = [card(rng, CARD_BINS[bins[o]], int(o * 7919 % 10_000), ctx.lab.processor + str(ctx.seed) + spec.name) for o in org]
    else:
        # some people pay with virtual cards (privacy-focused issuers) like resellers do
        allb = CARD_BINS + VIRTUAL_BINS
        cb = np.where(rng.random(n) < 0.08, rng.integers(len(CARD_BINS), len(allb), n), rng.integers(0, len(CARD_BINS), n))
        l4 = rng.integers(0, 10_000, n)
        pay = [card(rng, allb[cb[i]], int(l4[i]), ctx.lab.processor + str(ctx.seed) + spec.name + str(i)) for i in range(n)]
    for i in np.flatnonzero(np.array([t in ("free", "education") for t in tiers]) & (rng.random(n) < 0.85)):
        pay[i] = None  # free / education accounts often have no card on file
    email: list[str | None] = list(_emails(rng, ctx, d.email, n, org))
    day_mult = {}
    if d.release_boost != 1.0:
        rd = int((ctx.release - ctx.t0) // DAY_US)
        day_mult = {rd: d.release_boost, rd + 1: max(1.0, d.release_boost / 2)}
    return Group(
        name=spec.name,
        attack=np.zeros(len(recipes), bool),
        recipes=recipes,  # type: ignore[arg-type]
        recipe_cw=cw,
        ids=ids,
        created=created.astype(np.int64),
        start=start.astype(np.int64),
        end=end,
        rate=rate,
        active_p=active_p,
        rhythm=rhythm,
        tz=tz,
        gap=gap,
        sess_len=d.sess_len,
        rpm=rpm,
        keys=keys,
        key_off=key_off,
        n_keys=n_keys,
        ua=ua,
        ja4=ja4,
        acct_client=acct_client,
        client2_p=client2,
        ips=ips,
        ip_mode=ip_mode,
        ip_home=home,
        mobile=(len(pool), mobile_end),
        mobile_share=mobile_share,
        adopt=adopt,
        new_share=new_share,
        old_pref=old_pref,
        temp=temp,
        temp_alt=talt,
        max_tok=mx,
        max_tok_alt=malt,
        fixed_p=np.full(n, d.fixed_p),
        out_mult=rng.uniform(*d.out_mult, n),
        email=email,
        payment=pay,
        country=list(country),
        org=[org_ids[o] for o in org],
        tier=tiers,
        label="benign",
        campaign=None,
        actor=None,
        persona=[spec.name] * n,
        weekend=d.weekend,
        day_mult=day_mult,
        zdr=(rng.random(n_org)[org] < d.zdr) if d.zdr else None,
    )


def US() -> int:
    return 1_000_000
