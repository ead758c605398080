"""``manage.py bootstrap``: what ``make run`` relies on to give a newcomer a working login."""

import stat
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents.models import Incident, RoleAssignment, Runbook, TimelineEntry
from ircore import roles
from ircore.models import DemoMarker, Heartbeat, Profile, Service, Severity, Team

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def var_dir(settings, tmp_path):
    """The admin password file goes to a VAR_DIR of the test's own, never the real var/."""
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:8123"
    return tmp_path


def bootstrap(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    models = (User, Profile, Team, Service, Severity, Incident, RoleAssignment, TimelineEntry)
    counts = {model.__name__: model.objects.count() for model in models}
    counts["memberships"] = User.groups.through.objects.count()
    counts["heartbeats"] = Heartbeat.objects.count()
    counts["runbooks"] = Runbook.objects.count()
    return counts


def test_second_run_changes_nothing(var_dir):
    first_out = bootstrap()
    first = snapshot()
    password = (var_dir / "admin_password").read_text()
    passwords = dict(User.objects.values_list("username", "password"))

    second_out = bootstrap()

    assert snapshot() == first
    assert (var_dir / "admin_password").read_text() == password
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert "Policy: loaded default.yaml" in first_out
    assert "Demo data: created" in first_out
    assert "left as is" in second_out and "Demo data: already loaded" in second_out
    assert first["Severity"] == 4 and first["Incident"] == 4 and first["Team"] == 3


def test_seeded_runbooks_are_loaded_once_and_linked(var_dir):
    out = bootstrap()

    shipped = len(list((settings.BASE_DIR / "runbooks").glob("*.md")))
    assert shipped >= 5
    assert Runbook.objects.count() == shipped
    assert f"Runbooks: loaded {shipped} from runbooks/." in out
    # Linked to the demo services that exist, so they show on incidents.
    assert Runbook.objects.filter(services__slug="payments-api").exists()
    assert "Runbooks: already present" in bootstrap()
    assert Runbook.objects.count() == shipped


def test_prints_login_that_works(var_dir, client):
    out = bootstrap()

    password_file = var_dir / "admin_password"
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert "URL:      http://127.0.0.1:8123/admin/" in out
    assert "Username: admin" in out
    assert f"Password: {password}" in out
    assert "same password" in out

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": password}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert User.objects.get(username="admin").is_superuser
    # The demo staff share it, as printed.
    assert client.login(username="maria", password=password)


def test_demo_data_is_what_the_readme_promises(var_dir):
    bootstrap()

    services = {s.name: (s.tier, s.public, s.team.name) for s in Service.objects.all()}
    assert services == {
        "Payments API": (1, True, "Payments"),
        "Settlement": (1, True, "Payments"),
        "Merchant Dashboard": (2, True, "Platform"),
        "Webhooks": (2, True, "Platform"),
        "Internal Admin": (3, False, "Platform"),
    }
    assert Service.objects.get(name="Payments API").display_public_name == "Payments"
    assert set(Team.objects.values_list("name", flat=True)) == {"Payments", "Platform", "Support"}

    groups = {g: set(Group.objects.get(name=g).user_set.values_list("username", flat=True))
              for g in roles.ROLE_GROUPS}  # fmt: skip
    assert groups == {
        roles.INCIDENT_MANAGERS: {"maria"},
        roles.RESPONDERS: {"raj", "dana"},
        roles.SUPPORT: {"sam"},
        roles.LEADERSHIP: {"lee"},
        roles.LEGAL_REVIEWERS: set(),
    }
    today = timezone.localdate()
    profiles = {p.user.username: p for p in Profile.objects.select_related("user")}
    assert profiles["maria"].ic_certified(today)
    assert profiles["maria"].ic_certification_expires.year == today.year + 1
    assert profiles["raj"].ic_certified(today)
    assert not profiles["dana"].ic_certified(today)
    assert {profiles[n].time_zone for n in ("maria", "raj", "dana")} == {
        "Europe/London",
        "Asia/Kolkata",
        "America/New_York",
    }
    assert all(profiles[n].phone and profiles[n].chat_handle for n in ("maria", "sam", "lee"))

    # The two incidents of the incidents demo (the status page adds a past one ten days
    # ago, the drills a game day's drill incident).
    open_, resolved = Incident.objects.real().order_by("-declared_at")[:2]
    assert (open_.severity.rank, open_.status) == (2, Incident.Status.INVESTIGATING)
    ic = open_.roles.get(role=RoleAssignment.Role.INCIDENT_COMMANDER, relieved_at=None)
    assert ic.user.username == "maria"
    assert open_.timeline.filter(kind__in=TimelineEntry.MANUAL_KINDS).count() == 3
    assert set(open_.services.values_list("name", flat=True)) == {"Payments API", "Webhooks"}
    assert (resolved.severity.rank, resolved.status) == (3, Incident.Status.RESOLVED)
    assert 2 <= (timezone.now() - resolved.resolved_at).days <= 4


def test_lost_password_file_resets_admin_and_demo_staff(var_dir, client):
    bootstrap()
    old = (var_dir / "admin_password").read_text().strip()
    (var_dir / "admin_password").unlink()

    out = bootstrap()

    new = (var_dir / "admin_password").read_text().strip()
    assert new != old
    assert f"Password: {new}" in out and "password reset" in out
    assert client.login(username="admin", password=new)
    assert client.login(username="raj", password=new)
    assert not client.login(username="admin", password=old)


def test_production_bootstrap_never_resets_an_existing_admin(var_dir, client):
    bootstrap("--no-demo")
    admin = User.objects.get(username="admin")
    admin.set_password("chosen-by-the-operator")
    admin.save()
    (var_dir / "admin_password").unlink()  # a new container: var/ is empty again

    out = bootstrap("--no-demo")

    assert "--reset-admin-password" in out
    assert "chosen-by" not in out and "Password: (" in out
    assert client.login(username="admin", password="chosen-by-the-operator")
    assert not (var_dir / "admin_password").exists()

    out = bootstrap("--no-demo", "--reset-admin-password")
    new = (var_dir / "admin_password").read_text().strip()
    assert f"Password: {new}" in out
    assert client.login(username="admin", password=new)


def test_stored_password_is_reused_for_a_new_database(var_dir, client):
    (var_dir / "admin_password").write_text("kept-from-before-42\n")

    out = bootstrap("--no-demo")

    assert "Password: kept-from-before-42" in out
    assert client.login(username="admin", password="kept-from-before-42")
    assert not Team.objects.exists() and not Incident.objects.exists()


def test_password_changed_in_the_admin_is_respected(var_dir, client):
    bootstrap("--no-demo")
    stored = (var_dir / "admin_password").read_text()
    admin = User.objects.get(username="admin")
    admin.set_password("chosen-by-the-admin")
    admin.save()

    out = bootstrap()

    assert "changed by hand" in out
    assert (var_dir / "admin_password").read_text() == stored
    assert client.login(username="admin", password="chosen-by-the-admin")
    # Demo staff would share a password nobody can print, so no demo is made.
    assert not Team.objects.exists()


def test_demo_is_never_mixed_into_an_install_with_its_own_data(var_dir, client):
    maria = User.objects.create_user("maria", password="her-own-password")

    out = bootstrap()

    assert "Demo data: skipped: this database already has" in out
    assert client.login(username="maria", password="her-own-password")
    assert not maria.groups.exists()
    assert not Team.objects.exists() and not Incident.objects.exists()
    assert not DemoMarker.objects.exists()
    assert "Demo staff" not in out


def test_an_existing_policy_is_never_overwritten(var_dir):
    Severity.objects.create(key="P0", rank=1, name="Everything is on fire")

    out = bootstrap("--no-demo")

    assert list(Severity.objects.values_list("key", flat=True)) == ["P0"]
    assert "Policy: already present (severities: 1); left as is" in out


def test_missing_policy_file_is_refused_and_writes_nothing(var_dir, tmp_path):
    with pytest.raises(CommandError, match="nowhere.yaml not found"):
        bootstrap("--policy", str(tmp_path / "nowhere.yaml"))

    assert not User.objects.filter(username="admin").exists()
    assert not (var_dir / "admin_password").exists()
