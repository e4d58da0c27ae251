"""`manage.py move_to_postgres`: the embedded SQLite database (this test's) copied into a real, throwaway
PostgreSQL database. Runs in the embedded pass when a PostgreSQL server is reachable
(NT_TEST_POSTGRES_URL, default the loopback one CI has); skipped otherwise and in PostgreSQL mode."""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from apps.importers import move
from apps.signals.models import Signal
from tests import factories

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the source is the embedded SQLite")]
SERVER = os.environ.get("NT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _admin():
    import psycopg

    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL server at {SERVER}")


@pytest.fixture
def target():
    name = f"nt_test_move_{uuid.uuid4().hex[:8]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(SERVER)._replace(path=f"/{name}"))
    move.disconnect_target()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def data(viewer):
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract award", analyse=True)
    factories.article("Tesla shares plunge after recall", summary="Sales fell 20%.", analyse=True)
    return Signal.objects.order_by("pk")


def test_everything_moves_with_its_ids_and_parity_is_checked(target, data, viewer, capsys):
    call_command("move_to_postgres", target, "--batch-size", "3")
    out = capsys.readouterr().out
    assert "Parity: " in out and "every checksum equal" in out
    assert f"DATABASE_URL={target}" in out
    moved = Signal.objects.using(move.ALIAS).order_by("pk")
    assert [(s.pk, s.symbol, s.score, s.t, s.reasons) for s in moved] == [
        (s.pk, s.symbol, s.score, s.t, s.reasons) for s in data]
    from django.contrib.auth.models import User

    assert User.objects.using(move.ALIAS).get(pk=viewer.pk).groups.count() == viewer.groups.count() == 1
    fresh = Signal.objects.using(move.ALIAS).create(symbol="NEW", t=data[0].t, score=1, label="Ignore")
    assert fresh.pk > max(s.pk for s in data)  # sequences set past the copied ids
    assert "importers_move_progress" not in connections[move.ALIAS].introspection.table_names()


def test_an_interrupted_move_resumes_without_duplicates(target, data, capsys):
    mover = move.Mover(target, batch_size=2, say=lambda *a: None)
    mover.prepare()
    calls = []

    def stop_after_a_few(done, total, detail):
        calls.append(detail)
        if len(calls) == 40:
            raise KeyboardInterrupt
    mover.progress = stop_after_a_few
    with pytest.raises(KeyboardInterrupt):
        mover.copy()
    partial = sum(count for _, count in _counts(mover))
    assert 0 < partial < sum(count for _, count in mover.plan())
    call_command("move_to_postgres", target)
    out = capsys.readouterr().out
    assert "Resuming the interrupted move" in out and "every checksum equal" in out


def test_a_target_with_data_is_refused_and_a_dry_run_writes_nothing(target, data, capsys):
    call_command("move_to_postgres", target, "--dry-run")
    assert "an empty database: it would be migrated" in capsys.readouterr().out
    assert connections[move.ALIAS].introspection.table_names() == []
    call_command("move_to_postgres", target, "--skip-parity")
    connections[move.ALIAS].cursor().execute('DROP TABLE IF EXISTS "importers_move_progress"')
    with pytest.raises(CommandError, match="already holds data"):
        call_command("move_to_postgres", target)


def test_bad_targets_get_clear_errors(data):
    with pytest.raises(CommandError, match="must start with postgres://"):
        call_command("move_to_postgres", "mysql://x@localhost/db")
    with pytest.raises(CommandError, match="cannot connect to the target"):
        call_command("move_to_postgres", "postgres://nobody@127.0.0.1:1/none")


def _counts(mover):
    with connections[move.ALIAS].cursor() as cursor:
        for model in mover.models:
            cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
            yield model._meta.db_table, cursor.fetchone()[0]


def test_migrating_the_target_seeds_the_target_not_the_source(target, data):
    from apps.jobs.models import Schedule

    Schedule.objects.filter(name="poll feeds").delete()  # if migrate seeded the default database, it would be back
    mover = move.Mover(target, say=lambda *a: None)
    call_command("migrate", database=move.ALIAS, verbosity=0)
    assert Schedule.objects.using(move.ALIAS).filter(name="poll feeds").exists()
    assert not Schedule.objects.filter(name="poll feeds").exists()
    assert mover.target.vendor == "postgresql"
