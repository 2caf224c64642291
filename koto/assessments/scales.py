"""The national scale of developing language proficiency (A1.1–C2.2, National Agency for
Education) and its mapping to the CEFR levels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    A1_1 = "A1.1", "A1.1"
    A1_2 = "A1.2", "A1.2"
    A1_3 = "A1.3", "A1.3"
    A2_1 = "A2.1", "A2.1"
    A2_2 = "A2.2", "A2.2"
    B1_1 = "B1.1", "B1.1"
    B1_2 = "B1.2", "B1.2"
    B2_1 = "B2.1", "B2.1"
    B2_2 = "B2.2", "B2.2"
    C1_1 = "C1.1", "C1.1"
    C1_2 = "C1.2", "C1.2"
    C2_1 = "C2.1", "C2.1"
    C2_2 = "C2.2", "C2.2"
    NONE = "0", _("No skill yet")


class Skill(models.TextChoices):
    LISTENING = "listening", _("Listening")
    READING = "reading", _("Reading")
    SPEAKING = "speaking", _("Speaking")
    WRITING = "writing", _("Writing")


class TargetLanguage(models.TextChoices):
    FINNISH = "fi", _("Finnish")
    SWEDISH = "sv", _("Swedish")


def cefr(level: str) -> str:
    """A1.3 -> A1; "0" -> "" (below A1)."""
    return level.split(".")[0] if level and level != Level.NONE else ""
