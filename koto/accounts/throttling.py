"""Sign-in throttling: django-axes counts the failed sign-ins (`AccessAttempt`, a row per
username typed, address and browser, with its count), and this handler locks by three limits
over the cool-off window (`AXES_COOLOFF_TIME`, 15 minutes), each with its own threshold:

- a username from one address, `AXES_FAILURE_LIMIT` (5): one person's mistakes, or someone
  guessing one user's password from one place;
- an address, whatever usernames it types, `LOGIN_ADDRESS_FAILURE_LIMIT` (30): password
  spraying (a few passwords tried on every username) was never locked. Not applied to a
  user at an address they have signed in from (below): a city's staff reach Koto from one
  address, and their typing errors must not lock the whole office out;
- a username from all addresses together, `LOGIN_USERNAME_FAILURE_LIMIT` (20): guessing one
  user's password from ever new addresses was unlimited. Not applied to an address the user
  has signed in from in the last `KNOWN_ADDRESS_DAYS` days (axes' `AccessLog`), so that such
  an attack does not also lock the user out of their own office.

Axes itself compares the largest count of its lockout parameters with the one
`AXES_FAILURE_LIMIT`. An IPv6 address counts as its /64 network (what one subscriber is
usually given: an address rotated inside it got fresh tries). A successful sign-in forgives
the failures of that username from that address only (axes' own reset forgave every failure
from the address, so a sprayer with one account of their own could clear the count).
"""

import datetime as dt
import ipaddress
from dataclasses import dataclass

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db.models import Q, Sum

from koto.accounts.middleware import client_address
from koto.accounts.models import User

KNOWN_ADDRESS_DAYS = 90


def throttled_address(request) -> str | None:
    """The address failures are counted by (`AXES_CLIENT_IP_CALLABLE`): the client's, as the
    audit trail records it (`client_address`), an IPv6 address reduced to its /64 network."""
    address = client_address(request.META)
    if address is None:
        return None
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Address(int(ip) >> 64 << 64))
    return address


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins within the window: of the username from the address, of the address
    (any username), of the username (any address)."""

    username_address: int
    address: int
    username: int


def _recent(request):
    return AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))


def failures_of(request, credentials=None) -> Failures:
    """The three counts, in one query."""
    username = get_client_username(request, credentials)
    of_address = Q(ip_address=request.axes_ip_address)
    # the address's count leaves out the users who sign in from there (an office's staff):
    # their typing errors locked out the new colleague who had not signed in there yet
    known = AccessLog.objects.filter(
        ip_address=request.axes_ip_address,
        attempt_time__gte=request.axes_attempt_time - dt.timedelta(days=KNOWN_ADDRESS_DAYS),
    ).values("username")
    sums = {"address": Sum("failures_since_start", filter=of_address & ~Q(username__in=known))}
    where = of_address
    if username:  # (the sign-in forms require one)
        of_username = Q(username=username)
        sums["username_address"] = Sum("failures_since_start", filter=of_address & of_username)
        sums["username"] = Sum("failures_since_start", filter=of_username)
        where |= of_username
    counts = _recent(request).filter(where).aggregate(**sums)
    return Failures(
        username_address=counts.get("username_address") or 0,
        address=counts["address"] or 0,
        username=counts.get("username") or 0,
    )


def unknown_username_failures(request) -> int:
    """Failures from the request's address within the window naming no user (exactly as
    typed, as the sign-in matches it): what `accounts.signals` stops recording one by one."""
    return (
        _recent(request)
        .filter(ip_address=request.axes_ip_address)
        .exclude(username__in=User.objects.values("username"))
        .aggregate(n=Sum("failures_since_start"))["n"]
        or 0
    )


class LoginThrottle(AxesDatabaseHandler):
    """`AXES_HANDLER`: axes' database handler with a limit for each of its three counts."""

    def limits_reached(self, request, credentials=None) -> list[str]:
        failures = request.koto_login_failures = failures_of(request, credentials)
        reached = []
        if failures.username_address >= settings.AXES_FAILURE_LIMIT:
            reached.append("username_address")
        if (
            failures.address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
            or failures.username >= settings.LOGIN_USERNAME_FAILURE_LIMIT
        ) and not self._signed_in_from(request, get_client_username(request, credentials)):
            # Neither locks a user out at an address they have signed in from: a city's
            # staff reach Koto from one address, and thirty typing errors among them in a
            # quarter of an hour (or someone there spraying) would lock out the whole office.
            reached.append(
                "address" if failures.address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
                else "username"
            )  # fmt: skip
        return reached

    @staticmethod
    def _signed_in_from(request, username: str) -> bool:
        since = request.axes_attempt_time - dt.timedelta(days=KNOWN_ADDRESS_DAYS)
        return AccessLog.objects.filter(
            username=username, ip_address=request.axes_ip_address, attempt_time__gte=since
        ).exists()

    def is_locked(self, request, credentials=None) -> bool:
        """Asked before the password is checked: a try refused here is not checked at all
        (`request.koto_login_refused`, which `accounts.signals` does not record)."""
        locked = settings.AXES_LOCK_OUT_AT_FAILURE and bool(
            self.limits_reached(request, credentials)
        )
        request.koto_login_refused = locked
        return locked

    def get_failures(self, request, credentials=None) -> int:
        """For axes' own comparison with `AXES_FAILURE_LIMIT` after a failure (lock out or
        not): the username's failures from the address, raised to that limit when another
        limit is reached."""
        reached = self.limits_reached(request, credentials)
        n = request.koto_login_failures.username_address
        return max(n, settings.AXES_FAILURE_LIMIT) if reached else n

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a successful sign-in: that username's failures from that address only."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count
