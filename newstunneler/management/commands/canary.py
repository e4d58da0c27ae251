import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newstunneler import canary
from newstunneler.env import env_str, local_url


class Command(BaseCommand):
    help = ("The deploy gate: checks the running system end to end (web health, metrics, database, a ping job "
            "through the broker and a worker, queue health, an authenticated API read); prints a table and exits "
            "1 naming what failed.")

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="the web's base URL (default http://NT_BIND)")
        parser.add_argument("--api-key", default=None, help="a viewer's API key (default NT_CANARY_API_KEY)")
        parser.add_argument("--ping-timeout", type=float, default=30.0, help="seconds to wait for the ping job")
        parser.add_argument("--max-queued-age", type=float, default=600.0, help="seconds the oldest queued job may wait")
        parser.add_argument("--max-dead", type=int, default=10, help="dead letters tolerated")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the results as JSON")

    def handle(self, *args, url, api_key, ping_timeout, max_queued_age, max_dead, as_json: bool, **options):
        url = url or local_url(env_str("NT_BIND", "127.0.0.1:8000"))
        results = canary.run(canary.Options(
            url=url, api_key=api_key if api_key is not None else env_str("NT_CANARY_API_KEY"),
            metrics_token=settings.METRICS_TOKEN, ping_timeout=ping_timeout, max_queued_age=max_queued_age,
            max_dead=max_dead))
        if as_json:
            self.stdout.write(json.dumps({"ok": all(r.ok for r in results), "checks": canary.as_dicts(results)}, indent=2))
        else:
            width = max(len(r.name) for r in results)
            for r in results:
                self.stdout.write(f"{'ok  ' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.ms:>8.1f} ms  {r.detail}")
        failed = [r for r in results if not r.ok]
        if failed:
            raise CommandError(f"canary failed: {'; '.join(f'{r.name}: {r.detail}' for r in failed)}")

