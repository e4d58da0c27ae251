"""NT_LOG_FILE: JSON lines in a size-rotated file, from a real manage.py process."""

import json

from tests.processes import embedded_env, embedded_redis_cleanup, manage

SCRIPT = "import structlog; log = structlog.get_logger('t'); [log.info('filler', n=n, pad='x' * 2000) for n in range(1200)]"


def test_log_lines_go_to_a_rotated_json_file(tmp_path):
    log_file = tmp_path / "logs" / "nt.log"
    log_file.parent.mkdir()
    env = embedded_env(tmp_path, NT_LOG_FILE=str(log_file), NT_LOG_FILE_MAX_MB="1", NT_LOG_FILE_BACKUPS="2")
    with embedded_redis_cleanup(tmp_path):
        manage("shell", "-v", "0", "-c", SCRIPT, env=env)
    files = sorted(path.name for path in log_file.parent.iterdir() if not path.name.startswith("."))
    assert files[:3] == ["nt.log", "nt.log.1", "nt.log.2"], files  # ~2.4 MB written, 1 MB per file, 2 kept
    assert log_file.stat().st_size <= 2**20
    last = json.loads(log_file.read_text().splitlines()[-1])
    assert (last["event"], last["n"], last["level"]) == ("filler", 1199, "info") and "timestamp" in last
