"""Tiny hand-written inline-SVG charts (no plotting dependency): lines and bars."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def line_chart(
    xs: Sequence[float], series: dict[str, Sequence[float]], *, width: int = 860,
    height: int = 260, markers: Sequence[tuple[float, str]] = (), x_labels: Sequence[tuple[float, str]] = (),
    title: str = "",
) -> str:
    """Lines over a shared x axis; ``markers`` are labelled vertical lines (e.g. releases)."""
    pad_l, pad_b, pad_t = 50, 30, 24
    if not xs:
        return "<p><em>no data</em></p>"
    x0, x1 = min(xs), max(xs)
    ymax = max((max(v) for v in series.values() if len(v)), default=1) or 1
    sx = (width - pad_l - 10) / ((x1 - x0) or 1)
    sy = (height - pad_b - pad_t) / ymax

    def px(x: float) -> float:
        return pad_l + (x - x0) * sx

    def py(y: float) -> float:
        return height - pad_b - y * sy

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<text x="{pad_l}" y="14" font-size="12">{escape(title)}</text>',
             f'<line x1="{pad_l}" y1="{py(0)}" x2="{width - 10}" y2="{py(0)}" stroke="#888"/>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{py(0)}" stroke="#888"/>',
             f'<text x="4" y="{pad_t + 8}" font-size="10">{ymax:,.0f}</text>']
    for i, (name, ys) in enumerate(series.items()):
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
        c = PALETTE[i % len(PALETTE)]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.3" points="{pts}"/>')
        parts.append(f'<text x="{width - 200}" y="{pad_t + 12 * i}" font-size="11" fill="{c}">'
                     f'{escape(name)}</text>')
    for x, label in markers:
        parts.append(f'<line x1="{px(x):.1f}" y1="{pad_t}" x2="{px(x):.1f}" y2="{py(0)}" '
                     f'stroke="#d62728" stroke-dasharray="4,3"/>')
        parts.append(f'<text x="{px(x) + 3:.1f}" y="{pad_t + 10}" font-size="10" '
                     f'fill="#d62728">{escape(label)}</text>')
    for x, label in x_labels:
        parts.append(f'<text x="{px(x):.1f}" y="{height - 10}" font-size="10" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, width: int = 860, height: int = 220,
    title: str = "", highlight_from: int | None = None, log: bool = False,
) -> str:
    """Vertical bars; bars from index ``highlight_from`` on are drawn in red."""
    import math

    pad_l, pad_b, pad_t = 50, 30, 24
    if not values:
        return "<p><em>no data</em></p>"
    tr = [math.log10(1 + v) if log else v for v in values]
    ymax = max(tr) or 1
    bw = (width - pad_l - 10) / len(values)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<text x="{pad_l}" y="14" font-size="12">{escape(title)}</text>']
    for i, (lab, v, t) in enumerate(zip(labels, values, tr, strict=True)):
        h = (height - pad_b - pad_t) * t / ymax
        c = "#d62728" if highlight_from is not None and i >= highlight_from else "#1f77b4"
        x = pad_l + i * bw
        parts.append(f'<rect x="{x:.1f}" y="{height - pad_b - h:.1f}" width="{bw * 0.9:.1f}" '
                     f'height="{h:.1f}" fill="{c}"><title>{escape(lab)}: {v:,.0f}</title></rect>')
        if i % max(1, len(values) // 10) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 10}" font-size="10">{escape(lab)}</text>')
    parts.append("</svg>")
    return "".join(parts)
