"""What the assessment app tells the apps above it, which it may not import (the layers)."""

from django.dispatch import Signal

# Sent by `assessment_complete` inside its transaction, once the conclusion is saved:
# `assessment` (saved, its client loaded), `actor`. The plans app answers by sweeping the
# client's deadline tasks at once (a plan found needed is to be started without delay); a
# receiver that raises undoes the completion with its own writes.
assessment_completed = Signal()
