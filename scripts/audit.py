"""Check the pinned dependency set (requirements.lock) against known vulnerabilities.

Run by scripts/test: `.venv/bin/python scripts/audit.py`. pip-audit asks an advisory
service on the internet. When it cannot (no network, or a package index without the
advisory API, which answers "not found" for every package and so proves nothing), this
prints one line starting with "skipped: advisory service unreachable" and succeeds; when
it can, any known vulnerability fails the run (exit status 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"
TIMEOUT = 120  # seconds for the whole audit
REQUEST_TIMEOUT = 10  # seconds per request to the service
# What pip-audit's failure says when the service could not be reached.
NETWORK_ERRORS = ("ConnectionError", "ProxyError", "Timeout", "NameResolution", "Max retries", "SSLError")


def verdict(report: dict | None, error: str = "") -> tuple[int, list[str]]:
    """(exit status, lines to print) for pip-audit's JSON report (None: it gave none, and
    ``error`` says why)."""
    if report is None:
        if any(marker in error for marker in NETWORK_ERRORS):
            return 0, [f"skipped: advisory service unreachable ({error})"]
        return 1, [f"pip-audit failed: {error or 'no report'}"]
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    if deps and len(skipped) == len(deps):
        reason = skipped[0]["skip_reason"]
        return 0, [
            f"skipped: advisory service unreachable (none of the {len(deps)} packages could be "
            f"audited, e.g. {reason!r})"
        ]
    lines, status = [], 0
    for dep in deps:
        for vuln in dep.get("vulns", []):
            status = 1
            fixed = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            lines.append(f"VULNERABLE: {dep['name']} {dep.get('version', '')}: {vuln.get('id')} (fixed in {fixed})")
    for dep in skipped:
        lines.append(f"not audited: {dep['name']}: {dep['skip_reason']}")
    audited = len(deps) - len(skipped)
    lines.append(
        f"{audited} packages audited, {sum(len(d.get('vulns', [])) for d in deps)} known vulnerabilities"
        + (f", {len(skipped)} not audited" if skipped else "")
    )
    return status, lines


def main() -> int:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(LOCK),
        "--no-deps",  # the lock file pins every package already
        "--disable-pip",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        str(REQUEST_TIMEOUT),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        report, error = None, f"Timeout: no answer within {TIMEOUT} s"
    else:
        try:
            report, error = json.loads(done.stdout), ""
        except ValueError:
            last = [line for line in done.stderr.strip().splitlines() if line.strip()][-1:] or ["no output"]
            report, error = None, last[0][:200]
    status, lines = verdict(report, error)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
