import socket

import httpx
from django.core.management.base import BaseCommand, CommandError

from apps.jobs.middleware import heartbeat
from newstunneler.env import env_str, local_url


class Command(BaseCommand):
    help = (
        "Exit 0 if this machine's web server is ready, or a worker/scheduler on this host has beaten in the "
        "last 30 s; exit 1 with the reason otherwise. Meant for container health checks."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", choices=["web", "ws", "worker", "scheduler"])
        parser.add_argument("--url", default=None,
                            help="readiness URL (roles web, ws); default http://NT_BIND/readyz (NT_BIND default "
                                 "127.0.0.1:8000), for ws http://NT_WS_BIND/readyz (default 127.0.0.1:8001)")
        parser.add_argument("--any-host", action="store_true", help="accept a heartbeat from any host")

    def handle(self, *args, role, url, any_host, **options):
        if role in ("web", "ws"):  # the ASGI server answers Django's HTTP views too
            bind = env_str("NT_BIND", "127.0.0.1:8000") if role == "web" else env_str("NT_WS_BIND", "127.0.0.1:8001")
            url = url or f"{local_url(bind)}/readyz"
            try:
                response = httpx.get(url, timeout=5)
            except httpx.HTTPError as exc:
                raise CommandError(f"{role}: {url} unreachable: {exc}") from None
            if response.status_code != 200:
                raise CommandError(f"{role}: {url} answered {response.status_code}: {response.text[:500]}")
            self.stdout.write(f"{role}: ready")
            return

        beats = heartbeat.alive(role, host=None if any_host else socket.gethostname())
        if not beats:
            raise CommandError(f"{role}: no heartbeat in the last {heartbeat.TTL}s")
        self.stdout.write(f"{role}: {len(beats)} alive")
