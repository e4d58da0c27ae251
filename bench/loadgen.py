"""Shared by the HTTP benchmarks: a gunicorn server on a free loopback port, and a bounded load of
keep-alive GETs from several client threads."""

import http.client
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(env: dict, tmp: str, ready_path: str = "/healthz", workers: int = 2, threads: int = 1):
    """Serve the project (with env's settings) until the block ends; yields the port once it answers.
    `threads` > 1: gthread workers, as `make run` serves (run_stack: NT_WEB_THREADS, 8)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "newstunneler.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
         "--control-socket", str(Path(tmp) / "g.ctl")],
        cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", ready_path)
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(30)


def load(port: int, path: str, seconds: float, clients: int, headers: dict | None = None) -> tuple[float, float]:
    done, latencies, stop = [0] * clients, [[] for _ in range(clients)], time.monotonic() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            latencies[i].append(time.perf_counter() - started)
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    all_latencies = sorted(x for per in latencies for x in per)
    return sum(done) / seconds, all_latencies[int(len(all_latencies) * 0.99)] * 1000


def alternating(port: int, sides: dict[str, tuple[str, dict | None]], rounds: int, seconds: float,
                clients: int) -> dict[str, list[tuple[float, float]]]:
    """Each side's load() of its (path, headers) for `rounds` rounds, the sides' order reversed every other
    round (ABBA), so drift on a shared machine, and going first or second, hit every side alike."""
    results, order = {name: [] for name in sides}, list(sides)
    for n in range(rounds):
        for name in order if n % 2 == 0 else order[::-1]:
            path, headers = sides[name]
            results[name].append(load(port, path, seconds, clients, headers))
    return results


def medians(results: list[tuple[float, float]]) -> tuple[float, float]:
    """(median rate, median p99) of load() results."""
    return statistics.median(rate for rate, _ in results), statistics.median(p99 for _, p99 in results)
