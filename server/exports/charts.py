"""Small SVG charts for the PDF report: one horizontal bar per row, drawn beside the row's
text in the report's table (the labels stay HTML, escaped by the template). Pure."""

from __future__ import annotations

from markupsafe import Markup

WIDTH, HEIGHT = 160, 12


def bar(value: float | None, maximum: float, *, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """A bar of ``value`` over ``maximum`` (an empty frame when there is no value)."""
    share = 0.0 if value is None or maximum <= 0 else max(0.0, min(1.0, value / maximum))
    filled = round(share * (width - 2), 1)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-hidden="true">'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#ffffff" stroke="#9aa8b5"/>'
        f'<rect x="1" y="1" width="{filled}" height="{height - 2}" fill="#2f6f9f"/></svg>'
    )


def stacked(counts: list[int], *, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """The distribution 1..5 as one bar of five shades (lightest: 1, darkest: 5)."""
    shades = ("#e3edf5", "#b9d0e3", "#86aecd", "#4f86b3", "#1f5a88")
    total = sum(counts) or 1
    x, parts = 0.0, []
    for n, shade in zip(counts, shades, strict=False):
        w = (width - 2) * n / total
        parts.append(f'<rect x="{1 + x:.1f}" y="1" width="{w:.1f}" height="{height - 2}" fill="{shade}"/>')
        x += w
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-hidden="true"><rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" '
        f'fill="#ffffff" stroke="#9aa8b5"/>{"".join(parts)}</svg>'
    )
