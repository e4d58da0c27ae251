"""PostgreSQL: the LIKE-pattern twins of the url_hash and title_fingerprint indexes go (both columns are
only looked up by equality; each index cost a b-tree insert per ingested article). See
newstunneler/like_indexes.py."""

from django.db import migrations

from newstunneler.like_indexes import dropped


class Migration(migrations.Migration):
    dependencies = [("articles", "0011_article_platform_choices")]
    operations = [dropped("articles", "Article", "url_hash", "title_fingerprint")]
