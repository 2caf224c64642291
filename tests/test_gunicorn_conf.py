"""The access log's format leaves out what can hold personal data."""

import datetime as dt
import runpy
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parent.parent


def test_access_log__a_search_by_identity_code__logged_without_the_query_string():
    # given the access log as gunicorn formats it with Koto's configuration
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("access_log_format", conf["access_log_format"])
    logger = Logger(cfg)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/clients/search/?q=131052-308T",
        "PATH_INFO": "/clients/search/", "QUERY_STRING": "q=131052-308T",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://koto.example/clients/search/?q=131052-308T",
    }  # fmt: skip
    response = SimpleNamespace(status="200 OK", response_length=10, sent=10, headers=[])
    request = SimpleNamespace(headers=[], method="GET", path="/clients/search/", query="q=131052-308T",
                              uri="/clients/search/?q=131052-308T", version=(1, 1))  # fmt: skip
    # when a search by identity code is logged
    line = conf["access_log_format"] % logger.atoms(
        response, request, environ, dt.timedelta(milliseconds=12)
    )
    # then the line names the path, not the code
    assert "/clients/search/" in line
    assert "131052" not in line
    assert "308T" not in line
