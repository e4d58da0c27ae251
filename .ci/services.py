"""CI helper: make sure PostgreSQL and Redis answer, prepare a database and a Redis db for the run.

usage: services.py prepare DBNAME REDIS_DB   -> prints the server versions, creates DBNAME, flushes REDIS_DB
       services.py cleanup DBNAME REDIS_DB   -> drops DBNAME (and its test_ twin), flushes REDIS_DB
Exit 3 when a service is unreachable (CI treats that as a failure).
"""

import sys

import psycopg
import redis
from psycopg import sql

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "connect_timeout": 5}
REDIS = {"host": "127.0.0.1", "port": 6379, "socket_timeout": 5}


def _pg():
    return psycopg.connect(**PG, autocommit=True)


def prepare(dbname: str, redis_db: int) -> None:
    try:
        with _pg() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(dbname)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        print(f"PostgreSQL {version} at 127.0.0.1:5432: created database {dbname}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL unreachable at 127.0.0.1:5432: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    try:
        client = redis.Redis(**REDIS, db=redis_db)
        version = client.info("server")["redis_version"]
        client.flushdb()
        print(f"Redis {version} at 127.0.0.1:6379: flushed db {redis_db}")
    except redis.RedisError as exc:
        print(f"Redis unreachable at 127.0.0.1:6379: {exc}", file=sys.stderr)
        raise SystemExit(3) from None


def cleanup(dbname: str, redis_db: int) -> None:
    with _pg() as conn:
        for name in (dbname, f"test_{dbname}"):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    redis.Redis(**REDIS, db=redis_db).flushdb()


if __name__ == "__main__":
    action, dbname, redis_db = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"prepare": prepare, "cleanup": cleanup}[action](dbname, redis_db)
