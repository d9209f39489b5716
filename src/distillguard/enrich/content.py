"""Content classifiers: what a prompt asks for, robust to paraphrase and language.

Distillation needs particular *kinds* of answers: full reasoning traces (chain-of-thought
elicitation), grades and preferences (a reward model to train against), answers to
sensitive questions rewritten to slip past refusals, and synthetic training data. A regex
list catches one phrasing in one language; these classifiers are learned from the
hand-written multilingual example set shipped in ``data/content_examples.yaml`` using
character n-grams (so they transfer across scripts and inflections without tokenisers or
downloads) and a linear model. They are trained in well under a second at first use,
deterministically, and applied only to the per-account content sample, never per event.

Each prompt is classified on its head and its tail window separately and the larger
probability kept: a template puts its instruction at one end and the payload (which would
dilute a whole-prompt representation) in the middle.

False positives to expect: tutoring and education traffic legitimately asks for
step-by-step explanations; evaluation harnesses ask for grades. That is why these are
*evidence* for the scorer, weighed with behaviour, never verdicts on their own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl
import yaml
from sklearn.linear_model import LogisticRegression

from distillguard.enrich._ngrams import feature_matrix, linear_scores
from distillguard.errors import ConfigError

INTENTS: tuple[str, ...] = ("cot", "rubric", "rewrite", "synth")
AREAS: tuple[str, ...] = ("math", "code", "logic", "writing", "knowledge", "chat", "tools")
WINDOW_CHARS = 200


@dataclass(frozen=True)
class ContentModel:
    """Fitted content classifiers (one binary model per intent, one multi-class for areas)."""

    intent_coef: np.ndarray  # (n_intents, n_features), rows in INTENTS order
    intent_intercept: np.ndarray
    area_names: tuple[str, ...]
    area_coef: np.ndarray
    area_intercept: np.ndarray


def load_examples() -> dict[str, dict[str, list[str]]]:
    """The shipped example set; a broken file stops the run (never silently empty)."""
    try:
        text = resources.files("distillguard.enrich").joinpath(
            "data/content_examples.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        intents = {k: [str(x) for x in v] for k, v in data["intents"].items()}
        areas = {k: [str(x) for x in v] for k, v in data["areas"].items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"content example set is unreadable: {exc}") from exc
    for name in (*INTENTS, "ordinary"):
        if not intents.get(name):
            raise ConfigError(f"content example set has no examples for intent '{name}'")
    return {"intents": intents, "areas": areas}


#: Wrapped copies of each intent example used in training (see :func:`wrapped_examples`).
WRAPS_PER_EXAMPLE = 2


def wrapped_examples(
    intents: dict[str, list[str]], payloads: list[str], *, per_example: int = WRAPS_PER_EXAMPLE,
    seed: int = 0,
) -> tuple[list[str], list[str], list[float]]:
    """The intent examples as the classifier meets them: inside a window with a payload.

    At inference each prompt is scored on its first and last ``WINDOW_CHARS`` characters,
    and an operation's template puts its instruction at one end of a payload (a problem,
    a question, an answer to grade) that fills the rest of the window. Trained on bare
    one-sentence instructions only, the n-gram weights of the instruction are diluted by
    the payload's (features are length-normalised), and a plainly worded "act as a reward
    model ... output JSON" template scored p ~0.4. So each example (``ordinary`` ones
    included, so that wrapping itself carries no signal) is also placed before and after
    random ordinary requests (``payloads``: the ``ordinary`` and area examples, every
    language) and cut to the head / tail window, and each payload window is also added on
    its own as ``ordinary`` (paired: only the instruction tells the two apart, so payload
    n-grams learn nothing). The wrapped copies of an example together weigh as much as
    the example itself, so short bare instructions stay as recognisable as before.
    Deterministic (fixed seed). Returns ``(texts, labels, sample weights)``.
    """
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    labels: list[str] = []
    weights: list[float] = []
    w = 1.0 / max(per_example, 1)
    for name, items in intents.items():
        for item in items:
            texts.append(item)
            labels.append(name)
            weights.append(1.0)
            for j in range(per_example):
                filler: list[str] = []
                while sum(len(f) + 1 for f in filler) < WINDOW_CHARS:
                    filler.append(payloads[int(rng.integers(len(payloads)))])
                body = " ".join(filler)
                if j % 2 == 0:  # instruction first: the head window
                    texts.append(f"{item} {body}"[:WINDOW_CHARS])
                else:  # instruction last: the tail window
                    texts.append(f"{body} {item}"[-WINDOW_CHARS:])
                labels.append(name)
                weights.append(w)
                if name != "ordinary":  # the same payload without the instruction:
                    texts.append(body[:WINDOW_CHARS])  # only the instruction differs
                    labels.append("ordinary")
                    weights.append(w)
    return texts, labels, weights


@functools.cache
def content_model() -> ContentModel:
    """Train (once per process) the content classifiers from the shipped examples."""
    ex = load_examples()
    payloads = list(ex["intents"]["ordinary"]) + [t for v in ex["areas"].values() for t in v]
    texts, labels, wts = wrapped_examples(ex["intents"], payloads,
                                          per_example=WRAPS_PER_EXAMPLE)
    weight = np.asarray(wts)
    x = feature_matrix(texts)
    y = np.array(labels)
    coefs, intercepts = [], []
    for name in INTENTS:
        m = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear")
        m.fit(x, (y == name).astype(int), sample_weight=weight)
        coefs.append(m.coef_[0])
        intercepts.append(m.intercept_[0])
    a_texts: list[str] = []
    a_labels: list[str] = []
    for name, items in ex["areas"].items():
        a_texts += items
        a_labels += [name] * len(items)
    xa = feature_matrix(a_texts)
    ya = np.array(a_labels)
    names = tuple(sorted(set(a_labels)))
    a_coefs, a_icpts = [], []
    for name in names:  # one-vs-rest with liblinear: deterministic and fast on 2^18 features
        m = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear")
        m.fit(xa, (ya == name).astype(int))
        a_coefs.append(m.coef_[0])
        a_icpts.append(m.intercept_[0])
    return ContentModel(
        np.array(coefs), np.array(intercepts), names, np.array(a_coefs), np.array(a_icpts)
    )


def classify_prompts(prompts: pl.Series, n_tools: pl.Series | None = None) -> pl.DataFrame:
    """Per prompt: probability of each intent (``p_cot`` ...) and its capability ``area``."""
    model = content_model()
    texts = prompts.fill_null("").to_list()
    n = len(texts)
    if n == 0:
        schema: dict[str, pl.DataType] = {f"p_{k}": pl.Float64() for k in INTENTS}
        schema["area"] = pl.String()
        return pl.DataFrame(schema=schema)
    # Three windows per prompt (head, tail, area); for a short prompt they are the same
    # string, so score each distinct window once with the intent and area models stacked.
    windows: dict[str, int] = {}
    idx = np.array([[windows.setdefault(w, len(windows)) for w in
                     (t[:WINDOW_CHARS], t[-WINDOW_CHARS:], t[:400])] for t in texts],
                   dtype=np.int64)
    ni = len(INTENTS)
    scores = linear_scores(list(windows), np.vstack([model.intent_coef, model.area_coef]),
                           np.concatenate([model.intent_intercept, model.area_intercept]))
    heads, tails = scores[idx[:, 0], :ni], scores[idx[:, 1], :ni]
    prob = 1.0 / (1.0 + np.exp(-np.maximum(heads, tails)))
    cols: dict[str, object] = {f"p_{name}": prob[:, i] for i, name in enumerate(INTENTS)}
    area_scores = scores[idx[:, 2], ni:]
    area = np.array(model.area_names)[area_scores.argmax(axis=1)]
    if n_tools is not None:
        has_tools = n_tools.fill_null(0).to_numpy() > 0
        area = np.where(has_tools, "tools", area)
    cols["area"] = area
    return pl.DataFrame(cols)
