"""Stage 1: per-event enrichment, a pure function over Arrow record batches.

:func:`enrich_frame` (polars) / :func:`enrich_batch` (Arrow) turn canonical events into

**the enriched narrow event frame** -- one row per event, no prompt text:

=====================  ===========  ==================================================
column                 type         meaning
=====================  ===========  ==================================================
account_id             str
ts                     datetime UTC
model                  categorical  (cast to str where a string is needed)
api_key_id             str | null
client_ip              str | null
asn                    int64 | null
user_agent             categorical | null
tls_fingerprint        categorical | null
system_prompt_hash     uint64|null  xxhash-style hash of the system prompt text
tpl_head, tpl_tail     uint64|null  hash of the prompt skeleton (numbers, names, code,
                                    quoted text abstracted) of its head / tail window
template_id            uint64|null  template family of the prompt; added in stage 2
                                    (``aggregate.templates.resolve_templates``): the head
                                    or tail skeleton that is a real template, else null
prompt_hash            uint64|null  exact prompt hash (null if no prompt)
prompt_chars           int32|null   prompt length in characters
n_messages, n_tools    int32|null
input_tokens           int64
output_tokens          int64
max_tokens             int64|null
temperature            float64|null
status                 int32|null
=====================  ===========  ==================================================

(``event_id`` is dropped: nothing downstream needs it and it is the widest column) and a
small **content sample** (a few prompts per account, by hash of event id; prompt
text truncated) for the content classifiers in :mod:`distillguard.enrich.content`.
"""

from distillguard.enrich._enrich import (
    HASH_SEED,
    INPUT_COLUMNS,
    enrich_batch,
    enrich_frame,
)
from distillguard.enrich._skeleton import SkeletonCache, skeleton_expr

__all__ = ["HASH_SEED", "INPUT_COLUMNS", "SkeletonCache", "enrich_batch", "enrich_frame",
           "skeleton_expr"]
