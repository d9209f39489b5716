"""Self-contained HTML report of a scan (plots as inline SVG)."""

from distillguard.report._html import render_report

__all__ = ["render_report"]
