"""The deploy gate (`manage.py canary`): after a deploy, check that the running system answers and works,
end to end, and say what failed.

Checks, in order: /healthz and /readyz of the web; a /metrics scrape holding the expected families; the
database (reachable, no unapplied migration); the broker and a worker (a ping job sent and run); queue
health (the oldest queued job, the dead letters); an authenticated API read with the canary's key."""

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

EXPECTED_FAMILIES = ("newstunneler_jobs", "newstunneler_dead_letters", "newstunneler_oldest_queued_job_age_seconds",
                     "django_http_requests_total_by_view_transport_method")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    ms: float


@dataclass
class Options:
    url: str
    api_key: str = ""
    metrics_token: str = ""
    ping_timeout: float = 30.0
    max_queued_age: float = 600.0
    max_dead: int = 10


def run(options: Options) -> list[Check]:
    client = httpx.Client(base_url=options.url.rstrip("/"), timeout=10,
                          headers={"User-Agent": f"{settings.HTTP_USER_AGENT} canary"})
    checks: list[tuple[str, Callable[[], str]]] = [
        ("web /healthz", lambda: _get(client, "/healthz")),
        ("web /readyz", lambda: _get(client, "/readyz")),
        ("metrics", lambda: _metrics(client, options.metrics_token)),
        ("database", _database),
        ("broker + worker (ping job)", lambda: _ping(options.ping_timeout)),
        ("queue health", lambda: _queues(options.max_queued_age, options.max_dead)),
        ("API read with a key", lambda: _api(client, options.api_key)),
    ]
    results = []
    with client:
        for name, check in checks:
            started = time.perf_counter()
            try:
                results.append(Check(name, True, check(), 0))
            except Exception as exc:  # noqa: BLE001 - every failure is reported, the next check still runs
                results.append(Check(name, False, str(exc) or type(exc).__name__, 0))
            results[-1].ms = round((time.perf_counter() - started) * 1000, 1)
    return results


def as_dicts(results: list[Check]) -> list[dict]:
    return [asdict(result) for result in results]


class Failed(Exception):
    pass


def _get(client: httpx.Client, path: str) -> str:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise Failed(f"{client.base_url}{path} unreachable: {exc}") from None
    if response.status_code != 200:
        raise Failed(f"{path} answered {response.status_code}: {response.text[:300]}")
    return f"200 in {response.elapsed.total_seconds() * 1000:.0f} ms"


def _metrics(client: httpx.Client, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    if response.status_code != 200:
        raise Failed(f"/metrics answered {response.status_code}: {response.text[:200].strip()} "
                     "(from another host, set NT_METRICS_TOKEN for the canary and the web)")
    missing = [family for family in EXPECTED_FAMILIES if family not in response.text]
    if missing:
        raise Failed(f"/metrics lacks {', '.join(missing)}")
    return f"{len(EXPECTED_FAMILIES)} expected families present"


def _database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    plan = MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    if plan:
        raise Failed(f"{len(plan)} unapplied migration(s), first {plan[0][0].app_label}.{plan[0][0].name}: "
                     "run manage.py migrate")
    return f"{connection.vendor}, migrations applied"


def _ping(timeout: float) -> str:
    from apps.jobs.enqueue import enqueue
    from apps.jobs.models import Job

    token = f"canary-{uuid.uuid4().hex}"
    job_id = enqueue("ping", token)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cache.get(f"ping:{token}") == "pong":
            return f"job {job_id[:8]} ran"
        time.sleep(0.25)
    status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
    raise Failed(f"the ping job {job_id[:8]} did not run within {timeout:.0f} s (ledger: {status}): "
                 "is a worker running and the default queue not paused?")


def _queues(max_age: float, max_dead: int) -> str:
    from apps.jobs.selectors import job_stats

    stats = job_stats(now=timezone.now())
    age, dead = stats["oldest_queued_age_seconds"] or 0, stats["dead"]
    problems = []
    if age > max_age:
        problems.append(f"the oldest queued job waits {age:.0f} s (limit {max_age:.0f})")
    if dead > max_dead:
        problems.append(f"{dead} dead letters (limit {max_dead}): see the admin's Dead letters by error")
    if stats["paused_queues"]:
        problems.append(f"paused: {', '.join(stats['paused_queues'])}")
    if problems:
        raise Failed("; ".join(problems))
    return f"oldest queued {age:.0f} s, {dead} dead letters"


def _api(client: httpx.Client, key: str) -> str:
    if not key:
        raise Failed("no API key: set NT_CANARY_API_KEY (or --api-key) to a key of a viewer account")
    response = client.get("/api/v1/signals/", params={"page_size": 1}, headers={"Authorization": f"Api-Key {key}"})
    if response.status_code != 200:
        raise Failed(f"GET /api/v1/signals/ answered {response.status_code}: {response.text[:200]}")
    return "200, signals readable"
