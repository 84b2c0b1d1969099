"""scripts/screenshots, as anyone re-runs it: from a fresh demo database it writes the
README's pictures, a projector (1280x720) and a phone (360x740) for each activity kind that
runs live, the console and the join form."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from server.app import make_registry

ROOT = Path(__file__).resolve().parents[2]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_the_screenshots_script_writes_every_picture(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is missing")
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    demo_kinds = {"gap_rating", "ranking", "roadmap"}  # the demo's agenda has these
    kinds = [k.key for k in make_registry() if k.key in demo_kinds]
    assert {"gap_rating", "ranking"} <= set(kinds)
    expected = {"console.png": (1280, 800), "join.png": (360, 740)}
    for kind in kinds:
        expected[f"projector-{kind}.png"] = (1280, 720)
        expected[f"phone-{kind}.png"] = (360, 740)
    expected["projector-gap_rating-hidden.png"] = (1280, 720)
    assert {p.name for p in tmp_path.iterdir()} == set(expected)
    for name, size in expected.items():
        assert png_size(tmp_path / name) == size, name
        assert (tmp_path / name).stat().st_size < 400_000, name  # small enough to commit
