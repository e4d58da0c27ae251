"""A process-wide novelty index of the last 72 h of titles, refreshed incrementally from the database
instead of re-reading and re-shingling the whole window on every poll. The titles this process stores
enter it as they commit; the database is asked for the others' at most every READ_EVERY."""

import threading
import time
from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import F, Func, Max, Subquery

from apps.articles.models import Article
from apps.articles.scoring import NOVELTY_WINDOW_HOURS, NoveltyIndex

REBUILD_EVERY = timedelta(minutes=10)  # so titles leaving the window stop counting
# How often the window's rows are counted against the index (a count reads every row of the 72 h window:
# milliseconds at ten thousand articles, tens of them at a hundred thousand, too much for every ingest).
CHECK_EVERY = timedelta(seconds=30)
# How often the database is asked for the titles other processes stored (wall-clock seconds): an ingest
# within this of the last read scores against the index as it stands, which holds what this process
# stored meanwhile (`stored`). A query per ingest cost about a twentieth of a poll's CPU time.
READ_EVERY = 1.0


class RecentTitles:
    def __init__(self):
        self._lock = threading.Lock()
        self._index: NoveltyIndex | None = None
        self._published: list[datetime] = []  # the indexed titles' dates, sorted
        self._last_id = 0
        self._built_at: datetime | None = None
        self._checked_at: datetime | None = None
        self._read_at = float("-inf")  # time.monotonic() of the last read of the database
        self._ids: set[int] = set()  # the indexed rows' ids: a row both read and `stored` is indexed once

    def index(self, now: datetime) -> NoveltyIndex:
        """Committed titles published in the 72 h before `now`. Rows added since the last call are
        appended. At most every CHECK_EVERY the window's rows are also counted: if the count disagrees
        with what the index holds of it (deletions, rollbacks, a row that committed after a later id was
        read) the index is rebuilt. Titles that leave the window meanwhile are not a disagreement (they
        count until the next rebuild, at most REBUILD_EVERY later): with a steady stream of news some
        leave between any two polls, and a rebuild re-reads the whole window.

        While another thread (a poll job's other store thread) is reading the new rows, a call returns
        the index as it stands rather than waiting for that read: it lacks only the rows committed
        since, as an index read a moment earlier would. So does a call within READ_EVERY of the last
        read: the rows other processes committed since wait for the next read (this process's own are
        in the index already, see `stored`)."""
        if self._index is not None and time.monotonic() < self._read_at + READ_EVERY:
            return self._index
        if not self._lock.acquire(blocking=self._index is None):
            return self._index
        try:
            index = self._refreshed(now)
            self._read_at = time.monotonic()
            return index
        finally:
            self._lock.release()

    def stored(self, rows: Iterable[tuple[int, str, datetime]], now: datetime) -> None:
        """Rows (id, title, published_at) this process has just committed: into the index at once (those
        in the 72 h before `now`), so that its next ingests compare with them without waiting for a read.
        A read that returns them too (a read after the commit) does not index them twice. Call it once the
        rows are committed (on_commit): a rolled-back row must not count, and the window's count (the
        check) sees only committed rows."""
        since = now - timedelta(hours=NOVELTY_WINDOW_HOURS)
        with self._lock:
            if self._index is not None:  # else the first read will find them
                self._add((row for row in rows if row[2] >= since))

    def reset(self) -> None:
        """Forget the index (the next call rebuilds it): for a test suite, whose rolled-back rows would
        otherwise count until the next check."""
        with self._lock:
            self._index = self._built_at = self._checked_at = None
            self._published, self._last_id, self._read_at, self._ids = [], 0, float("-inf"), set()

    def _refreshed(self, now: datetime) -> NoveltyIndex:
        since = now - timedelta(hours=NOVELTY_WINDOW_HOURS)
        window = Article.objects.filter(published_at__gte=since).order_by()
        if self._index is not None and self._built_at <= now < self._built_at + REBUILD_EVERY:
            new_rows = window.filter(pk__gt=self._last_id)
            if self._checked_at <= now < self._checked_at + CHECK_EVERY:
                self._add(new_rows.values_list("pk", "title", "published_at"), read=True)
                return self._index
            # The new rows, each with the window's count: one round trip; with no new row, the count
            # alone (a deletion or a rollback meanwhile must not leave its titles counting).
            count = Subquery(window.annotate(n=Func(F("pk"), function="COUNT")).values("n"))
            new = list(new_rows.annotate(in_window=count).values_list("pk", "title", "published_at", "in_window"))
            in_window = new[0][3] if new else window.count()
            still_in = len(self._published) - bisect_left(self._published, since)
            stored = sum(row[0] in self._ids for row in new)  # by `stored`: counted already
            if still_in + len(new) - stored == in_window:
                self._add((row[:3] for row in new), read=True)
                self._checked_at = now
                return self._index
        # The newest id of the whole table, read first, is where the next call's "new rows" start: older
        # rows outside the window never enter it, and an empty or quiet window would otherwise leave
        # that bound at 0 (a scan of every row since the first, each call). A row that commits late
        # under a lower id is one the count check notices.
        newest = Article.objects.aggregate(newest=Max("pk"))["newest"] or 0
        # Built aside, then swapped in: a thread that does not wait (above) gets a whole index.
        index, self._published, self._last_id, self._ids = NoveltyIndex(), [], newest, set()
        self._add(window.values_list("pk", "title", "published_at"), index, read=True)
        self._index, self._built_at, self._checked_at = index, now, now
        return self._index

    def _add(self, rows, index: NoveltyIndex | None = None, read: bool = False) -> None:
        """Index the rows not indexed yet; rows `read` from the database move the next read's start."""
        index, ids = self._index if index is None else index, self._ids
        for pk, title, published_at in rows:
            if read and pk > self._last_id:
                self._last_id = pk
            if pk not in ids:
                ids.add(pk)
                index.add(title)
                insort(self._published, published_at)


recent_titles = RecentTitles()
