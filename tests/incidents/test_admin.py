"""The incident admin, driven through the Django test client against the real views.

Every change must arrive through ``incidents.services`` (so it is on the timeline and in
history), a refused rule must come back as a form error or an error message with nothing
written, and a page must cost the same number of queries however many incidents it lists.
"""

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib import messages as django_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from incidents.models import Incident, RoleAssignment, Runbook, TimelineEntry
from ircore import roles
from ircore.models import ChecklistTemplateItem, IncidentType, Profile, Service, Severity, Team

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)

SEV1_ITEMS = ["Open the incident channel", "Page the IC", "Assign an executive sponsor"]
SEV2_ITEMS = ["Open the incident channel", "Page the IC"]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def policy(db):
    """SEV-1 and SEV-2 with their checklists, two teams' services, an outage type and a
    security type with a 72-hour regulatory clock."""
    sev1 = Severity.objects.create(key="SEV-1", rank=1, name="Critical", colour="#d32f2f")
    sev2 = Severity.objects.create(key="SEV-2", rank=2, name="Major", colour="#f57c00")
    for severity, texts in ((sev1, SEV1_ITEMS), (sev2, SEV2_ITEMS)):
        ChecklistTemplateItem.objects.bulk_create(
            ChecklistTemplateItem(severity=severity, position=i, text=text)
            for i, text in enumerate(texts)
        )
    payments = Team.objects.create(name="Payments", slug="payments")
    platform = Team.objects.create(name="Platform", slug="platform")
    return SimpleNamespace(
        sev1=sev1,
        sev2=sev2,
        payments=payments,
        platform=platform,
        api=Service.objects.create(name="Payments API", slug="payments-api", team=payments),
        webhooks=Service.objects.create(name="Webhooks", slug="webhooks", team=platform),
        outage=IncidentType.objects.create(key="outage", name="Service outage"),
        security=IncidentType.objects.create(
            key="security-breach",
            name="Security breach",
            regulatory_notification_hours=72,
            security_checkpoints=True,
        ),
    )


@pytest.fixture
def people(cast, make_user):
    """The fixed cast plus a certified IC and an uncertified responder."""
    cora = make_user("cora", roles.RESPONDERS, first_name="Cora", last_name="Chen")
    Profile.objects.update_or_create(
        user=cora,
        defaults={"ic_certified_on": date(2024, 1, 1)},  # before T0 and today
    )
    uma = make_user("uma", roles.RESPONDERS, first_name="Uma")
    return SimpleNamespace(**vars(cast), ic=cora, uncertified=uma)


@pytest.fixture
def declare(policy, people):
    def make(title="Card payments failing", **kwargs):
        kwargs.setdefault("severity", policy.sev2)
        kwargs.setdefault("services", [policy.api])
        kwargs.setdefault("user", people.manager)
        return services.incident_declare(title=title, **kwargs)

    return make


@pytest.fixture
def manager_client(client, people):
    client.force_login(people.manager)
    return client


def url(name, *args):
    return reverse(f"admin:incidents_incident_{name}", args=args)


def sent_messages(response):
    """(level, text) of the messages shown on a followed response."""
    return [(m.level, str(m)) for m in response.context["messages"]]


class FormReader(HTMLParser):
    """Reads a rendered <form> the way a browser would submit it."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, []
        self._select, self._textarea = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # Browsers drop the newline that follows <textarea>.
            self.data.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def badge_css(client, severity):
    """The badge's colours: its class on the page, its rule in the severity stylesheet the
    page links (no style="" attribute, so a CSP without 'unsafe-inline' shows them)."""
    sheet = client.get(reverse("admin:incidents_incident_severity_css"))
    assert sheet["Content-Type"].startswith("text/css")
    rule = next(
        line for line in sheet.content.decode().splitlines() if f".ir-sev-{severity.pk} " in line
    )
    return rule


def change_form_data(client, incident):
    """The incident page's form as a browser would post it unchanged (a mutable dict)."""
    response = client.get(url("change", incident.pk))
    assert response.status_code == 200
    reader = FormReader("incident_form")
    reader.feed(response.content.decode())
    data = {}
    for name, value in reader.data:
        data[name] = value
    data["_continue"] = "Save and continue editing"
    return data


# --- declaring -----------------------------------------------------------------------------


def test_add_incident_goes_to_the_declare_form(manager_client):
    response = manager_client.get(url("add"))
    assert response.status_code == 302
    assert response["Location"] == url("declare")


def test_declare_form_creates_the_incident_through_the_service(manager_client, policy, people):
    page = manager_client.get(url("declare"))
    assert page.status_code == 200
    # Each severity offered with its key, name and colour (from the linked stylesheet).
    assert f'class="ir-badge ir-sev-{policy.sev1.pk}"'.encode() in page.content
    assert reverse("admin:incidents_incident_severity_css").encode() in page.content
    assert "background-color: #d32f2f;" in badge_css(manager_client, policy.sev1)
    assert b'style="' not in page.content.split(b'id="declare_form"')[1].split(b"</form>")[0]
    assert b"SEV-1</span> Critical" in page.content

    response = manager_client.post(
        url("declare"),
        {
            "title": "Card payments failing",
            "severity": policy.sev2.pk,
            "services": [policy.api.pk, policy.webhooks.pk],
            "summary": "Declines at checkout",
            "incident_type": policy.outage.pk,
        },
    )

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("change", incident.pk)
    assert incident.reference.startswith("INC-")
    assert incident.created_by == people.manager
    assert incident.incident_type == policy.outage
    assert not incident.is_drill
    assert sorted(incident.services.values_list("slug", flat=True)) == ["payments-api", "webhooks"]
    assert list(incident.checklist.values_list("text", flat=True)) == SEV2_ITEMS
    assert incident.timeline.filter(kind=TimelineEntry.Kind.DECLARED).count() == 1
    followed = manager_client.get(response["Location"])
    assert (
        django_messages.SUCCESS,
        f"Declared {incident.reference} (SEV-2): Card payments failing.",
    ) in sent_messages(followed)


def test_declare_form_names_missing_fields_and_creates_nothing(manager_client, policy):
    response = manager_client.post(url("declare"), {"title": "  ", "severity": policy.sev1.pk})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["title"] == ["This field is required."]
    assert errors["services"] == ["Choose at least one affected service."]
    assert not Incident.objects.exists()


def test_drill_is_declared_as_a_drill(manager_client, policy):
    manager_client.post(
        url("declare"),
        {
            "title": "Game day",
            "severity": policy.sev1.pk,
            "services": [policy.api.pk],
            "is_drill": "on",
        },
    )
    assert Incident.objects.get().is_drill


# --- buttons on the incident page ---------------------------------------------------------


def test_acknowledge_once_then_refused_with_an_error_message(manager_client, declare):
    incident = declare()

    first = manager_client.post(url("acknowledge", incident.pk), follow=True)
    incident.refresh_from_db()
    acknowledged_at = incident.acknowledged_at
    assert acknowledged_at is not None
    assert (django_messages.SUCCESS, f"{incident.reference} acknowledged.") in sent_messages(first)

    second = manager_client.post(url("acknowledge", incident.pk), follow=True)
    assert second.status_code == 200
    [(level, text)] = sent_messages(second)
    assert level == django_messages.ERROR
    assert "already acknowledged" in text
    incident.refresh_from_db()
    assert incident.acknowledged_at == acknowledged_at


def test_status_form_offers_only_allowed_moves_and_moves(manager_client, declare):
    incident = declare()
    page = manager_client.get(url("status", incident.pk) + "?status=investigating")
    choices = [value for value, _ in page.context["form"].fields["status"].choices]
    assert choices == services.allowed_moves(incident)
    assert page.context["form"].initial == {"status": "investigating"}

    response = manager_client.post(
        url("status", incident.pk), {"status": "investigating", "note": "Looking at the DB"}
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "investigating"
    entry = incident.timeline.get(kind=TimelineEntry.Kind.STATUS)
    assert entry.text.endswith("declared → investigating: Looking at the DB")


def test_status_form_refuses_a_move_the_machine_does_not_allow(manager_client, declare):
    incident = declare()

    response = manager_client.post(url("status", incident.pk), {"status": "closed"})

    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    incident.refresh_from_db()
    assert incident.status == "declared"
    assert not incident.timeline.filter(kind=TimelineEntry.Kind.STATUS).exists()


def test_status_form_shows_a_race_lost_to_another_responder_as_a_form_error(
    manager_client, declare, people
):
    incident = declare()
    services.incident_set_status(incident=incident, status="resolved", user=people.ic)

    # The browser still offers "monitoring" from before the incident was resolved.
    response = manager_client.post(url("status", incident.pk), {"status": "monitoring"})

    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    incident.refresh_from_db()
    assert incident.status == "resolved"

    # Closed meanwhile: a closed incident takes notes only, so the move goes back to the
    # incident's page with the reason (rule changed in issue 6: it was a form error).
    services.incident_set_status(incident=incident, status="closed", user=people.ic)
    response = manager_client.post(url("status", incident.pk), {"status": "investigating"})
    assert response.status_code == 302
    assert response["Location"] == url("change", incident.pk)
    followed = manager_client.get(response["Location"])
    assert (
        django_messages.ERROR,
        f"{incident.reference} is closed; a closed incident takes notes only.",
    ) in sent_messages(followed)
    incident.refresh_from_db()
    assert incident.status == "closed"


def test_severity_change_requires_a_reason_and_adds_checklist_items(manager_client, declare):
    incident = declare()
    sev1 = Severity.objects.get(key="SEV-1")

    refused = manager_client.post(url("severity", incident.pk), {"severity": sev1.pk})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"] == ["This field is required."]
    incident.refresh_from_db()
    assert incident.severity.key == "SEV-2"

    response = manager_client.post(
        url("severity", incident.pk), {"severity": sev1.pk, "reason": "All card payments down"}
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.severity.key == "SEV-1"
    assert list(incident.checklist.values_list("text", flat=True)) == SEV1_ITEMS
    followed = manager_client.get(response["Location"])
    assert (
        django_messages.SUCCESS,
        f"{incident.reference} severity SEV-2 → SEV-1; 1 checklist item added.",
    ) in sent_messages(followed)


def test_role_assign_needs_certification_unless_a_manager_overrides(client, declare, people):
    incident = declare()
    ic = RoleAssignment.Role.INCIDENT_COMMANDER

    client.force_login(people.responder)
    page = client.get(url("role", incident.pk))
    assert "override_reason" not in page.context["form"].fields  # managers only
    refused = client.post(url("role", incident.pk), {"role": ic, "user": people.uncertified.pk})
    assert refused.status_code == 200
    assert "no valid incident commander certification" in refused.context["form"].errors["user"][0]
    assert not incident.roles.exists()

    ok = client.post(url("role", incident.pk), {"role": ic, "user": people.ic.pk})
    assert ok.status_code == 302
    assert incident.roles.get(relieved_at__isnull=True).user == people.ic

    client.force_login(people.manager)
    overridden = client.post(
        url("role", incident.pk),
        {"role": ic, "user": people.uncertified.pk, "override_reason": "Only one awake"},
    )
    assert overridden.status_code == 302
    current = incident.roles.get(relieved_at__isnull=True)
    assert (current.user, current.override_reason) == (people.uncertified, "Only one awake")
    # The hand-over kept the first holder's row.
    assert incident.roles.get(user=people.ic).relieved_at is not None


def test_tick_and_note_views_record_who_did_it(manager_client, declare, people):
    incident = declare()
    item = incident.checklist.get(text="Page the IC")

    ticked = manager_client.post(url("checklist", incident.pk), {"item": item.pk, "done": "1"})
    assert ticked.status_code == 302
    item.refresh_from_db()
    assert item.done_by == people.manager and item.done_at is not None

    again = manager_client.post(url("checklist", incident.pk), {"item": item.pk, "done": "1"})
    assert again.status_code == 200
    assert "already done" in again.context["form"].errors["done"][0]

    noted = manager_client.post(
        url("note", incident.pk), {"kind": "hypothesis", "text": "Connection pool exhausted"}
    )
    assert noted.status_code == 302
    entry = incident.timeline.get(kind=TimelineEntry.Kind.HYPOTHESIS)
    assert (entry.text, entry.author) == ("Connection pool exhausted", people.manager)


def test_security_checkpoint_only_for_security_incidents(manager_client, declare, policy):
    breach = declare("Leaked keys", incident_type=policy.security)
    outage = declare("Outage", incident_type=policy.outage)

    ok = manager_client.post(url("security", breach.pk), {"checkpoint": "evidence_preserved"})
    assert ok.status_code == 302
    breach.refresh_from_db()
    assert breach.evidence_preserved_at is not None

    refused = manager_client.post(url("security", outage.pk), {"checkpoint": "evidence_preserved"})
    assert refused.status_code == 200
    assert "not a security or privacy incident" in refused.context["form"].errors["checkpoint"][0]
    outage.refresh_from_db()
    assert outage.evidence_preserved_at is None


# --- actions on the change list -----------------------------------------------------------


def post_action(client, action, incidents, **form):
    """The list's action, then (for actions that ask) its form with "apply"."""
    selected = [i.pk for i in incidents]
    first = client.post(
        url("changelist"), {"action": action, "_selected_action": selected, "index": 0}
    )
    if not form:
        return first
    assert first.status_code == 200  # the action's form
    data = {"action": action, "_selected_action": selected, "apply": "Apply"}
    data.update({f"apply-{k}": v for k, v in form.items()})
    return client.post(url("changelist"), data)


def test_list_action_moves_what_it_may_and_reports_the_refused(manager_client, declare, people):
    first, second = declare("One"), declare("Two")
    done = declare("Three")
    services.incident_set_status(incident=done, status="resolved", user=people.manager)

    response = post_action(
        manager_client, "move_status_selected", [first, second, done], status="monitoring"
    )

    assert response.status_code == 302
    [(level, text)] = sent_messages(manager_client.get(url("changelist")))
    assert level == django_messages.ERROR
    assert text == (
        f"2 incidents moved to monitoring; 1 refused: Cannot move {done.reference} from "
        "resolved to monitoring; allowed: investigating, closed."
    )
    statuses = dict(Incident.objects.values_list("title", "status"))
    assert statuses == {"One": "monitoring", "Two": "monitoring", "Three": "resolved"}


def test_list_acknowledge_reports_a_count(manager_client, declare):
    incidents = [declare("One"), declare("Two")]

    post_action(manager_client, "acknowledge_selected", incidents)

    assert Incident.objects.filter(acknowledged_at__isnull=False).count() == 2
    assert sent_messages(manager_client.get(url("changelist"))) == [
        (django_messages.SUCCESS, "2 incidents acknowledged.")
    ]


def test_list_severity_action_needs_a_reason(manager_client, declare, policy):
    incident = declare()

    asked = post_action(
        manager_client, "change_severity_selected", [incident], severity=policy.sev1.pk
    )

    assert asked.status_code == 200  # the form again, with the error
    assert asked.context["form"].errors["reason"] == ["This field is required."]
    incident.refresh_from_db()
    assert incident.severity == policy.sev2


def test_list_note_action_writes_each_timeline(manager_client, declare):
    incidents = [declare("One"), declare("Two")]

    post_action(manager_client, "add_note_selected", incidents, kind="decision", text="Fail over")

    assert TimelineEntry.objects.filter(kind="decision", text="Fail over").count() == 2


# --- the edit form and its inlines ---------------------------------------------------------


def test_editing_details_goes_through_the_service(manager_client, declare):
    incident = declare()
    data = change_form_data(manager_client, incident)
    data["title"] = "Card payments failing in the EU"

    response = manager_client.post(url("change", incident.pk), data)

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Card payments failing in the EU"
    entry = incident.timeline.get(kind=TimelineEntry.Kind.FIELD)
    assert "title: Card payments failing → Card payments failing in the EU" in entry.text
    assert incident.history.first().history_user.username == "mia"


def test_a_time_that_breaks_chronology_is_a_form_error_and_changes_nothing(manager_client, declare):
    with time_machine.travel(T0, tick=False):
        incident = declare(detected_at=T0 - timedelta(minutes=10))
    entries = incident.timeline.count()
    data = change_form_data(manager_client, incident)
    # Detected an hour after it was declared: MTTD would be negative.
    data["detected_at_0"], data["detected_at_1"] = "2025-03-14", "10:00:00"
    data["title"] = "Renamed at the same time"

    response = manager_client.post(url("change", incident.pk), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["detected_at"][0].startswith(
        "detected time (2025-03-14 10:00:00 UTC) cannot be after declared time"
    )
    incident.refresh_from_db()
    assert incident.detected_at == T0 - timedelta(minutes=10)
    assert incident.title == "Card payments failing"
    assert incident.timeline.count() == entries


def test_resolved_time_cannot_be_set_by_editing(manager_client, declare):
    with time_machine.travel(T0, tick=False):
        incident = declare()
    data = change_form_data(manager_client, incident)
    data["resolved_at_0"], data["resolved_at_1"] = "2025-03-14", "10:00:00"

    response = manager_client.post(url("change", incident.pk), data)

    assert response.status_code == 200
    assert "status action" in response.context["adminform"].form.errors["resolved_at"][0]
    incident.refresh_from_db()
    assert incident.resolved_at is None


def test_inline_checklist_tick_goes_through_the_service(manager_client, declare, people):
    incident = declare()
    items = list(incident.checklist.order_by("position"))
    data = change_form_data(manager_client, incident)
    assert "checklist-0-done" not in data
    data["checklist-0-done"] = "on"

    response = manager_client.post(url("change", incident.pk), data)

    assert response.status_code == 302
    items[0].refresh_from_db()
    assert items[0].done_by == people.manager and items[0].done_at is not None
    assert incident.timeline.filter(kind=TimelineEntry.Kind.CHECKLIST).count() == 1
    page = manager_client.get(url("change", incident.pk))
    assert b'<strong class="ir-checklist-count">1/2</strong>' in page.content

    # Unticking is a change too, and is recorded.
    data = change_form_data(manager_client, incident)
    del data["checklist-0-done"]
    manager_client.post(url("change", incident.pk), data)
    items[0].refresh_from_db()
    assert items[0].done_at is None and items[0].done_by is None
    assert incident.timeline.filter(kind=TimelineEntry.Kind.CHECKLIST).count() == 2


def test_ticking_what_someone_else_just_ticked_keeps_their_tick(manager_client, declare, people):
    incident = declare()
    data = change_form_data(manager_client, incident)
    item = incident.checklist.order_by("position")[0]
    # Someone ticks the first item after this page was loaded; then this page ticks it too.
    services.checklist_tick(item=item, user=people.ic)
    data["checklist-0-done"] = "on"
    data["title"] = "Renamed"

    response = manager_client.post(url("change", incident.pk), data, follow=True)

    assert (django_messages.INFO, f"“{item.text}” was already ticked by cora.") in sent_messages(
        response
    )
    item.refresh_from_db()
    assert item.done_by == people.ic
    assert incident.timeline.filter(kind=TimelineEntry.Kind.CHECKLIST).count() == 1
    incident.refresh_from_db()
    assert incident.title == "Renamed"


def test_a_stale_page_does_not_retick_what_someone_unticked(manager_client, declare, people):
    incident = declare()
    item = incident.checklist.order_by("position")[0]
    services.checklist_tick(item=item, user=people.ic)
    data = change_form_data(manager_client, incident)
    assert data["checklist-0-done"] == "on"
    # Someone unticks it; this page, still showing it ticked, saves another change.
    services.checklist_tick(item=item, user=people.ic, done=False)
    data["title"] = "Renamed"

    manager_client.post(url("change", incident.pk), data)

    item.refresh_from_db()
    assert item.done_at is None
    incident.refresh_from_db()
    assert incident.title == "Renamed"


def test_a_time_in_the_future_is_refused_on_its_field(manager_client, declare):
    with time_machine.travel(T0, tick=False):
        incident = declare()
        data = change_form_data(manager_client, incident)
        data["acknowledged_at_0"], data["acknowledged_at_1"] = "2025-03-14", "09:00:01"

        response = manager_client.post(url("change", incident.pk), data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["acknowledged_at"] == ["A time cannot be in the future."]
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_affected_services_inline_adds_and_removes_through_the_service(
    manager_client, declare, policy
):
    incident = declare()
    data = change_form_data(manager_client, incident)
    assert data["affected-TOTAL_FORMS"] == "1"
    data.update(
        {
            "affected-0-DELETE": "on",
            "affected-TOTAL_FORMS": "2",
            "affected-1-service": str(policy.webhooks.pk),
            "affected-1-status": "major_outage",
            "affected-1-incident": str(incident.pk),
        }
    )

    response = manager_client.post(url("change", incident.pk), data)

    assert response.status_code == 302
    assert list(incident.affected.values_list("service__slug", "status")) == [
        ("webhooks", "major_outage")
    ]
    texts = list(incident.timeline.filter(kind="service").values_list("text", flat=True))
    assert any("removed Payments API" in t for t in texts)
    assert any("added Webhooks (major outage)" in t for t in texts)


# --- what the incident page shows ----------------------------------------------------------


def test_change_page_shows_essentials_and_sanitised_runbooks(manager_client, declare, people):
    incident = declare()
    services.role_assign(incident=incident, role="ic", user=people.ic, by=people.manager)
    runbook = Runbook.objects.create(
        title="Restart the payments API",
        slug="restart-payments-api",
        body="# Restart\n\n**Drain** first.\n\n<script>alert('owned')</script>\n"
        "[bad](javascript:alert(1))",
    )
    runbook.services.add(incident.services.get())

    page = manager_client.get(url("change", incident.pk))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'class="ir-badge ir-sev-{incident.severity_id}"' in html
    assert "background-color: #f57c00; color: #000000;" in badge_css(
        manager_client, incident.severity
    )
    assert "Cora Chen" in html  # the IC
    assert incident.channel_name in html
    assert "open for " in html
    assert html.index("ir-essentials") < html.index('id="incident_form"')
    assert "<strong>Drain</strong>" in html
    assert "alert('owned')" not in html and "javascript:alert" not in html
    for status in services.allowed_moves(incident):
        assert f"{url('status', incident.pk)}?status={status}" in html


def test_regulatory_countdown_for_a_security_incident(manager_client, declare, policy):
    with time_machine.travel(T0, tick=False):
        incident = declare("Customer data exposed", incident_type=policy.security)

    with time_machine.travel(T0 + timedelta(hours=30, minutes=48), tick=False):
        page = manager_client.get(url("change", incident.pk)).content.decode()
    assert "Regulator notification due in 41h 12m" in page
    assert "Evidence preserved: not yet" in page
    assert "Credentials rotated: not yet" in page

    with time_machine.travel(T0 + timedelta(hours=75, minutes=5), tick=False):
        page = manager_client.get(url("change", incident.pk)).content.decode()
    assert "Regulator notification OVERDUE by 3h 05m" in page
    assert "ir-regulatory-overdue" in page


def test_no_regulatory_countdown_for_other_types(manager_client, declare, policy):
    incident = declare(incident_type=policy.outage)
    page = manager_client.get(url("change", incident.pk)).content.decode()
    assert "Regulator notification" not in page
    assert "ir-checkpoints" not in page


def test_times_are_shown_in_the_viewers_time_zone(client, declare, people):
    with time_machine.travel(T0, tick=False):
        incident = declare()
    Profile.objects.update_or_create(user=people.leader, defaults={"time_zone": "Asia/Tokyo"})
    client.force_login(people.leader)

    page = client.get(url("change", incident.pk)).content.decode()

    # 09:00 UTC is 18:00 in Tokyo, labelled with its zone (issue 6: was "March 14, 2025,
    # 6 p.m." with no zone).
    assert "2025-03-14 18:00 JST" in page


# --- permissions ---------------------------------------------------------------------------


def test_leadership_reads_incidents_but_changes_nothing(client, declare, people, policy):
    incident = declare()
    client.force_login(people.leader)

    page = client.get(url("change", incident.pk))
    assert page.status_code == 200
    assert b"ir-essentials" in page.content
    assert b"ir-actions" not in page.content  # no buttons
    assert b'name="_save"' not in page.content

    for name, data in [
        ("acknowledge", {}),
        ("status", {"status": "resolved"}),
        ("severity", {"severity": policy.sev1.pk, "reason": "x"}),
        ("role", {"role": "ic", "user": people.ic.pk}),
        ("checklist", {"item": incident.checklist.first().pk, "done": "1"}),
        ("note", {"kind": "note", "text": "x"}),
        ("security", {"checkpoint": "evidence_preserved"}),
    ]:
        assert client.get(url(name, incident.pk)).status_code == 403, name
        assert client.post(url(name, incident.pk), data).status_code == 403, name
    assert client.get(url("declare")).status_code == 403
    assert client.post(url("change", incident.pk), {"title": "x"}).status_code == 403

    changelist = client.get(url("changelist"))
    assert changelist.status_code == 200
    assert changelist.context["action_form"] is None  # no actions offered
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_at) == ("declared", None)


def test_support_sees_incidents_read_only(client, declare, people):
    incident = declare()
    client.force_login(people.support)
    assert client.get(url("change", incident.pk)).status_code == 200
    assert client.post(url("note", incident.pk), {"kind": "note", "text": "x"}).status_code == 403


# --- the change list -----------------------------------------------------------------------


def make_incidents(count, policy, people, start):
    """Incidents with two services and an IC each, declared a minute apart."""
    made = []
    for n in range(count):
        incident = services.incident_declare(
            title=f"Incident {n}",
            severity=policy.sev1 if n % 2 else policy.sev2,
            services=[policy.api, policy.webhooks],
            user=people.manager,
            now=start + timedelta(minutes=n),
        )
        services.role_assign(incident=incident, role="ic", user=people.ic, by=people.manager)
        made.append(incident)
    return made


def count_changelist_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("changelist"))
    assert response.status_code == 200
    return len(queries), response


def test_changelist_costs_the_same_queries_for_1_or_50_incidents(
    manager_client, policy, people, django_assert_max_num_queries
):
    make_incidents(1, policy, people, T0)
    one, response = count_changelist_queries(manager_client)
    assert len(response.context["cl"].result_list) == 1

    make_incidents(49, policy, people, T0 + timedelta(hours=1))
    fifty, response = count_changelist_queries(manager_client)
    assert len(response.context["cl"].result_list) == 50

    assert one == fifty
    # Session, user, permissions, page count, the page, its services (prefetch), the filters'
    # choices (severity, type, service, team) and the date hierarchy: a fixed budget.
    with django_assert_max_num_queries(16):
        manager_client.get(url("changelist"))


def test_changelist_columns_and_open_first_ordering(manager_client, policy, people):
    with time_machine.travel(T0, tick=False):
        old, new = make_incidents(2, policy, people, T0 - timedelta(hours=3))
        services.incident_set_status(incident=new, status="resolved", user=people.manager)
        response = manager_client.get(url("changelist"))

    html = response.content.decode()
    assert [i.pk for i in response.context["cl"].result_list] == [old.pk, new.pk]
    assert f'class="ir-badge ir-sev-{policy.sev2.pk}"' in html  # SEV-2 badge in its colour
    assert "open for 3h 00m" in html
    assert "resolved after 2h 59m" in html
    assert "Payments API, Webhooks" in html
    assert ">cora<" in html  # the IC from the annotation


@pytest.mark.parametrize(
    "query, expected",
    [
        ("state=open", {"Open SEV-1"}),
        ("state=resolved", {"Resolved drill"}),
        ("severity__id__exact={sev2}", {"Resolved drill"}),
        ("affected__service__id__exact={webhooks}", {"Resolved drill"}),
        ("affected__service__team__id__exact={payments}", {"Open SEV-1"}),
        ("is_drill__exact=1", {"Resolved drill"}),
        ("incident_type__id__exact={security}", {"Open SEV-1"}),
        ("status__exact=declared", {"Open SEV-1"}),
        ("q=drill", {"Resolved drill"}),
    ],
)
def test_changelist_filters(manager_client, policy, people, query, expected):
    services.incident_declare(
        title="Open SEV-1",
        severity=policy.sev1,
        services=[policy.api],
        incident_type=policy.security,
        user=people.manager,
    )
    drill = services.incident_declare(
        title="Resolved drill",
        severity=policy.sev2,
        services=[policy.webhooks],
        is_drill=True,
        user=people.manager,
    )
    services.incident_set_status(incident=drill, status="resolved", user=people.manager)
    ids = {
        "sev2": policy.sev2.pk,
        "webhooks": policy.webhooks.pk,
        "payments": policy.payments.pk,
        "security": policy.security.pk,
    }

    response = manager_client.get(url("changelist") + "?" + query.format(**ids))

    assert response.status_code == 200
    assert {i.title for i in response.context["cl"].result_list} == expected


def test_search_by_reference(manager_client, declare):
    wanted, _other = declare("One"), declare("Two")
    response = manager_client.get(url("changelist") + f"?q={wanted.reference}")
    assert [i.pk for i in response.context["cl"].result_list] == [wanted.pk]


# --- the other admin pages -----------------------------------------------------------------


def test_every_incidents_admin_page_opens(admin_client, declare, people, policy):
    incident = declare()
    services.note_add(incident=incident, kind="note", text="hello", user=people.manager)
    runbook = Runbook.objects.create(title="R", slug="r", body="*x*")
    entry = incident.timeline.first()
    pages = [
        url("changelist"),
        url("change", incident.pk),
        url("declare"),
        url("history", incident.pk),
        reverse("admin:incidents_runbook_changelist"),
        reverse("admin:incidents_runbook_add"),
        reverse("admin:incidents_runbook_change", args=[runbook.pk]),
        reverse("admin:incidents_timelineentry_changelist"),
        reverse("admin:incidents_timelineentry_change", args=[entry.pk]),
        reverse("admin:incidents_thresholdcrossing_changelist"),
    ]
    for name in ("acknowledge", "status", "severity", "role", "checklist", "note", "security"):
        pages.append(url(name, incident.pk))
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


def test_runbook_change_page_shows_a_sanitised_preview(admin_client):
    runbook = Runbook.objects.create(
        title="Fail over", slug="fail-over", body="1. **Stop** writes\n\n<script>evil()</script>"
    )
    html = admin_client.get(
        reverse("admin:incidents_runbook_change", args=[runbook.pk])
    ).content.decode()
    assert "<strong>Stop</strong>" in html
    assert "evil()" not in html.split('id="runbook_form"')[1].split("</textarea>")[1]


def test_incident_history_is_read_only(admin_client, declare):
    incident = declare()
    version = incident.history.earliest()
    history_form = reverse(
        "admin:incidents_incident_simple_history", args=[incident.pk, version.history_id]
    )

    assert admin_client.get(url("history", incident.pk)).status_code == 200
    page = admin_client.get(history_form)
    assert page.status_code == 200
    assert b"Revert" not in page.content
    response = admin_client.post(history_form, {"title": "Rewritten", "_change_history": "1"})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Card payments failing"


def test_incidents_cannot_be_deleted_in_the_admin(admin_client, declare):
    incident = declare()
    assert admin_client.get(url("delete", incident.pk)).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


@pytest.mark.parametrize(
    "action",
    [
        "move_status_selected",
        "change_severity_selected",
        "assign_role_selected",
        "add_note_selected",
        "mark_checkpoint_selected",
    ],
)
def test_each_asking_list_action_shows_its_form(manager_client, declare, action):
    incident = declare()
    response = manager_client.post(
        url("changelist"), {"action": action, "_selected_action": [incident.pk], "index": 0}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.reference in html
    assert f'name="_selected_action" value="{incident.pk}"' in html
    assert f'name="action" value="{action}"' in html


def test_list_role_action_refuses_an_uncertified_ic_per_incident(manager_client, declare, people):
    incidents = [declare("One"), declare("Two")]

    post_action(
        manager_client, "assign_role_selected", incidents, role="ic", user=people.uncertified.pk
    )

    [(level, text)] = sent_messages(manager_client.get(url("changelist")))
    assert level == django_messages.ERROR
    assert text.startswith("0 incidents now have Uma as Incident Commander; 2 refused: ")
    assert not RoleAssignment.objects.exists()


def test_timeline_and_crossings_cannot_be_added_or_changed_in_the_admin(admin_client, declare):
    incident = declare()
    entry = incident.timeline.first()
    assert admin_client.get(reverse("admin:incidents_timelineentry_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:incidents_timelineentry_change", args=[entry.pk]), {"text": "rewritten"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.text != "rewritten"
    assert admin_client.get(reverse("admin:incidents_thresholdcrossing_add")).status_code == 403
