"""What the suite runs against: printed in pytest's header and by .ci/run."""

from django.conf import settings


def database_version() -> str:
    if settings.DB_VENDOR == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({settings.DATABASES['default']['NAME']})"
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or None, user=db["USER"], password=db["PASSWORD"] or None,
        dbname=db["NAME"], connect_timeout=5,
    ) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version} at {db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def redis_version() -> str:
    from django_redis import get_redis_connection

    info = get_redis_connection("default").info("server")
    where = "embedded" if settings.EMBEDDED_REDIS else settings.REDIS_LOCATION
    return f"Redis {info['redis_version']} ({where})"


def describe_mode() -> str:
    mode = "embedded" if settings.DB_VENDOR == "sqlite" and settings.EMBEDDED_REDIS else "services"
    return f"News Tunneler mode: {mode}; {database_version()}; {redis_version()}"
