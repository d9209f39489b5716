"""Prompt skeletons: the fixed part of a templated prompt, with the payload abstracted away.

Distillation at scale is templated: an operation wraps millions of varied payloads (a maths
problem, a code task, a sensitive query) in a handful of instruction templates ("Solve the
following step by step ... {problem} ... show your reasoning"). A skeleton keeps the
template and drops what varies: numbers, quoted text, code, capitalised names, whitespace
runs. Hashing the skeleton of the *head* and of the *tail* of a prompt separately catches
both prefix templates ("Answer step by step: {x}") and suffix templates ("{x}\\n\\nThink
carefully and explain each step"), without any per-event Python.

Everything here is a polars expression, so it runs vectorised over Arrow batches (and maps
1:1 onto Spark SQL ``regexp_replace`` / ``xxhash64`` later).
"""

from __future__ import annotations

import polars as pl

#: Characters of the raw prompt looked at for the head/tail skeletons. Templates put their
#: fixed instruction text in the first or last sentence or two; longer windows only add
#: payload noise and cost (the regexes below are the most expensive step of enrichment).
HEAD_CHARS = 100
TAIL_CHARS = 100
#: Characters of the *skeleton* that are hashed.
SKELETON_CHARS = 56

# Order matters: code and quotes go first so their digits/names never reach later rules.
_RULES: tuple[tuple[str, str], ...] = (
    (r"```[^`]*(?:```|$)|`[^`]*`", " C "),  # fenced (possibly cut by the window) or inline code
    (r"\"[^\"]*\"|“[^”]*”|«[^»]*»|「[^」]*」", " Q "),  # quoted text
    (r"([a-z,;:] )[A-Z][a-zA-Z]+", "${1}N"),  # capitalised name mid-sentence
    (r"[0-9]+(?:[.,][0-9]+)*", "0"),  # numbers
    # whitespace runs; single spaces are left alone (matching every space doubles the cost),
    # and the ASCII class is used because the unicode \s is ~10x slower
    (r"[ \t\r\n]{2,}|[\t\r\n]", " "),
)


def skeleton_expr(text: pl.Expr) -> pl.Expr:
    """Normalised skeleton of ``text``: numbers, code, quotes and names abstracted."""
    out = text
    for pattern, repl in _RULES:
        out = out.str.replace_all(pattern, repl)
    return out.str.to_lowercase().str.strip_chars()


def head_skeleton_expr(prompt: pl.Expr) -> pl.Expr:
    return skeleton_expr(prompt.str.head(HEAD_CHARS)).str.head(SKELETON_CHARS)


def tail_skeleton_expr(prompt: pl.Expr) -> pl.Expr:
    return skeleton_expr(prompt.str.tail(TAIL_CHARS)).str.tail(SKELETON_CHARS)
