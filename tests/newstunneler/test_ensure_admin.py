import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.django_db
def test_creates_the_admin_once_and_prints_a_generated_password(capsys, client, monkeypatch):
    monkeypatch.delenv("NT_ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    assert client.login(username="admin", password=password)

    call_command("ensure_admin")
    assert "password" not in capsys.readouterr().out
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_takes_the_password_from_the_environment(capsys, client, monkeypatch):
    monkeypatch.setenv("NT_ADMIN_PASSWORD", "a-long-chosen-pass")
    call_command("ensure_admin")
    assert "a-long-chosen-pass" not in capsys.readouterr().out
    assert client.login(username="admin", password="a-long-chosen-pass")


@pytest.mark.django_db
def test_dry_run_creates_nothing(capsys):
    call_command("ensure_admin", "--dry-run")
    assert "Would create superuser 'admin'" in capsys.readouterr().out
    assert not get_user_model().objects.exists()
