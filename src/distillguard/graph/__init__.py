"""Account linking: hydra clusters, score propagation, campaigns and attribution.

Public surface::

    from distillguard.graph import link_accounts, summarize_campaigns, LinkResult, Cluster
"""

from typing import TYPE_CHECKING

from distillguard.graph.link import (
    Cluster,
    GraphConfig,
    LinkResult,
    SharedEntity,
    link_accounts,
)

if TYPE_CHECKING:  # resolved lazily at run time by __getattr__ below
    from distillguard.graph.campaigns import summarize_campaigns

__all__ = [
    "Cluster",
    "GraphConfig",
    "LinkResult",
    "SharedEntity",
    "link_accounts",
    "summarize_campaigns",
]


def __getattr__(name: str) -> object:
    # campaigns.py pulls in the price table; import lazily to keep `import graph` light
    if name == "summarize_campaigns":
        from distillguard.graph.campaigns import summarize_campaigns

        return summarize_campaigns
    raise AttributeError(name)
