from django.db import models

from koto.core import clock


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        abstract = True


class JobRun(models.Model):
    """The last finished run of a scheduled job, one row a job (`core.services.job_finished`):
    what the status endpoint reads to tell a job that has stopped (`docs/operations.md`)."""

    job = models.CharField(primary_key=True, max_length=50)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.job} finished {self.finished_at:%Y-%m-%d %H:%M}"
