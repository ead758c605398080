"""Every registered admin page opens, whichever app registered it; and the ircore admin's
own behaviour (human durations, time zone check, profiles on the user admin)."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from ircore import policy
from ircore.models import (
    Delivery,
    FinancialThreshold,
    Heartbeat,
    NotificationEndpoint,
    Profile,
    Service,
    Severity,
    Team,
)

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"

# Read at collection time: apps are ready and every admin.py has registered its models.
REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """POST data that resubmits an admin add/change form exactly as it was shown."""
    data: dict = {}
    forms_shown = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        forms_shown.extend(formset.forms)
    for form in forms_shown:
        for bound in form:
            data.update(_field_data(bound))
    return data


def _field_data(bound) -> dict:
    widget = bound.field.widget
    while isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    name, value = bound.html_name, bound.value()
    if bound.field.disabled:
        return {}
    if isinstance(widget, forms.CheckboxInput):
        return {name: "on"} if value else {}
    if isinstance(widget, forms.MultiWidget):
        parts = value if isinstance(value, list) else widget.decompress(value)
        return {
            f"{name}{suffix}": "" if part is None else str(part)
            for suffix, part in zip(widget.widgets_names, parts, strict=True)
        }
    if isinstance(value, list | tuple):
        return {name: [str(v) for v in value]}
    return {name: "" if value is None else str(value)}


@pytest.fixture
def catalog(db, admin_user):
    """At least one row of every ircore model (and an incident), through the policy file
    where the policy is concerned."""
    policy.import_policy(policy.load_policy_file(POLICY))
    team = Team.objects.create(name="Payments", slug="payments", lead=admin_user)
    team.members.add(admin_user)
    Service.objects.create(name="Card API", slug="card-api", team=team, public=True)
    profile = admin_user.profile
    profile.ic_certified_on = date(2024, 1, 1)
    profile.save()
    Heartbeat.objects.create(name="watchdog", last_seen=timezone.now())
    endpoint = NotificationEndpoint.objects.create(
        name="Ops channel", kind="chat", target="https://chat.example.com/hook"
    )
    Delivery.objects.create(
        channel="chat", target=endpoint.target, endpoint=endpoint, subject="Test", body="Hello"
    )
    Incident.objects.create(
        reference="INC-SMOKE", title="Smoke", severity=Severity.objects.get(key="SEV-2")
    )


def status(client, path, **params):
    """The final status code, after any redirect to a custom view (e.g. "add" may send to a
    declare form); a redirect to the login page is reported as such."""
    response = client.get(path, params, follow=True)
    if any(hop.startswith(reverse("admin:login")) for hop, _ in response.redirect_chain):
        return f"redirected to login: {response.redirect_chain}"
    return response.status_code


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label_lower)
def test_every_admin_page_opens(admin_client, admin_user, catalog, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = admin_user

    assert status(admin_client, url(model, "changelist")) == 200
    if model_admin.get_search_fields(request):
        assert status(admin_client, url(model, "changelist"), q="a") == 200
    if model_admin.has_add_permission(request):
        assert status(admin_client, url(model, "add")) == 200
    obj = model._default_manager.first()
    if obj is None:
        return  # nothing to open a change page for; the list and add pages were checked
    assert status(admin_client, url(model, "change", obj.pk)) == 200
    assert status(admin_client, url(model, "history", obj.pk)) == 200


def test_the_whole_admin_index_opens(admin_client, catalog):
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_severity_form_takes_durations_as_in_the_policy_file(admin_client, catalog):
    sev = Severity.objects.get(key="SEV-3")
    page = admin_client.get(url(Severity, "change", sev.pk))
    data = form_data(page)
    assert data["ack_target"] == "1h"  # shown the way the policy file writes it

    response = admin_client.post(url(Severity, "change", sev.pk), {**data, "ack_target": "1h30m"})
    assert response.status_code == 302
    sev.refresh_from_db()
    assert sev.ack_target == timedelta(hours=1, minutes=30)
    assert sev.checklist.count() == 5

    response = admin_client.post(
        url(Severity, "change", sev.pk), {**data, "ack_target": "5 minutes"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["ack_target"] == [
        "“5 minutes” is not a duration (use e.g. 5m, 4h, 2d)."
    ]

    response = admin_client.post(
        url(Severity, "change", sev.pk), {**data, "resolve_target": "9999999999w"}
    )
    assert response.status_code == 200  # a form error, not an overflow
    assert "longer than a year" in response.context["adminform"].form.errors["resolve_target"][0]
    sev.refresh_from_db()
    assert sev.ack_target == timedelta(hours=1, minutes=30)


def test_severity_list_shows_colour_and_targets(admin_client, catalog):
    page = admin_client.get(url(Severity, "changelist")).content.decode()
    assert "background:#d32f2f" in page
    assert '<td class="field-ack">5m</td>' in page


def test_profile_time_zone_must_be_a_real_zone(admin_client, catalog, admin_user):
    profile = admin_user.profile
    data = form_data(admin_client.get(url(Profile, "change", profile.pk)))

    response = admin_client.post(
        url(Profile, "change", profile.pk), {**data, "time_zone": "Mars/Olympus_Mons"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["time_zone"]
    assert "“Mars/Olympus_Mons” is not known" in errors["time_zone"][0]

    response = admin_client.post(
        url(Profile, "change", profile.pk), {**data, "time_zone": "Europe/London"}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.time_zone == "Europe/London"


def test_profile_list_filters_by_certification(admin_client, catalog, django_user_model):
    expired = django_user_model.objects.create_user("expired")
    expired.profile.ic_certified_on = date(2020, 1, 1)
    expired.profile.ic_certification_expires = date(2021, 1, 1)
    expired.profile.save()

    def listed(value):
        response = admin_client.get(url(Profile, "changelist"), {"certification": value})
        return {p.user.username for p in response.context["cl"].result_list}

    assert listed("certified") == {"admin"}
    assert listed("expired") == {"expired"}
    assert "expired" not in listed("none") and "admin" not in listed("none")


def test_adding_a_user_creates_one_profile_then_the_inline_edits_it(admin_client, db):
    User = Profile._meta.get_field("user").related_model
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newbie",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert Profile.objects.filter(user=user).count() == 1

    change = reverse("admin:auth_user_change", args=[user.pk])
    data = form_data(admin_client.get(change))
    assert data["profile-TOTAL_FORMS"] == 1
    data.update({"profile-0-chat_handle": "@newbie", "profile-0-time_zone": "Nowhere/Land"})
    response = admin_client.post(change, data)
    assert response.status_code == 200
    assert "time_zone" in response.context["inline_admin_formsets"][0].formset.errors[0]

    data["profile-0-time_zone"] = "America/New_York"
    assert admin_client.post(change, data).status_code == 302
    user.profile.refresh_from_db()
    assert (user.profile.chat_handle, user.profile.time_zone) == ("@newbie", "America/New_York")


def _grow(model, n, django_user_model):
    """Add ``n`` rows of ``model``, each with its related rows filled in."""
    for i in range(n):
        user = django_user_model.objects.create_user(f"grow-{model._meta.model_name}-{i}")
        if model is Team:
            team = Team.objects.create(name=f"T{i}", slug=f"t{i}", lead=user, manager=user)
            team.members.add(user)
        elif model is Service:
            team = Team.objects.create(name=f"S{i}", slug=f"s{i}")
            Service.objects.create(name=f"Svc {i}", slug=f"svc-{i}", team=team)
        elif model is Severity:
            Severity.objects.create(key=f"X-{i}", rank=100 + i, name=f"Extra {i}")
        elif model is FinancialThreshold:
            threshold = FinancialThreshold.objects.create(amount=1 + i, audience=f"A{i}")
            threshold.notify_users.add(user)
        # Profile: the user's own profile was created with it.


@pytest.mark.parametrize(
    "model", [Team, Service, Severity, FinancialThreshold, Profile], ids=lambda m: m.__name__
)
def test_change_lists_cost_the_same_queries_at_any_size(
    admin_client, catalog, model, django_user_model
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url(model, "changelist")).status_code == 200
        return len(captured)

    before = queries()
    _grow(model, 5, django_user_model)
    assert queries() == before
