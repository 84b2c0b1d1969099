"""The pinned dependency set and the vulnerability check that scripts/test runs."""

from __future__ import annotations

import importlib.util
import re
import tomllib

from server import ROOT

spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned_in_the_lock_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned to one version: {line}"
            pins[_name(name)] = version
    assert sorted(wanted - set(pins)) == [], "run scripts/lock"
    assert {"bandit", "pip-audit"} <= set(pins)


def test_an_unreachable_service_is_a_visible_skip_not_a_pass():
    everything_unknown = {
        "dependencies": [
            {"name": "fastapi", "skip_reason": "Dependency not found on PyPI and could not be audited: fastapi (1)"},
            {"name": "uvicorn", "skip_reason": "Dependency not found on PyPI and could not be audited: uvicorn (1)"},
        ]
    }
    status, lines = audit.verdict(everything_unknown)
    assert status == 0 and lines[0].startswith("skipped: advisory service unreachable")
    status, lines = audit.verdict(None, "requests.exceptions.ConnectionError: Max retries exceeded")
    assert status == 0 and lines[0].startswith("skipped: advisory service unreachable")


def test_a_known_vulnerability_fails_and_so_does_a_broken_audit():
    report = {
        "dependencies": [
            {"name": "fastapi", "version": "0.1", "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["0.2"]}]},
            {"name": "uvicorn", "version": "0.30", "vulns": []},
        ]
    }
    status, lines = audit.verdict(report)
    assert status == 1 and "VULNERABLE: fastapi 0.1: PYSEC-0000-1 (fixed in 0.2)" in lines
    assert audit.verdict({"dependencies": [{"name": "uvicorn", "version": "0.30", "vulns": []}]})[0] == 0
    assert audit.verdict(None, "ValueError: bad requirement")[0] == 1  # not a network problem: fail
