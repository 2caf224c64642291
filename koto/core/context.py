"""Where a request comes from (channel and address), for the audit trail.

Set once per request by middleware or the API's authentication; read by the audit service.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    channel: str = "cli"  # web, api, cli, task
    ip: str | None = None


_DEFAULT = RequestMeta()
_current: ContextVar[RequestMeta | None] = ContextVar("koto_request_meta", default=None)


def current() -> RequestMeta:
    return _current.get() or _DEFAULT


def set_current(meta: RequestMeta):
    return _current.set(meta)


def reset(token) -> None:
    _current.reset(token)
