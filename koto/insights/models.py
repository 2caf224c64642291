"""Rollups: what the dashboards read instead of raw rows. Counts only, no person in them.

`Cell` holds one monthly count of one metric for one scope (an organisation, a welfare
region, an employment area or the whole country) and one combination of the filter
dimensions; `ImpactCell` holds integration plans by the month they started, their plan
kind, target group and services used, and the months to the outcome (or to censoring).
Both are rebuilt by `koto.insights.rollups` (the task worker runs it), never written by a
request."""

import datetime as dt

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from koto.core import clock


class Metric(models.TextChoices):
    CLIENTS_NEW = "clients_new", _("New clients")
    CLIENTS_MOVED_IN = "clients_moved_in", _("Clients moved in")
    CLIENTS_MOVED_OUT = "clients_moved_out", _("Clients moved out")
    ASSESSMENTS_STARTED = "assessments_started", _("Assessments started")
    ASSESSMENTS_COMPLETED = "assessments_completed", _("Assessments completed")
    ASSESSMENT_DEADLINE = "assessment_deadline", _("Assessment start deadlines")
    PLANS_STARTED = "plans_started", _("Plans started")
    PLANS_ENDED = "plans_ended", _("Plans ended")
    SERVICE_DEADLINE = "service_deadline", _("Guidance to a service deadlines")
    ENROLMENTS = "enrolments", _("Enrolments")
    ENROLMENT_ENDS = "enrolment_ends", _("Enrolments ended")
    ATTENDANCE_HOURS = "attendance_hours", _("Attendance hours")
    LANGUAGE_LEVELS = "language_levels", _("Language levels reached")
    CONTACTS = "contacts", _("Guidance contacts")
    CONTACTS_REASON = "contacts_reason", _("Guidance contacts by reason")
    CONTACTS_CHANNEL = "contacts_channel", _("Guidance contacts by channel")
    PLACES_AGREED = "places_agreed", _("Places agreed")
    PLACES_USED = "places_used", _("Places used")
    COMPENSATION_CALCULATED = "compensation_calculated", _("Calculated compensation (€)")
    CLAIMS_SUBMITTED = "claims_submitted", _("Actual-cost claims submitted (€)")
    CLAIMS_PAID = "claims_paid", _("Actual-cost claims paid (€)")


# Metrics that are money (whole euros), not counts of people: never suppressed.
MONEY = frozenset({Metric.COMPENSATION_CALCULATED, Metric.CLAIMS_SUBMITTED, Metric.CLAIMS_PAID})


# The keys of the persons counted beside the calculated compensation, whose amount is key
# "": a municipality's persons, and a welfare region's (the same people, so never added).
PERSONS = "persons"
PERSONS_REGION = "persons_region"


class Cell(models.Model):
    metric = models.CharField(max_length=30, choices=Metric.choices)
    scope = models.CharField(max_length=30)  # "org:12", "region:5", "area:3", "national"
    month = models.DateField()
    target_group = models.CharField(max_length=24)
    language = models.CharField(max_length=3)
    age_band = models.CharField(max_length=8)
    key = models.CharField(max_length=40)
    value = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["scope", "month", "metric"], name="cell_scope_month_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.metric} {self.month} {self.key}={self.value}"


class ImpactCell(models.Model):
    scope = models.CharField(max_length=30)
    start_month = models.DateField()
    plan_kind = models.CharField(max_length=20)
    target_group = models.CharField(max_length=24)
    services = models.CharField(max_length=30)
    # Whole months from the plan's start to employment or studies (event) or to the end of
    # follow-up (censored: plan ended otherwise, or still going on the refresh day).
    months = models.PositiveSmallIntegerField()
    event = models.BooleanField()
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["scope", "start_month"], name="impact_scope_month_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.start_month} {self.months} {self.event} n={self.n}"


# The full refresh runs nightly; one older than this has not run (cron, the worker).
FULL_OVERDUE = dt.timedelta(hours=26)
# The regular refresh runs every few minutes (cron); one older than this has stopped.
REGULAR_OVERDUE = dt.timedelta(minutes=30)
STALE_RUN = dt.timedelta(hours=3)  # a refresh "running" longer than this has died
# On PostgreSQL a running refresh also holds this session-level advisory lock ("koto" in
# ASCII), which the server releases when the refresh's process or connection dies.
REFRESH_LOCK = 0x6B6F746F


def refresh_session_alive(*, own: bool = False) -> bool | None:
    """Whether some database session (with `own`, this one) holds the running refresh's
    lock; None where the database cannot tell (SQLite). `pg_locks` is readable by every
    role."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            # (advisory locks are per database: another Koto on the same server has its own)
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND granted AND classid = %s AND objid = %s AND objsubid = 1"
            + (" AND pid = pg_backend_pid())" if own else ")"),
            [REFRESH_LOCK >> 32, REFRESH_LOCK & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


class RefreshState(models.Model):
    """One row: when the rollups were last rebuilt and up to which change they include."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    watermark_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    full_refreshed_at = models.DateTimeField(null=True, blank=True)
    refreshed_on = models.DateField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    scopes = models.PositiveIntegerField(default=0)
    cells = models.PositiveIntegerField(default=0)
    # One more at every refresh: what the dashboards' cached sums are keyed by.
    generation = models.PositiveBigIntegerField(default=0)
    # Set while a refresh runs: a second refresh (cron and a manual run, two workers) waits
    # its turn by skipping, so two never rewrite the same cells at once.
    running_since = models.DateTimeField(null=True, blank=True)
    # Guidance contacts are counted once and added as they come (they are never edited):
    # the ids of those logged after `watermark_at` that the cells already include, so the
    # next refresh, which adds the contacts logged after `watermark_at`, leaves them out.
    contacts_after_watermark = models.JSONField(default=list, blank=True)
    # When a full refresh was asked for while another refresh ran (and so skipped): the next
    # refresh to start is a full one.
    full_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at}"

    @classmethod
    def get(cls) -> "RefreshState":
        return cls.objects.get_or_create(id=1)[0]

    def full_overdue(self, now: dt.datetime) -> bool:
        """Whether the cells miss a full refresh: between full refreshes deletions,
        attendance and test results are not recounted, contacts keep the target group and
        age band their client had when they were added, and a contact the watermark missed
        waits. False before any refresh at all (then there are no figures to doubt)."""
        if self.refreshed_at is None:
            return False
        return self.full_refreshed_at is None or now - self.full_refreshed_at > FULL_OVERDUE

    def regular_overdue(self, now: dt.datetime) -> bool:
        """Whether the refresh every few minutes has stopped (or never ran): new records are
        missing from the dashboards."""
        return self.refreshed_at is None or now - self.refreshed_at > REGULAR_OVERDUE

    def age_minutes(self) -> int | None:
        if self.refreshed_at is None:
            return None
        return int((clock.now() - self.refreshed_at).total_seconds() // 60)
