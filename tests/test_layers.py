"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml
are complete and really refuse a forbidden import."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import server

ROOT = Path(server.__file__).resolve().parents[1]


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["name"]: c for c in config["contracts"]}


def test_the_hub_contract_names_every_other_module_of_server():
    contract = _contracts()["realtime (the hub) carries bytes and imports nothing else of server"]
    modules = {f"server.{m.name}" for m in pkgutil.iter_modules(server.__path__)}
    assert set(contract["forbidden_modules"]) == modules - {"server.realtime"}


def _lint(tree: Path) -> subprocess.CompletedProcess:
    linter = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(linter), "--no-cache"], cwd=tree, capture_output=True, text=True, env={"PYTHONPATH": str(tree)}
    )


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("realtime/hub.py", "import server.db", "realtime (the hub) carries bytes"),
        ("activities/gaps/tally.py", "import sqlalchemy", "pure cores import no framework"),
        ("activities/ranking/service.py", "import server.workshops.live", "activity kinds import nothing of workshops"),
        ("models/user.py", "import server.auth.service", "models import no feature"),
        ("workshops/service.py", "import server.app", "no feature imports the app"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "server", tree / "server", ignore=shutil.ignore_patterns("__pycache__", "locale", "data"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    assert _lint(tree).returncode == 0  # the copy itself keeps every contract
    target = tree / "server" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
