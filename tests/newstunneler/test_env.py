import pytest
from django.core.exceptions import ImproperlyConfigured

from newstunneler import env
from tests.processes import embedded_env, manage


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("ON", True), ("0", False), ("off", False), ("", False)]
)
def test_env_bool_accepts_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("NT_SOMETHING", value)
    assert env.env_bool("NT_SOMETHING") is expected


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (lambda: env.env_bool("NT_X"), "maybe", "NT_X='maybe' is not a boolean"),
        (lambda: env.env_int("NT_X", 1), "ten", "NT_X='ten' is not an integer"),
        (lambda: env.env_int("NT_X", 1, minimum=1), "0", "NT_X=0 is below the minimum 1"),
        (lambda: env.env_float("NT_X", 1.0), "x", "NT_X='x' is not a number"),
        (lambda: env.env_choice("NT_X", "a", {"a", "b"}), "c", "NT_X='c' must be one of: a, b"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, parse, value, message):
    monkeypatch.setenv("NT_X", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        parse()


def test_unset_variables_take_defaults(monkeypatch):
    monkeypatch.delenv("NT_X", raising=False)
    assert env.env_int("NT_X", 7) == 7
    assert env.env_list("NT_X", ["a"]) == ["a"]
    assert env.env_str("NT_X", "d") == "d"


def test_database_url_parsing():
    db = env.database_from_url("DATABASE_URL", "postgres://u:p%40ss@db.example:6543/news?sslmode=require")
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "news", "u", "p@ss", "db.example", "6543"
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://x/y", "must start with postgres://"), ("postgres://host:5432/", "names no database")],
)
def test_bad_database_url(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        env.database_from_url("DATABASE_URL", url)


def test_bad_redis_url():
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must start with redis://"):
        env.redis_url("REDIS_URL", "http://localhost:6379")


def test_manage_py_refuses_a_bad_setting_naming_it(tmp_path):
    result = manage("check", env=embedded_env(tmp_path, NT_DEBUG="sometimes"), check=False)
    assert result.returncode != 0
    assert "NT_DEBUG='sometimes' is not a boolean" in result.stderr
