"""Flags: the registry in the database, is_enabled with overrides, audit of every change, rollback."""

import sys

import pytest
from django.core.management import CommandError, call_command
from waffle.models import Flag, Switch

from apps import flags
from apps.flags import checks, services
from apps.flags.checks import UnknownFlag
from apps.flags.models import FlagChange

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_memo():
    checks.clear_local_cache()
    yield
    checks.clear_local_cache()


def test_migration_created_every_registered_flag():
    assert set(Switch.objects.values_list("name", "active")) >= {
        ("rss_polling", True), ("llm_analysis", True), ("async_jobs", True), ("redis_caching", True)}
    assert Flag.objects.get(name="signal_explanations").everyone is None  # targeting decides


def test_unknown_names_raise_in_tests():
    with pytest.raises(UnknownFlag, match="no flag named 'rss_poling'"):
        flags.is_enabled("rss_poling")


def test_unknown_names_log_and_answer_off_in_production(settings):
    settings.FLAGS_STRICT = False
    assert flags.is_enabled("no_such_flag") is False


def test_environment_override_wins(settings):
    services.flag_set(name="rss_polling", enabled=True)
    settings.FLAG_OVERRIDES = {"rss_polling": False}
    assert flags.is_enabled("rss_polling") is False


def test_override_variables_are_parsed_strictly(tmp_path):
    from tests.processes import embedded_env, manage

    result = manage("check", env=embedded_env(tmp_path, NT_FLAG_RSS_POLLING="maybe"), check=False)
    assert "NT_FLAG_RSS_POLLING='maybe' is not a boolean" in result.stderr


def test_per_user_flag_targets_users_groups_and_everyone(rf, viewer, analyst, django_user_model):
    from django.contrib.auth.models import Group

    flag = Flag.objects.get(name="signal_explanations")
    flag.groups.add(Group.objects.get_or_create(name="analyst")[0])
    checks.clear_local_cache()
    assert flags.is_enabled("signal_explanations", user=analyst) is True
    assert flags.is_enabled("signal_explanations", user=viewer) is False
    request = rf.get("/")
    request.user = viewer
    assert flags.is_enabled("signal_explanations", request=request) is False
    flag.users.add(viewer)
    checks.clear_local_cache()
    assert flags.is_enabled("signal_explanations", user=viewer) is True


def test_code_changes_are_audited_and_roll_back(admin_user):
    services.flag_set(name="redis_caching", enabled=False, user=admin_user, source="api")
    change = FlagChange.objects.filter(name="redis_caching").first()
    assert (change.old, change.new, change.source, change.user) == ({"active": True}, {"active": False}, "api", admin_user)
    services.flag_rollback(change=change, user=admin_user)
    assert flags.is_enabled("redis_caching") is True
    rollback = FlagChange.objects.filter(name="redis_caching").first()
    assert (rollback.source, rollback.old, rollback.new) == ("rollback", {"active": False}, {"active": True})


def test_waffle_command_changes_are_audited(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["manage.py", "waffle_switch", "llm_analysis", "off"])
    call_command("waffle_switch", "llm_analysis", "off")
    change = FlagChange.objects.filter(name="llm_analysis").first()
    assert (change.source, change.new) == ("command", {"active": False})


def test_admin_edits_and_actions_are_audited_and_rollback_from_the_admin(admin_client):
    switch = Switch.objects.get(name="async_jobs")
    saved = admin_client.post(f"/admin/waffle/switch/{switch.pk}/change/", {
        "name": "async_jobs", "note": "", "created_0": "2026-11-01", "created_1": "10:00:00",
        "modified_0": "2026-11-01", "modified_1": "10:00:00"})  # "active" unticked
    assert saved.status_code == 302
    admin_client.post("/admin/waffle/switch/", {"action": "enable_switches", "_selected_action": [switch.pk]})
    changes = list(FlagChange.objects.filter(name="async_jobs", source="admin").order_by("at", "id"))
    assert [(c.old, c.new) for c in changes] == [({"active": True}, {"active": False}), ({"active": False}, {"active": True})]
    assert all(c.user.username == "alice-admin" for c in changes)
    ask = {"action": "roll_back", "_selected_action": [changes[-1].pk]}
    confirm = admin_client.post("/admin/flags/flagchange/", ask).content.decode()
    assert "Roll back 1 flag change(s)?" in confirm and "now on, back to <strong>off</strong>" in confirm
    assert Switch.objects.get(name="async_jobs").active is True  # nothing happens before the confirmation
    response = admin_client.post("/admin/flags/flagchange/", {**ask, "confirm": "yes"}, follow=True)
    assert "sync_jobs restored to off." in response.content.decode()  # (the admin capitalises the message)
    assert Switch.objects.get(name="async_jobs").active is False
    log = admin_client.get("/admin/flags/flagchange/").content.decode()
    assert "{&#x27;active&#x27;" not in log and 'field-old_state">on<' in log
    page = admin_client.get("/admin/waffle/switch/").content.decode()
    assert "registered" in page


def test_admin_shows_overrides(admin_client, settings):
    settings.FLAG_OVERRIDES = {"rss_polling": False}
    assert "NT_FLAG_RSS_POLLING=off (wins)" in admin_client.get("/admin/waffle/switch/").content.decode()


def test_sync_flags_creates_missing_and_reports_drift(capsys):
    Switch.objects.filter(name="redis_caching").delete()
    Switch.objects.create(name="old_experiment", active=True)
    with pytest.raises(CommandError, match="drifted"):
        call_command("sync_flags", "--check")
    out = capsys.readouterr().out
    assert "missing: switch redis_caching" in out and "unknown (not in the registry): switch old_experiment" in out
    assert not Switch.objects.filter(name="redis_caching").exists()
    call_command("sync_flags")
    assert Switch.objects.get(name="redis_caching").active is True
    assert "created: switch redis_caching (on)" in capsys.readouterr().out
    Switch.objects.filter(name="old_experiment").delete()
    call_command("sync_flags", "--check")


def test_per_user_flag_percent_targeting_is_sticky_per_browser(rf, viewer):
    flag = Flag.objects.get(name="signal_explanations")
    flag.percent = 50
    flag.save()
    checks.clear_local_cache()
    answers = {}
    for cookie in ("True", "False"):  # the sticky cookie waffle sets on a browser's first roll
        request = rf.get("/", HTTP_COOKIE=f"dwf_signal_explanations={cookie}")
        request.user = viewer
        answers[cookie] = flags.is_enabled("signal_explanations", request=request)
    assert answers == {"True": True, "False": False}
    request = rf.get("/")
    request.user = viewer
    rolled = flags.is_enabled("signal_explanations", request=request)
    assert request.waffles["signal_explanations"][0] is rolled  # waffle will set the cookie from this roll


def test_changes_to_a_flags_users_and_groups_are_audited_and_roll_back(admin_client, viewer, analyst):
    from django.contrib.auth.models import Group

    flag = Flag.objects.get(name="alert_stream")
    url = f"/admin/waffle/flag/{flag.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [getattr(v, "pk", v) for v in value]
        else:
            data[name] = value
    data.update({"users": f"{viewer.pk},{analyst.pk}",  # (a raw-id widget: comma-separated ids)
                 "groups": [Group.objects.get(name="analyst").pk]})
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if k not in ("created", "modified")}
    data.update({"created_0": "2026-11-01", "created_1": "10:00:00", "modified_0": "2026-11-01", "modified_1": "10:00:00"})
    assert admin_client.post(url, data).status_code == 302
    changes = list(FlagChange.objects.filter(name="alert_stream", source="admin").order_by("id"))
    assert changes and all(c.user.username == "alice-admin" for c in changes)
    assert changes[-1].new == {"users": sorted([viewer.username, analyst.username]), "groups": ["analyst"]}
    assert changes[0].old == {"users": [], "groups": []}
    flag.users.remove(analyst)  # from code
    change = FlagChange.objects.filter(name="alert_stream").first()
    assert (change.source, change.old["users"], change.new["users"]) == (
        "code", sorted([viewer.username, analyst.username]), [viewer.username])
    services.flag_rollback(change=change)
    assert sorted(flag.users.values_list("username", flat=True)) == sorted([viewer.username, analyst.username])
    assert FlagChange.objects.filter(name="alert_stream").first().source == "rollback"


@pytest.mark.django_db(transaction=True)  # the refresher reads in its own thread and connection
def test_an_expired_memo_answers_at_once_while_a_background_thread_reads_the_change(settings, monkeypatch):
    settings.FLAGS_BACKGROUND_REFRESH = True
    services.flag_set(name="rss_polling", enabled=True)
    assert flags.is_enabled("rss_polling") is True  # read and memoised
    row = Switch.objects.get(name="rss_polling")
    row.active = False
    row.save()  # another process's change: waffle refreshes the shared cache, this process's memo is fresh
    assert flags.is_enabled("rss_polling") is True
    monkeypatch.setattr(checks, "LOCAL_TTL", 0.0)  # now every memo entry is expired
    assert flags.is_enabled("rss_polling") is True  # the last known answer, without waiting ...
    checks._refresher.wait_idle()
    monkeypatch.setattr(checks, "LOCAL_TTL", 60.0)
    assert flags.is_enabled("rss_polling") is False  # ... while the refresher read the change
