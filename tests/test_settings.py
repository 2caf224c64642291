"""Settings read from the environment (a fresh interpreter each: settings load once)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_options(**env) -> dict:
    code = (
        "import json, koto.settings as s; "
        "o = s.DATABASES['default'].get('OPTIONS', {}); "
        "print(json.dumps({k: v for k, v in o.items() if isinstance(v, str | int | bool)}))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("KOTO_", "DATABASE_URL"))}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**keep, "KOTO_SECRET_KEY": "x" * 50, **env},
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_postgres__prepared_statements_only_when_asked():
    url = "postgres://koto@127.0.0.1:5432/koto"

    plain = database_options(DATABASE_URL=url)
    prepared = database_options(DATABASE_URL=url, KOTO_PG_PREPARE_THRESHOLD="5")

    assert "server_side_binding" not in plain and "prepare_threshold" not in plain
    assert plain["options"] == "-c jit=off -c cursor_tuple_fraction=1"
    assert prepared["server_side_binding"] is True and prepared["prepare_threshold"] == 5
    assert prepared["options"] == plain["options"]


def test_postgres__a_threshold_that_is_not_a_number_names_the_setting():
    code = "import koto.settings"
    env = {**os.environ, "KOTO_SECRET_KEY": "x" * 50,
           "DATABASE_URL": "postgres://koto@127.0.0.1:5432/koto",
           "KOTO_PG_PREPARE_THRESHOLD": "often"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode != 0
    assert "KOTO_PG_PREPARE_THRESHOLD: give a whole number of runs, not 'often'" in out.stderr


def _import_wsgi(**env):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("KOTO_", "DATABASE_URL"))}
    # set, even empty, so that a .env beside manage.py does not fill them in
    base = {"KOTO_SECRET_KEY": "", "KOTO_DEBUG": "false"}
    return subprocess.run(
        [sys.executable, "-c", "import koto.wsgi"], env={**keep, **base, **env},
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip


def test_web_server__no_secret_key_and_debug_off__refuses_to_start():
    # each worker made its own key: a sign-in handled by one failed at the next
    refused = _import_wsgi()
    assert refused.returncode != 0 and "KOTO_SECRET_KEY is not set" in refused.stderr
    assert _import_wsgi(KOTO_SECRET_KEY="x" * 50).returncode == 0
    assert _import_wsgi(KOTO_DEBUG="true").returncode == 0
