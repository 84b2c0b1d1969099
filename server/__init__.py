"""Minka: live participatory workshops for value-chain and cluster programmes."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project root: templates/, static/ and migrations/ live beside the package."""
