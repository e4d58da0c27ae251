"""A process-wide novelty index of the last 72 h of titles, refreshed incrementally from the database
instead of re-reading and re-shingling the whole window on every poll."""

import threading
from datetime import datetime, timedelta

from apps.articles.models import Article
from apps.articles.scoring import NOVELTY_WINDOW_HOURS, NoveltyIndex

REBUILD_EVERY = timedelta(minutes=10)  # so titles leaving the window stop counting


class RecentTitles:
    def __init__(self):
        self._lock = threading.Lock()
        self._index: NoveltyIndex | None = None
        self._last_id = 0
        self._built_at: datetime | None = None

    def index(self, now: datetime) -> NoveltyIndex:
        """Committed titles published in the 72 h before `now`. Rows added since the last call are
        appended; if the window's row count disagrees (deletions, rollbacks) the index is rebuilt."""
        window = Article.objects.filter(published_at__gte=now - timedelta(hours=NOVELTY_WINDOW_HOURS))
        with self._lock:
            fresh = self._index is not None and self._built_at <= now < self._built_at + REBUILD_EVERY
            if fresh:
                new = list(window.filter(pk__gt=self._last_id).values_list("pk", "title"))
                if len(self._index) + len(new) == window.count():
                    for pk, title in new:
                        self._index.add(title)
                        self._last_id = max(self._last_id, pk)
                    return self._index
            rows = list(window.values_list("pk", "title"))
            self._index = NoveltyIndex(title for _, title in rows)
            self._last_id = max((pk for pk, _ in rows), default=0)
            self._built_at = now
            return self._index


recent_titles = RecentTitles()
