"""Run the project as separate processes (manage.py, the whole stack) the way an operator would."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from newstunneler import embedded_redis

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")


def embedded_env(var_dir: Path, **extra: str) -> dict:
    """A clean environment in embedded mode (no DATABASE_URL/REDIS_URL), its data under var_dir."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NT_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "newstunneler.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def manage(*args: str, env: dict, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@contextmanager
def embedded_redis_cleanup(var_dir: Path):
    """Stop the embedded Redis a subprocess may have started under var_dir, whatever happens."""
    try:
        yield
    finally:
        embedded_redis.stop(var_dir)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 20.0, what: str = "the condition", every: float = 0.1):
    """Poll `condition` until it returns something true (another process's work, a browser's page load);
    returns that value, or fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
