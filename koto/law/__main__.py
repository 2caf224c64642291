"""Command line: ``python -m koto.law evaluate [--jsonl] < facts``.

Single mode reads one JSON object of facts from stdin and prints the decision as JSON.
Bad input: ``error: <field>: <message>`` on stderr and exit status 2.

``--jsonl`` reads one facts object per line and writes one decision per line, streaming:
input is read in chunks as it arrives and the answers for each chunk are written and
flushed before the next read, so memory stays flat and an interactive producer gets its
answer at once. A bad line gives ``{"error": {"line": N, "field": ..., "message": ...}}``
on its own output line and the rest go on. Blank lines are skipped (but counted). Exit
status: 0 when every line was decided, 2 when any line failed (a summary goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import BinaryIO

from pydantic import ValidationError

from koto.law.engine import _decide, check_facts, facts_error_from_validation, parse_facts
from koto.law.models import Facts, FactsError
from koto.law.params import ParameterError, registry

EXIT_BAD_INPUT = 2
CHUNK = 1 << 16


def _error_line(line_no: int, err: FactsError) -> bytes:
    return (
        json.dumps(
            {"error": {"line": line_no, "field": err.field, "message": err.message}},
            ensure_ascii=False,
        ).encode()
        + b"\n"
    )


def _decide_line(line: bytes, line_no: int) -> bytes:
    try:
        facts = Facts.model_validate_json(line)
        check_facts(facts)
        return _decide(facts, registry()).to_json() + b"\n"
    except ValidationError as exc:
        return _error_line(line_no, facts_error_from_validation(exc))
    except FactsError as err:
        return _error_line(line_no, err)


def run_jsonl(stdin: BinaryIO, stdout: BinaryIO, stderr: BinaryIO) -> int:
    """Decide every line of ``stdin``; returns the exit status."""
    registry()  # load parameters before the first line; errors surface early
    read = getattr(stdin, "read1", stdin.read)
    pending = b""
    line_no = 0
    failed = 0
    while True:
        chunk = read(CHUNK)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        out = []
        for line in lines:
            line_no += 1
            if not line.strip():
                continue
            result = _decide_line(line, line_no)
            if result.startswith(b'{"error"'):
                failed += 1
            out.append(result)
        if out:
            stdout.write(b"".join(out))
            stdout.flush()
    if pending.strip():
        line_no += 1
        result = _decide_line(pending, line_no)
        if result.startswith(b'{"error"'):
            failed += 1
        stdout.write(result)
        stdout.flush()
    if failed:
        stderr.write(f"{failed} of {line_no} lines failed\n".encode())
        return EXIT_BAD_INPUT
    return 0


def run_single(stdin: BinaryIO, stdout: BinaryIO, stderr: BinaryIO) -> int:
    data = stdin.read()
    try:
        facts = parse_facts(data)
        out = _decide(facts, registry()).to_json()
    except FactsError as err:
        where = err.field or "input"
        stderr.write(f"error: {where}: {err.message}\n".encode())
        return EXIT_BAD_INPUT
    stdout.write(out + b"\n")
    stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m koto.law", description="Rules of the Integration Act 681/2023."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="facts JSON on stdin -> decision JSON on stdout")
    ev.add_argument(
        "--jsonl", action="store_true", help="one facts object per line, one decision per line"
    )
    args = parser.parse_args(argv)
    stdin, stdout, stderr = sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer
    try:
        if args.jsonl:
            return run_jsonl(stdin, stdout, stderr)
        return run_single(stdin, stdout, stderr)
    except ParameterError as exc:
        stderr.write(f"error: parameter files: {exc}\n".encode())
        return 1
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, no error at interpreter exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
