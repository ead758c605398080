"""The admin and the API agree on who may do what, because both ask the verb table
(``ircore.verbs`` + ``incidents.permissions``).

Every persona x every verb, against the real views with the Django test client: in the admin,
whether the incident page (or the list, for declaring) shows the verb's button and whether a
POST to its view is taken (done, or refused by a rule) or refused for lack of permission; in
the API, whether the action endpoint answers 403. All three must match ``may(user, verb)``.

Beside the fixed cast there is a scribe: a custom group that may write the timeline and tick
the checklist but not edit the incident. The admin used to require ``change_incident`` for
notes, ticks and roles where the API did not; the scribe is where that showed.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from incidents import permissions as verbs
from incidents import services
from incidents.models import Incident
from ircore.verbs import may

from .test_admin import FormReader

# The admin has no "relieve" control (a hand-over is an assignment), and the rest of the
# table's verbs (view_*, override) are not actions of their own: they are covered elsewhere.
VERBS = [
    verbs.DECLARE,
    verbs.ACKNOWLEDGE,
    verbs.MOVE,
    verbs.CHANGE_SEVERITY,
    verbs.EDIT_DETAILS,
    verbs.ASSIGN_ROLE,
    verbs.TICK,
    verbs.NOTE,
    verbs.MARK_CHECKPOINT,
    verbs.SET_SERVICE,
    verbs.REMOVE_SERVICE,
]
PERSONAS = ["manager", "responder", "support", "leader", "outsider", "scribe"]


@pytest.fixture
def world(cast, make_user, severities, catalog, security_type):
    scribes = Group.objects.create(name="Scribes")
    scribes.permissions.set(
        Permission.objects.filter(
            content_type__app_label="incidents",
            codename__in=[
                "view_incident",
                "view_timelineentry",
                "add_timelineentry",
                "view_checklistitem",
                "change_checklistitem",
            ],
        )
    )
    scribe = make_user("sam")
    scribe.groups.add(scribes)
    return SimpleNamespace(
        **vars(cast), scribe=scribe, sev=severities, catalog=catalog, kind=security_type
    )


def declare(world, title: str) -> Incident:
    """An open, unacknowledged security incident on two services, with a checklist."""
    return services.incident_declare(
        title=title,
        severity=world.sev.sev2,
        services=[world.catalog.payments_api, world.catalog.settlement],
        incident_type=world.kind,
        user=world.manager,
    )


def admin_url(name, *args):
    return reverse(f"admin:incidents_incident_{name}", args=args)


# What shows the verb on the incident page (the change list for declaring).
MARKERS = {
    verbs.DECLARE: lambda i: f'href="{admin_url("declare")}"',
    verbs.ACKNOWLEDGE: lambda i: f'action="{admin_url("acknowledge", i.pk)}"',
    verbs.MOVE: lambda i: f'href="{admin_url("status", i.pk)}?status=',
    verbs.CHANGE_SEVERITY: lambda i: f'href="{admin_url("severity", i.pk)}"',
    verbs.EDIT_DETAILS: lambda i: 'name="_save"',
    verbs.ASSIGN_ROLE: lambda i: f'href="{admin_url("role", i.pk)}',
    verbs.TICK: lambda i: f'href="{admin_url("checklist", i.pk)}"',
    verbs.NOTE: lambda i: f'action="{admin_url("note", i.pk)}"',
    verbs.MARK_CHECKPOINT: lambda i: f'href="{admin_url("security", i.pk)}?checkpoint=',
    verbs.SET_SERVICE: lambda i: '<select name="affected-0-service"',
    verbs.REMOVE_SERVICE: lambda i: 'name="affected-0-DELETE"',
}


def admin_shows(client, verb, incident) -> bool:
    where = admin_url("changelist") if verb == verbs.DECLARE else admin_url("change", incident.pk)
    page = client.get(where)
    return page.status_code == 200 and MARKERS[verb](incident) in page.content.decode()


def change_form_post(client, world, incident, edit):
    """The incident page's form as the persona's browser would post it, with ``edit``."""
    page = client.get(admin_url("change", incident.pk))
    if page.status_code != 200:
        return client.post(admin_url("change", incident.pk), {"title": "x"})
    reader = FormReader("incident_form")
    reader.feed(page.content.decode())
    data = dict(reader.data)
    edit(data)
    data["_continue"] = "Save and continue editing"
    return client.post(admin_url("change", incident.pk), data)


def add_service(world):
    def edit(data):
        n = int(data.get("affected-TOTAL_FORMS", 0))
        data["affected-TOTAL_FORMS"] = str(n + 1)
        data[f"affected-{n}-service"] = str(world.catalog.webhooks.pk)
        data[f"affected-{n}-status"] = "degraded"

    return edit


def admin_post(client, world, verb, incident):
    item = incident.checklist.order_by("position").first()
    posts = {
        verbs.ACKNOWLEDGE: ("acknowledge", {}),
        verbs.MOVE: ("status", {"status": "investigating", "note": ""}),
        verbs.CHANGE_SEVERITY: ("severity", {"severity": world.sev.sev1.pk, "reason": "worse"}),
        verbs.ASSIGN_ROLE: ("role", {"role": "sme", "user": world.responder.pk}),
        verbs.TICK: ("checklist", {"item": item.pk, "done": "1"}),
        verbs.NOTE: ("note", {"kind": "note", "text": "Seen in the logs"}),
        verbs.MARK_CHECKPOINT: ("security", {"checkpoint": "evidence_preserved"}),
    }
    if verb == verbs.DECLARE:
        return client.post(
            admin_url("declare"),
            {
                "title": "Webhooks late",
                "severity": world.sev.sev3.pk,
                "services": [world.catalog.webhooks.pk],
            },
        )
    if verb == verbs.EDIT_DETAILS:
        return change_form_post(client, world, incident, lambda d: d.update(title="Renamed"))
    if verb == verbs.SET_SERVICE:
        return change_form_post(client, world, incident, add_service(world))
    if verb == verbs.REMOVE_SERVICE:
        return change_form_post(
            client, world, incident, lambda d: d.update({"affected-0-DELETE": "on"})
        )
    name, data = posts[verb]
    return client.post(admin_url(name, incident.pk), data)


def admin_takes(response) -> bool:
    """Taken: done (a redirect to the incident or the list) or refused by a rule (the form
    again, with the error). Not taken: 403, or the login page for someone who is not staff."""
    if response.status_code == 403:
        return False
    if response.status_code == 302 and response["Location"].startswith(reverse("admin:login")):
        return False
    assert response.status_code in (200, 302), response.status_code
    return True


def api_call(client, world, verb, incident):
    base = f"/api/v1/incidents/{incident.reference}/"
    item = incident.checklist.order_by("position").first()
    calls = {
        verbs.DECLARE: (
            "post",
            "/api/v1/incidents/",
            {"title": "Webhooks late", "severity": "SEV-3", "services": ["webhooks"]},
        ),
        verbs.ACKNOWLEDGE: ("post", base + "acknowledge/", {}),
        verbs.MOVE: ("post", base + "status/", {"status": "investigating"}),
        verbs.CHANGE_SEVERITY: ("post", base + "severity/", {"severity": "SEV-1", "reason": "x"}),
        verbs.EDIT_DETAILS: ("patch", base, {"title": "Renamed"}),
        verbs.ASSIGN_ROLE: ("post", base + "roles/", {"role": "sme", "user": "rob"}),
        verbs.TICK: ("post", base + f"checklist/{item.pk}/tick/", {"done": True}),
        verbs.NOTE: ("post", base + "notes/", {"kind": "note", "text": "Seen in the logs"}),
        verbs.MARK_CHECKPOINT: (
            "post",
            base + "security-checkpoint/",
            {"checkpoint": "evidence_preserved"},
        ),
        verbs.SET_SERVICE: ("post", base + "services/", {"service": "webhooks"}),
        verbs.REMOVE_SERVICE: ("delete", base + "services/settlement/", None),
    }
    method, path, body = calls[verb]
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, content_type="application/json")


def api_takes(response) -> bool:
    assert response.status_code < 500, response.content
    return response.status_code not in (401, 403)


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_and_api_agree(client, world, persona, verb):
    user = getattr(world, persona)
    expected = may(user, verb)
    on_admin, on_api = declare(world, "Card payments failing"), declare(world, "Refunds stuck")
    client.force_login(user)

    shown = admin_shows(client, verb, on_admin)
    taken = admin_takes(admin_post(client, world, verb, on_admin))
    answered = api_takes(api_call(client, world, verb, on_api))

    assert (shown, taken, answered) == (expected, expected, expected), (
        f"{persona} / {verb}: verb table {expected}, admin shows {shown}, admin takes {taken}, "
        f"API takes {answered}"
    )


def test_the_scribe_notes_and_ticks_without_editing(world):
    """The cells the agreement above would be vacuous without: the table gives the scribe
    notes and ticks but not the incident's details, so the admin must too."""
    assert may(world.scribe, verbs.NOTE) and may(world.scribe, verbs.TICK)
    assert not may(world.scribe, verbs.EDIT_DETAILS)
    assert all(may(world.manager, v) for v in VERBS)
    assert not any(may(world.outsider, v) for v in VERBS)
