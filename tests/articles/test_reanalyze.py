"""Unsure analyses are analysed again: by a seeded schedule, and by `manage.py reanalyze_low_scores`."""

import pytest
from django.core.management import CommandError, call_command

from apps.articles.models import Analysis
from apps.jobs.models import Job, Schedule
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_schedule_is_seeded():
    assert Schedule.objects.get(name="reanalyze unsure analyses").actor == "reanalyze_low_scores"


def test_the_command_queues_unsure_ones_once(broker, capsys):
    unsure = factories.article("Company schedules its annual meeting", analyse=True)
    sure = factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    Analysis.objects.filter(article=unsure).update(confidence=0.2)
    Analysis.objects.filter(article=sure).update(confidence=0.9)
    Job.objects.all().delete()
    call_command("reanalyze_low_scores", "--max-confidence", "0.5")
    assert "Queued 1 analysis job(s)" in capsys.readouterr().out
    call_command("reanalyze_low_scores")  # while that one is queued, not again
    assert list(Job.objects.values_list("actor", "args")) == [("analyze_article", [unsure.pk])]
    with pytest.raises(CommandError, match="--max-confidence must be above 0"):
        call_command("reanalyze_low_scores", "--max-confidence", "2")
