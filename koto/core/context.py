"""Where a request comes from (channel and address), for the audit trail.

Set once per request by middleware or the API's authentication; read by the audit service.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    channel: str = "cli"  # web, api, cli, task
    ip: str | None = None
    from_command: bool = False  # set by a management command run by hand (names its operator)


_DEFAULT = RequestMeta()
_current: ContextVar[RequestMeta | None] = ContextVar("koto_request_meta", default=None)


def current() -> RequestMeta:
    return _current.get() or _DEFAULT


def set_current(meta: RequestMeta):
    return _current.set(meta)


def reset(token) -> None:
    _current.reset(token)


def os_user() -> str:
    """Who runs a management command, as the operating system knows them: what an audit
    record of the command names when no user of Koto is acting. The account of the process
    (not `USER`, which anyone can set), with the one who became it through sudo when there is
    one ("root (sudo: maija)"); "" when it cannot tell."""
    import os
    import pwd

    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, OSError):
        name = str(os.geteuid())
    sudo = os.environ.get("SUDO_USER", "")
    return f"{name} (sudo: {sudo})" if sudo and sudo != name else name


def run_by_hand(handle):
    """For a management command's `handle`: what it audits is marked as the command line's,
    with its operator (`from_command`)."""
    import functools

    @functools.wraps(handle)
    def wrapper(*args, **kwargs):
        token = set_current(RequestMeta(channel="cli", from_command=True))
        try:
            return handle(*args, **kwargs)
        finally:
            reset(token)

    return wrapper
