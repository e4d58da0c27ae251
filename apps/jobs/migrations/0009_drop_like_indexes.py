"""PostgreSQL: the LIKE-pattern twins of the job id, parent and requeued-from indexes go (ids are only
looked up by equality; the admin's id search is a case-insensitive contains, which no b-tree serves).
Each cost a b-tree insert per ledger row. See newstunneler/like_indexes.py."""

from django.db import migrations

from newstunneler.like_indexes import dropped


class Migration(migrations.Migration):
    dependencies = [("jobs", "0008_job_log_job_parent_job_result_jobattempt")]
    operations = [dropped("jobs", "Job", "id", "parent", "requeued_from")]
