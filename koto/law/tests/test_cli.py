"""``python -m koto.law evaluate`` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOOD = {
    "on": "2025-06-01",
    "birth_date": "1990-01-01",
    "residence_basis": "asylum",
    "first_permit_on": "2024-01-15",
    "home_municipality_on": "2024-02-01",
}


def run(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "koto.law", "evaluate", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_cli__single_prints_decision() -> None:
    proc = run(json.dumps(GOOD).encode())
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    assert decision["covered"] is True
    assert decision["target_groups"] == ["international_protection"]
    assert decision["compensation"]["ends_on"] == "2026-01-31"
    assert proc.stderr == b""


@pytest.mark.parametrize(
    ("stdin", "field"),
    [
        pytest.param(
            json.dumps({k: v for k, v in GOOD.items() if k != "birth_date"}).encode(),
            b"birth_date",
            id="missing_field",
        ),
        pytest.param(
            json.dumps({**GOOD, "residence_basis": "pirate"}).encode(),
            b"residence_basis",
            id="unknown_basis",
        ),
        pytest.param(
            json.dumps({**GOOD, "first_permit_on": "1980-01-01"}).encode(),
            b"first_permit_on",
            id="date_order",
        ),
        pytest.param(b"{not json", b"input", id="invalid_json"),
        pytest.param(b"", b"input", id="empty_input"),
        pytest.param(b"[1,2,3]", b"input", id="not_an_object"),
        pytest.param(
            json.dumps({**GOOD, "welfare_service_needs": "true"}).encode(),
            b"welfare_service_needs",
            id="wrong_type",
        ),
    ],
)
def test_cli__single_bad_input_exit_2_field_named(stdin: bytes, field: bytes) -> None:
    proc = run(stdin)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert field in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_cli__jsonl_bad_line_in_the_middle() -> None:
    lines = [
        json.dumps(GOOD),
        json.dumps({**GOOD, "on": "2025-13-01"}),
        "",
        "{broken",
        json.dumps({**GOOD, "residence_basis": "quota_refugee"}),
    ]
    proc = run(("\n".join(lines) + "\n").encode(), "--jsonl")
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr
    assert b"2 of 5 lines failed" in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 4  # the blank line is skipped
    assert out[0]["covered"] is True
    assert out[1] == {"error": {"line": 2, "field": "on", "message": out[1]["error"]["message"]}}
    assert out[2]["error"]["line"] == 4
    assert out[2]["error"]["field"] is None
    assert out[3]["compensation"]["period_years"] == 4  # began 2024: old length, shortened


def test_cli__jsonl_all_good_exit_0_and_last_line_without_newline() -> None:
    lines = [json.dumps(GOOD)] * 3
    proc = run("\n".join(lines).encode(), "--jsonl")
    assert proc.returncode == 0
    assert proc.stderr == b""
    assert len(proc.stdout.splitlines()) == 3


def test_cli__jsonl_equals_single_mode() -> None:
    single = run(json.dumps(GOOD).encode()).stdout
    many = run((json.dumps(GOOD) + "\n").encode(), "--jsonl").stdout
    assert single == many


def test_cli__jsonl_streams_before_input_ends() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "koto.law", "evaluate", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write((json.dumps(GOOD) + "\n").encode())
        proc.stdin.flush()
        first = proc.stdout.readline()  # answered while stdin is still open
        assert json.loads(first)["covered"] is True
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()


def test_cli__usage_error_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "koto.law"], capture_output=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr


def test_cli__on_before_the_first_period_exit_2() -> None:
    # 1386/2010 was not in force before 1.9.2011: a clear error, no decision under it
    proc = run(json.dumps({**GOOD, "on": "2010-06-01", "first_permit_on": "2009-01-15",
                           "home_municipality_on": None}).encode())  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.startswith(b"error: on: is before the first parameter period 2011-09-01")
    assert b"Traceback" not in proc.stderr


def test_cli__jsonl_on_before_the_first_period_error_line() -> None:
    lines = [json.dumps({**GOOD, "on": "2011-08-31"}), json.dumps(GOOD)]
    proc = run(("\n".join(lines) + "\n").encode(), "--jsonl")
    assert proc.returncode == 2
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["error"]["field"] == "on"
    assert second["covered"] is True


def test_cli__kotikunta_before_the_first_period_still_decided() -> None:
    # a fact before 1.9.2011 is read with the earliest period, and the decision says so
    facts = {**GOOD, "first_permit_on": "2009-01-15", "home_municipality_on": "2010-02-01"}
    proc = run(json.dumps(facts).encode())
    assert proc.returncode == 0, proc.stderr
    codes = [r["code"] for r in json.loads(proc.stdout)["reasons"]]
    assert "PARAMETERS_EARLIEST_PERIOD" in codes


def test_cli__last_period_with_valid_to_exit_1_file_named(tmp_path: Path) -> None:
    text = (ROOT / "koto/law/parameters/2025-01-01.toml").read_text(encoding="utf-8")
    text = text.replace('id = "2025-01-01"', 'id = "2027-01-01"').replace(
        "valid_from = 2025-01-01", "valid_from = 2027-01-01\nvalid_to = 2027-12-31"
    )
    (tmp_path / "2027-01-01.toml").write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "koto.law", "evaluate"],
        input=json.dumps(GOOD).encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env={**os.environ, "KOTO_LAW_PARAMETERS_DIR": str(tmp_path)},
    )
    assert proc.returncode == 1
    assert b"2027-01-01.toml" in proc.stderr
    assert b"must not have valid_to" in proc.stderr
    assert b"Traceback" not in proc.stderr
