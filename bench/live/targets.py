"""Issue 15's targets, one line each: the target, what this run measured, met or not.

``target_lines(report)`` reads the figures ``live_gaps.py`` collected (its JSON report).
"Met?" is "yes" or "no" when the run was at the target's scale, "below scale" when the
figure is fine but the run was smaller than the target (e.g. 500 phones for 5,000), and
"not measured" when the run did not include it (the option to add is named).
"""

from __future__ import annotations

HALL = 5000  # phones on one process (P1, P2)
RATE = 5000  # ratings a second (P2)
HALL_K = 15000  # phones on three processes (P5)


def _verdict(ok: bool, at_scale: bool) -> str:
    if not ok:
        return "no"
    return "yes" if at_scale else "below scale"


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}{unit}" if isinstance(value, int | float) else f"{value}{unit}"


def _worst_second(report: dict) -> tuple[float | None, str]:
    worst, where = None, ""
    for phase in report.get("phases") or [report]:
        for second, value in enumerate(phase.get("ack_p99_by_second_ms") or []):
            if value is not None and (worst is None or value > worst):
                worst, where = value, f"phase {phase.get('phase', 1)}, second {second + 1}"
    return worst, where


def target_lines(report: dict) -> list[str]:
    rows: list[tuple[str, str, str]] = []
    phones = report.get("phones") or 0
    connected = report.get("phones_connected") or 0
    processes = report.get("processes", 1)
    one_process = processes == 1

    # P1 ---------------------------------------------------------------------------------
    rows.append(
        (
            "P1 5,000 phones joined and connected (one process)",
            f"{_fmt(connected)} of {_fmt(phones)} connected on {processes} process(es); "
            f"{_fmt(report.get('phones_dropped', 0))} dropped by the end"
            + (f" {report['phones_dropped_reasons']}" if report.get("phones_dropped") else ""),
            _verdict(connected == phones and not report.get("phones_dropped"), connected >= HALL)
            if one_process
            else "see P5",
        )
    )
    if report.get("http_joins_tried"):
        limits = "raised by the bench" if report.get("server_env") else "shipped (1,200/min, 2,000 per address)"
        refused = report.get("http_join_refused") or {}
        measured = (
            f"{_fmt(report.get('http_joins_per_second'))}/s: {_fmt(report.get('http_joins_done'))} of "
            f"{_fmt(report.get('http_joins_tried'))} in {report.get('http_join_seconds')} s, 5 requests each, "
            f"from 127.0.0.1; server CPU {report.get('http_join_server_cpu_ms')} ms a join "
            f"({report.get('http_join_server_cpu_percent')} % of a core); limits {limits}"
            + (f"; refused {refused}" if refused else "")
        )
        ok = (report.get("http_joins_per_second") or 0) >= 200 and report.get("http_joins_done") == report.get(
            "http_joins_tried"
        )
        rows.append(("P1 joins >= 200/s over HTTP from one address", measured, _verdict(ok, True)))
    else:
        rows.append(("P1 joins >= 200/s over HTTP from one address", "not measured (--http-joins M)", "—"))
    per_connection = report.get("server_kib_per_connection")
    rows.append(
        (
            "P1 server memory <= 40 KiB per connection",
            f"{_fmt(per_connection)} KiB (RSS growth / sockets held, {processes} process(es))",
            _verdict(per_connection is not None and per_connection <= 40, connected >= HALL),
        )
    )

    # P2 ---------------------------------------------------------------------------------
    phases = report.get("phases") or [report]
    rates = [p.get("votes_per_second") for p in phases]
    lost = sum((p.get("votes_unacknowledged") or 0) + (p.get("votes_rejected") or 0) for p in phases)
    rate = report.get("rate") or 0
    rows.append(
        (
            "P2 5,000 ratings/s acknowledged",
            f"{', '.join(_fmt(r) for r in rates)} acks/s (offered {_fmt(rate)}/s, by phase); "
            f"{lost} not acknowledged or refused; server CPU "
            f"{', '.join(_fmt(p.get('server_cpu_ms_per_ack')) for p in phases)} ms an ack",
            _verdict(lost == 0 and min(r or 0 for r in rates) >= 0.9 * rate, rate >= RATE and connected >= HALL),
        )
    )
    worst, where = _worst_second(report)
    by_phase = "; ".join(f"phase {p.get('phase', 1)}: {p.get('ack_p99_by_second_ms')}" for p in phases)
    rows.append(
        (
            "P2 ack p99 < 100 ms in every second (first included)",
            f"worst second {_fmt(worst)} ms ({where}); per second: {by_phase}",
            _verdict(worst is not None and worst < 100, rate >= RATE and connected >= HALL),
        )
    )
    ratio = report.get("websocket_path_ratio")
    if ratio is not None:
        ref, ans = report["saturate_reference"], report["saturate_answers"]
        rows.append(
            (
                "P2 websocket path >= 0.5 of the no-database message rate",
                f"{ratio} ({_fmt(ans['replies_per_second'])} acks/s vs {_fmt(ref['replies_per_second'])} refusals/s "
                f"of unreadable answers, closed loop on {ans['phones']} phones; server CPU a reply "
                f"{ans.get('server_cpu_ms_per_reply')} vs {ref.get('server_cpu_ms_per_reply')} ms)"
                + (
                    "; the reference ran at the client's cap of 15/s a phone: raise --saturate-phones"
                    if ref.get("at_client_cap")
                    else ""
                ),
                _verdict(ratio >= 0.5, connected >= HALL) if not ref.get("at_client_cap") else "not measured",
            )
        )
    else:
        rows.append(("P2 websocket path >= 0.5 of the no-database message rate", "not measured (--saturate S)", "—"))

    # P3 ---------------------------------------------------------------------------------
    finals = [p.get("final_tally_all_ms") for p in phases]
    rows.append(
        (
            "P3 final tally on every phone < 500 ms after the last ack",
            f"{', '.join(_fmt(f) for f in finals)} ms (by phase; — : some phone never had it)",
            _verdict(all(f is not None and f < 500 for f in finals), connected >= HALL),
        )
    )
    raw = report.get("raw_broadcast") or {}
    # From the trigger (the facilitator's POST; the reference's "go") to the last phone:
    # Minka's includes the control's write and up to one hub tick (0.25 s).
    minka = report.get("burst_deliveries_per_second")
    raw_rate = raw.get("deliveries_per_second")
    if minka and raw_rate:
        share = round(minka / raw_rate, 2)
        rows.append(
            (
                "P3 broadcast deliveries/s >= 0.6 of raw websockets.broadcast",
                f"{share}: Minka {_fmt(minka)} phones/s (a reveal, POST to the last of "
                f"{_fmt(report.get('burst_phones', connected))} phones still open: "
                f"{report.get('burst_to_last_median_ms')} ms; first to last {report.get('burst_spread_median_ms')} ms) "
                f"vs raw {_fmt(raw_rate)}/s (go to last {raw.get('to_last_median_ms')} ms; first to last "
                f"{raw.get('spread_median_ms')} ms); each phone got {raw.get('messages_per_broadcast', 1)} "
                f"message(s) of {raw.get('message_bytes')} characters from raw, "
                f"{report.get('burst_messages_per_phone')} ({_fmt(report.get('burst_chars_per_phone'))} characters) "
                "from a reveal",
                _verdict(share >= 0.6, connected >= HALL),
            )
        )
    else:
        rows.append(
            (
                "P3 broadcast deliveries/s >= 0.6 of raw websockets.broadcast",
                "not measured (--bursts N and --raw-rounds R)",
                "—",
            )
        )

    # Recovery -------------------------------------------------------------------------
    rows.append(("Recovery after kill and restart", "see bench/live_recovery.py", "—"))

    # P5 ---------------------------------------------------------------------------------
    database = report.get("database", "sqlite")
    if processes > 1:
        p2_p3 = [r[2] for r in rows if r[0].startswith(("P2 5,000", "P2 ack", "P3"))]
        rows.append(
            (
                "P5 3 processes on PostgreSQL + Redis hold 15,000 phones, same P2/P3 targets",
                f"{processes} processes on {database}{' + Redis' if report.get('redis') else ''}: "
                f"{_fmt(connected)} phones connected; P2/P3 lines above: {', '.join(p2_p3)}",
                _verdict(
                    connected == phones and not report.get("phones_dropped") and all(v != "no" for v in p2_p3),
                    connected >= HALL_K,
                ),
            )
        )
    else:
        rows.append(
            (
                "P5 3 processes on PostgreSQL + Redis hold 15,000 phones",
                "not measured (--processes 3 --pg URL --redis URL)",
                "—",
            )
        )
    if "console_counts" in report:
        shown, truth = report["console_counts"], report["console_truth"]
        measured = "; ".join(f"{k.replace('_', ' ')} {shown.get(k)} (truth {truth.get(k)})" for k in truth)
        rows.append(
            (
                "P5 console's counts exact" + (" across processes" if processes > 1 else ""),
                measured + f" — console on process 1 of {processes}",
                "yes" if report.get("console_exact") else "no",
            )
        )
    else:
        rows.append(("P5 console's counts exact", "not measured: " + report.get("console_error", "no console"), "—"))
    return [f"{target} | {measured} | {met}" for target, measured, met in rows]
