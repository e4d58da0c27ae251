import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newstunneler import embedded_redis
from newstunneler.env import env_int, env_str

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


class Command(BaseCommand):
    help = (
        "Run web (gunicorn), the WebSocket server (uvicorn, ASGI), worker (rundramatiq) and scheduler as separate "
        "processes in one terminal. "
        "Ctrl-C or SIGTERM stops all of them; if one dies, the others are stopped too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=env_str("NT_BIND", "127.0.0.1:8000"), help="host:port for the web server")
        parser.add_argument("--ws-bind", default=settings.WS_BIND,
                            help="host:port for the WebSocket alert stream (ASGI, uvicorn); default NT_WS_BIND")
        parser.add_argument("--web-workers", type=int, default=env_int("NT_WEB_WORKERS", 2, minimum=1))
        parser.add_argument("--stop-timeout", type=float, default=20.0, help="seconds to wait for a graceful stop")

    def handle(self, *args, bind, ws_bind, web_workers, stop_timeout, **options):
        if ":" not in bind:
            raise CommandError(f"--bind must be host:port, got {bind!r}")
        if ":" not in ws_bind:
            raise CommandError(f"--ws-bind must be host:port, got {ws_bind!r}")
        ws_host, ws_port = ws_bind.rsplit(":", 1)
        self.stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stop.set())
        commands = {
            "web": [
                sys.executable, "-m", "gunicorn", "newstunneler.wsgi:application",
                "--config", "python:newstunneler.gunicorn_conf",
                "--bind", bind, "--workers", str(web_workers), "--threads", str(settings.WEB_THREADS),
                "--graceful-timeout", "10",
                "--timeout", "60", "--error-logfile", "-",
                "--control-socket", str(Path(settings.VAR_DIR) / "gunicorn.ctl"),
            ],
            "ws": [
                sys.executable, "-m", "uvicorn", "newstunneler.asgi:application", "--host", ws_host.strip("[]"),
                "--port", ws_port, "--ws", "websockets", "--lifespan", "off", "--no-access-log",
                "--timeout-graceful-shutdown", "5",
            ],
            "worker": [
                sys.executable, MANAGE, "rundramatiq", "--skip-logging",
                "--processes", str(settings.WORKER_PROCESSES), "--threads", str(settings.WORKER_THREADS),
                "--worker-shutdown-timeout", str(int(stop_timeout * 1000 * 0.75)),
            ],
            "scheduler": [sys.executable, MANAGE, "run_scheduler"],
        }
        self.children: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            self.children[name] = self._start(name, command)
        host, port = bind.rsplit(":", 1)
        self.stdout.write(
            self.style.SUCCESS(f"News Tunneler is running on http://{host}:{port}/ (admin at /admin/).")
            + f" WebSocket alert stream at ws://{ws_host}:{ws_port}/ws/v2/alerts/."
            + " Ctrl-C stops web, WebSocket server, worker and scheduler."
        )
        failed = self._supervise()
        self._shutdown(stop_timeout)
        if failed:
            raise CommandError(f"{failed} exited unexpectedly; stopped the others")

    def _start(self, name, command):
        # Own session: Ctrl-C reaches only this supervisor, which then stops children in order.
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=settings.BASE_DIR, text=True, bufsize=1,
        )
        threading.Thread(target=self._relay, args=(name, child), daemon=True).start()
        return child

    def _relay(self, name, child):
        prefix = f"{name:<9}| "
        for line in child.stdout:
            sys.stdout.write(prefix + line)
            sys.stdout.flush()

    def _supervise(self):
        while not self.stop.wait(0.5):
            for name, child in self.children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with code {child.returncode}")
                    return name
        return None

    def _shutdown(self, timeout):
        self.stdout.write("Stopping web, WebSocket server and scheduler, then worker ...")
        for group in (("web", "ws", "scheduler"), ("worker",)):
            for name in group:
                if self.children[name].poll() is None:
                    self.children[name].send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for name in group:
                try:
                    self.children[name].wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stderr.write(f"{name} did not stop within {timeout}s; killing it")
                    self.children[name].kill()
                    self.children[name].wait()
        if settings.EMBEDDED_REDIS:
            embedded_redis.stop(settings.VAR_DIR)
        self.stdout.write("Stopped.")
