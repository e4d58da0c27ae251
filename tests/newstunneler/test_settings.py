import os

from django.conf import settings

from tests.processes import embedded_env, embedded_redis_cleanup, manage


def test_debug_is_off_unless_asked_for():
    assert "NT_DEBUG" not in os.environ
    assert settings.DEBUG is False


def test_secret_key_is_generated_and_kept_under_var(tmp_path):
    env = embedded_env(tmp_path)
    show = "from django.conf import settings; print(settings.SECRET_KEY)"
    with embedded_redis_cleanup(tmp_path):
        first = manage("shell", "-v", "0", "-c", show, env=env).stdout.strip()
        second = manage("shell", "-v", "0", "-c", show, env=env).stdout.strip()
    key_file = tmp_path / "secret_key"
    assert len(first) >= 50
    assert first == second == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_embedded_sqlite_is_tuned_for_concurrent_processes():
    if settings.DB_VENDOR != "sqlite":
        return
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] >= 5


def test_embedded_sqlite_checkpoints_its_wal_every_nt_sqlite_wal_pages(tmp_path):
    show = ("from django.db import connection; "
            "print(connection.cursor().execute('PRAGMA wal_autocheckpoint').fetchone()[0])")
    with embedded_redis_cleanup(tmp_path):
        default = manage("shell", "-v", "0", "-c", show, env=embedded_env(tmp_path)).stdout.strip()
        asked = manage("shell", "-v", "0", "-c", show, env=embedded_env(tmp_path, NT_SQLITE_WAL_PAGES="2345")).stdout.strip()
        too_few = manage("check", env=embedded_env(tmp_path, NT_SQLITE_WAL_PAGES="10"), check=False)
    assert (default, asked) == ("5000", "2345")  # (SQLite's own default: 1000)
    assert too_few.returncode != 0 and "NT_SQLITE_WAL_PAGES" in too_few.stdout + too_few.stderr


def test_postgres_keeps_health_checked_connections():
    if settings.DB_VENDOR != "postgresql":
        return
    db = settings.DATABASES["default"]
    assert db["CONN_MAX_AGE"] > 0 and db["CONN_HEALTH_CHECKS"] is True


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = embedded_env(
        tmp_path,
        NT_SECRET_KEY="x7" * 32 + "-production-like-secret",
        NT_ALLOWED_HOSTS="news.example.com",
        NT_HTTPS="1",
        NT_HSTS_PRELOAD="1",  # without it: security.W021, explained in README
    )
    with embedded_redis_cleanup(tmp_path):
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
