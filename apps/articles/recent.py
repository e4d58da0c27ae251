"""A process-wide novelty index of the last 72 h of titles, refreshed incrementally from the database
instead of re-reading and re-shingling the whole window on every poll."""

import threading
from bisect import bisect_left, insort
from datetime import datetime, timedelta

from django.db.models import F, Func, Max, Subquery

from apps.articles.models import Article
from apps.articles.scoring import NOVELTY_WINDOW_HOURS, NoveltyIndex

REBUILD_EVERY = timedelta(minutes=10)  # so titles leaving the window stop counting
# How often the window's rows are counted against the index (a count reads every row of the 72 h window:
# milliseconds at ten thousand articles, tens of them at a hundred thousand, too much for every ingest).
CHECK_EVERY = timedelta(seconds=30)


class RecentTitles:
    def __init__(self):
        self._lock = threading.Lock()
        self._index: NoveltyIndex | None = None
        self._published: list[datetime] = []  # the indexed titles' dates, sorted
        self._last_id = 0
        self._built_at: datetime | None = None
        self._checked_at: datetime | None = None

    def index(self, now: datetime) -> NoveltyIndex:
        """Committed titles published in the 72 h before `now`. Rows added since the last call are
        appended. At most every CHECK_EVERY the window's rows are also counted: if the count disagrees
        with what the index holds of it (deletions, rollbacks, a row that committed after a later id was
        read) the index is rebuilt. Titles that leave the window meanwhile are not a disagreement (they
        count until the next rebuild, at most REBUILD_EVERY later): with a steady stream of news some
        leave between any two polls, and a rebuild re-reads the whole window.

        While another thread (a poll job's other store thread) is reading the new rows, a call returns
        the index as it stands rather than waiting for that read: it lacks only the rows committed
        since, as an index read a moment earlier would."""
        if not self._lock.acquire(blocking=self._index is None):
            return self._index
        try:
            return self._refreshed(now)
        finally:
            self._lock.release()

    def reset(self) -> None:
        """Forget the index (the next call rebuilds it): for a test suite, whose rolled-back rows would
        otherwise count until the next check."""
        with self._lock:
            self._index = self._built_at = self._checked_at = None
            self._published, self._last_id = [], 0

    def _refreshed(self, now: datetime) -> NoveltyIndex:
        since = now - timedelta(hours=NOVELTY_WINDOW_HOURS)
        window = Article.objects.filter(published_at__gte=since).order_by()
        if self._index is not None and self._built_at <= now < self._built_at + REBUILD_EVERY:
            new_rows = window.filter(pk__gt=self._last_id)
            if self._checked_at <= now < self._checked_at + CHECK_EVERY:
                self._add(new_rows.values_list("pk", "title", "published_at"))
                return self._index
            # The new rows, each with the window's count: one round trip; with no new row, the count
            # alone (a deletion or a rollback meanwhile must not leave its titles counting).
            count = Subquery(window.annotate(n=Func(F("pk"), function="COUNT")).values("n"))
            new = list(new_rows.annotate(in_window=count).values_list("pk", "title", "published_at", "in_window"))
            in_window = new[0][3] if new else window.count()
            still_in = len(self._published) - bisect_left(self._published, since)
            if still_in + len(new) == in_window:
                self._add(row[:3] for row in new)
                self._checked_at = now
                return self._index
        # The newest id of the whole table, read first, is where the next call's "new rows" start: older
        # rows outside the window never enter it, and an empty or quiet window would otherwise leave
        # that bound at 0 (a scan of every row since the first, each call). A row that commits late
        # under a lower id is one the count check notices.
        newest = Article.objects.aggregate(newest=Max("pk"))["newest"] or 0
        # Built aside, then swapped in: a thread that does not wait (above) gets a whole index.
        index, self._published, self._last_id = NoveltyIndex(), [], newest
        self._add(window.values_list("pk", "title", "published_at"), index)
        self._index, self._built_at, self._checked_at = index, now, now
        return self._index

    def _add(self, rows, index: NoveltyIndex | None = None) -> None:
        index = self._index if index is None else index
        for pk, title, published_at in rows:
            index.add(title)
            insort(self._published, published_at)
            self._last_id = max(self._last_id, pk)


recent_titles = RecentTitles()
