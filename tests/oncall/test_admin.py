"""The on-call admin against real views: every page opens with data; the layer form asks to
confirm the rule warnings and then saves through the services; the calendar and the now page
(every role group reads it, in a fixed number of queries); feed links shown once; no inline
styles or scripts."""

import re
from datetime import date

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from ircore.models import Team
from oncall import services
from oncall.models import FeedToken, Layer, LayerRoster, Override, Schedule, ShiftSwapRequest
from tests.ircore.test_admin_smoke import form_data

from .conftest import T0, at

pytestmark = pytest.mark.django_db
ONCALL_MODELS = [m for m in admin.site._registry if m._meta.app_label == "oncall"]


@pytest.fixture
def clock():
    with time_machine.travel(at(days=1, hours=3), tick=False) as traveller:
        yield traveller


@pytest.fixture
def rota(make_layer, crew, schedule):
    primary = make_layer([crew.alice, crew.bob], name="Primary")
    secondary = make_layer([crew.carol, crew.dave], name="Secondary", kind="daily")
    services.override_create(
        layer=primary, user=crew.dave, start=at(days=2), end=at(days=3), by=crew.boss, now=T0
    )
    services.skip_add(layer=secondary, user=crew.carol, day=date(2025, 3, 7), by=crew.boss, now=T0)
    services.swap_offer(layer=primary, user=crew.alice, start=at(days=4), end=at(days=5), now=T0)
    services.feed_token_create(by=crew.boss, schedule=schedule)
    return primary, secondary


def url(model, view, *args):
    return reverse(f"admin:oncall_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", ONCALL_MODELS, ids=lambda m: m._meta.model_name)
def test_every_oncall_admin_page_opens_with_data(admin_client, rota, clock, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "add"), follow=True).status_code in (200, 403)
    obj = model._default_manager.first()
    if obj is not None:
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def test_calendar_marks_overrides_and_covers(admin_client, schedule, rota, clock):
    page = admin_client.get(url(Schedule, "calendar", schedule.pk), {"start": "2025-03-03"})
    html = page.content.decode()
    assert page.status_code == 200
    rows = page.context["grid"]
    assert [r["day"] for r in rows][:2] == [date(2025, 3, 3), date(2025, 3, 4)]
    wednesday = rows[2]["cells"]  # Wed 5 March: dave overrides the primary from 09:00
    assert [(e["when"], e["who"], e["override"]) for e in wednesday[0]] == [
        ("00:00–09:00", "Alice Test", False),
        ("09:00–24:00", "Dave Test", True),
    ]
    friday_secondary = rows[4]["cells"][1]
    assert any(e["cover"] and e["covers"] == "Carol Test" for e in friday_secondary)
    assert "oc-override" in html and page.context["columns"] == ["Primary", "Secondary", "Final"]
    bad = admin_client.get(
        url(Schedule, "calendar", schedule.pk), {"start": "2025-02-30", "weeks": "x"}
    )
    assert bad.status_code == 200


@pytest.mark.parametrize("persona", ["manager", "responder", "support", "leader"])
def test_every_role_group_reads_who_is_on_call_now(client, cast, rota, clock, persona):
    client.force_login(getattr(cast, persona))
    page = client.get(url(Schedule, "now"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alice Test" in html and "@alice" in html
    phone = "+442079460005"
    assert (phone in html) == (persona != "support")


def test_outsider_cannot_read_who_is_on_call(client, cast, rota):
    client.force_login(cast.outsider)
    assert client.get(url(Schedule, "now")).status_code == 302  # not staff: to the login


def _schedules(make_layer, crew, count):
    for i in range(count):
        team = Team.objects.create(name=f"Team {i}", slug=f"team-{i}")
        schedule = services.schedule_create(team=team, name=f"S{i}", time_zone="Europe/London")
        make_layer([crew.alice, crew.bob], target=schedule, name="Primary", level=1)
        make_layer([crew.carol, crew.dave], target=schedule, name="Secondary", level=2)


@pytest.mark.parametrize("count", [1, 20])
def test_now_page_queries_do_not_grow_with_schedules(
    client, cast, make_layer, crew, clock, count, django_assert_num_queries
):
    _schedules(make_layer, crew, count)
    client.force_login(cast.support)
    client.get(url(Schedule, "now"))  # warm the permission cache of the session user
    # session, user, profile (the time zone middleware), permissions (user's, groups'),
    # then on_call_now's seven reads: schedules with teams, layers, rosters, roster members,
    # overrides, skips, and the people with their profiles.
    with django_assert_num_queries(12):
        assert client.get(url(Schedule, "now")).status_code == 200


def test_layer_form_asks_to_confirm_warnings_then_saves(admin_client, schedule, crew):
    data = {
        "schedule": schedule.pk,
        "name": "Primary",
        "level": "1",
        "kind": "weekly",
        "every": "1",
        "start_date": "2030-01-07",
        "handoff_time": "09:00",
        "members": "alice",
        **{f"{p}-TOTAL_FORMS": "0" for p in ("rosters", "skips", "overrides")},
        **{f"{p}-INITIAL_FORMS": "0" for p in ("rosters", "skips", "overrides")},
    }
    page = admin_client.post(url(Layer, "add"), data)
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors["accept_warnings"]
    assert any("fewer than two people" in e for e in errors)
    assert not Layer.objects.exists()  # nothing saved

    done = admin_client.post(url(Layer, "add"), {**data, "accept_warnings": "on"})
    assert done.status_code == 302
    layer = Layer.objects.get()
    assert [e.user.username for e in layer.rosters.get().entries.all()] == ["alice"]
    assert layer.history.first().history_user.username == "admin"
    assert layer.next_handoff_at is not None


def test_roster_version_added_on_the_layer_page(admin_client, rota, crew):
    primary, _ = rota
    page = admin_client.get(url(Layer, "change", primary.pk))
    data = form_data(page)
    data.update(
        {
            "rosters-1-effective_from": "2030-01-01",
            "rosters-1-participants": "bob, carol, alice",
            "rosters-TOTAL_FORMS": "2",
            "accept_warnings": "on",
        }
    )
    response = admin_client.post(url(Layer, "change", primary.pk), data)
    assert response.status_code == 302
    latest = LayerRoster.objects.filter(layer=primary).latest("effective_from")
    assert [e.user.username for e in latest.entries.all()] == ["bob", "carol", "alice"]


def test_override_added_by_a_responder(client, cast, rota, crew):
    primary, _ = rota
    client.force_login(cast.responder)
    response = client.post(
        url(Override, "add"),
        {
            "layer": primary.pk,
            "user": crew.bob.pk,
            "start_0": "2030-01-01",
            "start_1": "09:00",
            "end_0": "2030-01-02",
            "end_1": "09:00",
            "reason": "Swap my Tuesday",
        },
    )
    assert response.status_code == 302
    override = Override.objects.get(reason="Swap my Tuesday")
    assert (
        override.created_by == cast.responder
        and override.history.first().history_user == cast.responder
    )


def test_swap_taken_from_the_decide_page(client, cast, rota, crew, clock):
    offer = ShiftSwapRequest.objects.get()
    client.force_login(crew.carol)
    page = client.get(url(ShiftSwapRequest, "decide", offer.pk))
    assert page.context["can"] == {"take": True, "assign": False, "cancel": False}
    client.post(url(ShiftSwapRequest, "decide", offer.pk), {"verb": "take"})
    offer.refresh_from_db()
    assert offer.status == "taken" and offer.taken_by == crew.carol
    client.force_login(cast.support)
    assert (
        client.post(url(ShiftSwapRequest, "decide", offer.pk), {"verb": "take"}).status_code == 403
    )


def test_feed_link_is_shown_once_and_works(client, crew, rota, clock):
    client.force_login(crew.alice)
    response = client.post(url(FeedToken, "add"), {"user": crew.alice.pk, "label": "Phone"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    link = response.context["url"]
    assert link.startswith("http://testserver/oncall/feeds/") and link.endswith(".ics")
    assert client.get(link.removeprefix("http://testserver")).status_code == 200
    # The list shows only its last letters; nobody can read the token again.
    listing = client.get(url(FeedToken, "changelist")).content.decode()
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in listing and token[-4:] in listing
    # A responder may not make a schedule's feed.
    refused = client.post(url(FeedToken, "add"), {"schedule": rota[0].schedule_id})
    assert FeedToken.objects.filter(schedule__isnull=False, created_by=crew.alice).count() == 0
    assert refused.status_code in (200, 302)


def test_feed_link_revoked_from_the_list(admin_client, schedule, rota):
    row = FeedToken.objects.get()
    admin_client.post(
        url(FeedToken, "changelist"), {"action": "revoke", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_oncall_pages_have_no_inline_styles_or_scripts(admin_client, schedule, rota, clock):
    pages = [
        url(Schedule, "now"),
        url(Schedule, "calendar", schedule.pk),
        url(ShiftSwapRequest, "decide", ShiftSwapRequest.objects.get().pk),
    ]
    for path in pages:
        html = admin_client.get(path).content.decode()
        main = html[html.index('id="content-main"') :]
        assert 'style="' not in main and not re.search(r"<script(?![^>]*\bsrc=)", main), path


def test_deleting_a_schedule_goes_through_the_service_with_history(admin_client, schedule, rota):
    response = admin_client.post(url(Schedule, "delete", schedule.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Schedule.objects.exists() and not Layer.objects.exists()
    gone = Schedule.history.filter(history_type="-").get()
    assert gone.history_user.username == "admin"
