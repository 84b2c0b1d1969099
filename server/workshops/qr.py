"""The QR code of a workshop's join address, as SVG (segno)."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> bytes:
    qr = segno.make(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=8, border=2, dark="#111", light="#fff", xmldecl=False, svgns=True)
    return buffer.getvalue()
