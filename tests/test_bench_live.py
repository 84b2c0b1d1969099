"""bench/live_gaps.py's issue-15 parts keep working (not timed: no figure is checked,
only that the options exist and each target gets its line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

from live.console import counts_of  # noqa: E402
from live.reference import text_of  # noqa: E402
from live.targets import target_lines  # noqa: E402


def test_the_hall_options_are_offered():
    done = subprocess.run(
        [sys.executable, str(BENCH / "live_gaps.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for option in ("--phases", "--http-joins", "--saturate", "--bursts", "--raw-rounds", "--processes", "--pg"):
        assert option in done.stdout


def test_several_processes_need_postgresql_and_redis():
    done = subprocess.run(
        [sys.executable, str(BENCH / "live_gaps.py"), "--processes", "3"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "--pg and --redis" in done.stderr


def test_the_console_counts_are_read_in_any_language():
    html = "<dl><div><dt>Joined</dt><dd>5000</dd></div><div><dt>Conectados</dt><dd>4 998</dd></div>"
    html += "<div><dt>Answered</dt><dd>1,234</dd></div></dl>"
    assert counts_of(html) == {"joined": 5000, "connected_now": 4998, "answered": 1234}
    assert counts_of("") == {"joined": None, "connected_now": None, "answered": None}


def test_the_raw_reference_broadcasts_a_text_of_the_asked_size():
    text = text_of(7, 2000)
    assert len(text) == 2000
    assert '"seq": 7' in text


def test_every_target_has_a_line_measured_or_not():
    lines = target_lines({"phones": 500, "phones_connected": 500, "rate": 500, "processes": 1})
    targets = [line.split(" | ")[0] for line in lines]
    assert len(lines) == 11
    assert all(line.count(" | ") == 2 for line in lines)
    assert any(t.startswith("P1 joins") for t in targets)
    assert any(t.startswith("Recovery") for t in targets)
    assert "not measured (--http-joins M)" in lines[1]


def test_a_small_run_is_below_scale_and_a_miss_is_a_no():
    phase = {"phase": 1, "votes_per_second": 500, "ack_p99_by_second_ms": [40.0, 60.0], "final_tally_all_ms": 200.0}
    report = {"phones": 500, "phones_connected": 500, "rate": 500, "processes": 1, "phases": [phase]}
    report["server_kib_per_connection"] = 30.0
    lines = {line.split(" | ")[0]: line.split(" | ")[2] for line in target_lines(report)}
    assert lines["P2 ack p99 < 100 ms in every second (first included)"] == "below scale"
    phase["ack_p99_by_second_ms"] = [700.0, 60.0]
    lines = {line.split(" | ")[0]: line for line in target_lines(report)}
    assert lines["P2 ack p99 < 100 ms in every second (first included)"].endswith("| no")
    assert "700 ms (phase 1, second 1)" in lines["P2 ack p99 < 100 ms in every second (first included)"]


def test_a_reference_held_back_by_the_client_is_not_a_figure():
    saturate = {"phones": 100, "replies_per_second": 1450.0, "server_cpu_ms_per_reply": 0.2, "at_client_cap": True}
    report = {"phones": 500, "phones_connected": 500, "rate": 500, "processes": 1, "websocket_path_ratio": 0.9}
    report.update(saturate_reference=saturate, saturate_answers={**saturate, "at_client_cap": False})
    line = next(line for line in target_lines(report) if line.startswith("P2 websocket path"))
    assert line.endswith("| not measured")
    assert "raise --saturate-phones" in line
