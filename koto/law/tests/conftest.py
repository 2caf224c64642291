"""Shared helpers for the koto.law tests (no database needed)."""

from __future__ import annotations

from datetime import date

import pytest

from koto.law import Facts, evaluate, parse_facts
from koto.law.models import Decision
from koto.law.params import clear_cache


def d(text: str) -> date:
    return date.fromisoformat(text)


def facts(**overrides: object) -> Facts:
    """A covered asylum-basis adult in 2025, changed by ``overrides`` (ISO strings ok)."""
    data: dict[str, object] = {
        "on": "2025-06-01",
        "birth_date": "1990-01-01",
        "residence_basis": "work",
        "first_permit_on": "2024-01-15",
    }
    data.update(overrides)
    return parse_facts({k: v for k, v in data.items() if v is not ...})


def decide(**overrides: object) -> Decision:
    return evaluate(facts(**overrides))


@pytest.fixture(autouse=True)
def _fresh_parameters(monkeypatch: pytest.MonkeyPatch):
    """Every test starts from the built-in parameter files only."""
    monkeypatch.delenv("KOTO_LAW_PARAMETERS_DIR", raising=False)
    clear_cache()
    yield
    clear_cache()
