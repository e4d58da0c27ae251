"""Django signals the jobs app sends, so other apps can react without the ledger knowing them."""

from django.dispatch import Signal

# Sent by the worker after a job's row is marked dead: job_id, actor, queue, error ("Class: message"), attempts.
job_dead = Signal()
