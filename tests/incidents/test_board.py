"""The admin index is the board of what is open now, read through the Django test client
against the real index page: order, acknowledgement, IC, targets, the regulator's clock,
drills, what each persona of the fixed cast sees, and a query count that does not grow with
the number of open incidents.

Time is frozen at ``NOW`` (``T0`` + 17 minutes) for every page read; incidents are declared
at ``T0``-relative times through the services, as people would.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from incidents import board, services
from incidents.board import open_board
from incidents.models import Incident
from ircore.models import Profile

from .conftest import at

NOW = at(17)
INDEX = "/admin/"


@pytest.fixture
def targets(severities):
    """Ack targets 5m / 10m / 15m (the shared fixture); resolve in 4h for SEV-1, 8h for
    SEV-2, none for SEV-3."""
    severities.sev1.resolve_target = timedelta(hours=4)
    severities.sev1.save()
    severities.sev2.resolve_target = timedelta(hours=8)
    severities.sev2.save()
    return severities


@pytest.fixture
def open_incident(targets, catalog, cast):
    """Declare an incident ``minutes`` after ``T0`` (SEV-2 unless told) as the manager."""

    def make(title, minutes=0, severity=None, **kwargs):
        return services.incident_declare(
            title=title,
            severity=severity or targets.sev2,
            services=[catalog.payments_api],
            user=cast.manager,
            now=at(minutes),
            **kwargs,
        )

    return make


@pytest.fixture
def certified_ic(cast):
    """The responder, certified as incident commander on ``T0``'s date."""
    Profile.objects.update_or_create(
        user=cast.responder, defaults={"ic_certified_on": at(-60 * 24 * 90).date()}
    )
    return cast.responder


def make_ic(incident, person, cast, minutes=1):
    services.role_assign(
        incident=incident, role="ic", user=person, by=cast.manager, now=at(minutes)
    )


def index(client, user):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(INDEX)
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, incident: Incident) -> str:
    """The board's table row of one incident."""
    match = re.search(rf'<tr[^>]*data-reference="{incident.reference}".*?</tr>', html, re.S)
    assert match, f"{incident.reference} is not on the board"
    return match.group(0)


def text(fragment: str) -> str:
    """The fragment's visible text, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def count_line(html: str) -> str:
    match = re.search(r'<p class="ir-board-counts">(.*?)</p>', html, re.S)
    assert match, "no count line"
    return text(match.group(1))


def test_rows_follow_severity_rank_then_age(client, open_incident, targets, cast):
    sev2_old = open_incident("Old SEV-2", minutes=0)
    sev1_new = open_incident("New SEV-1", minutes=10, severity=targets.sev1)
    sev2_new = open_incident("New SEV-2", minutes=5)
    sev3 = open_incident("Oldest of all", minutes=-10, severity=targets.sev3)
    resolved = open_incident("Fixed already", minutes=1, severity=targets.sev1)
    services.incident_set_status(incident=resolved, status="resolved", user=cast.manager, now=at(4))

    html = index(client, cast.manager)

    shown = re.findall(r'data-reference="([^"]+)"', html)
    assert shown == [i.reference for i in (sev1_new, sev2_old, sev2_new, sev3)]
    assert resolved.reference not in html  # resolved is not open
    # One click to each: the row links to the incident's page.
    change = reverse("admin:incidents_incident_change", args=[sev1_new.pk])
    assert f'href="{change}"' in row_of(html, sev1_new)


def test_acknowledge_target_overdue_due_met_and_late(client, open_incident, targets, cast):
    # SEV-1 acks in 5m, SEV-2 in 10m; the page is read at T0 + 17m.
    overdue = open_incident("Nobody looked", minutes=0, severity=targets.sev1)
    due = open_incident("Just declared", minutes=10)
    met = open_incident("Quick hands", minutes=0, severity=targets.sev1)
    late = open_incident("Slow hands", minutes=0, severity=targets.sev1)
    services.incident_acknowledge(incident=met, user=cast.manager, now=at(2))
    services.incident_acknowledge(incident=late, user=cast.manager, now=at(8))

    html = index(client, cast.manager)

    assert "ack overdue by 12m" in text(row_of(html, overdue))
    assert "ir-board-overdue" in row_of(html, overdue)
    assert "ack due in 3m" in text(row_of(html, due))
    assert "acknowledged 09:02 UTC, after 2m" in text(row_of(html, met))
    assert "acknowledged 09:08 UTC, 3m late" in text(row_of(html, late))
    assert "ir-board-late" in row_of(html, late)


def test_resolve_target_due_and_overdue(client, open_incident, targets, cast):
    running = open_incident("Running", minutes=0, severity=targets.sev1)  # 4h target
    overdue = open_incident("Long night", minutes=-300, severity=targets.sev1)  # 5h 17m open
    untargeted = open_incident("No target", minutes=0, severity=targets.sev3)

    html = index(client, cast.manager)

    assert "resolve due in 3h 43m" in text(row_of(html, running))
    assert "resolve overdue by 1h 17m" in text(row_of(html, overdue))
    assert "open for 5h 17m" in text(row_of(html, overdue))
    assert "no resolve target" in text(row_of(html, untargeted))


def test_each_row_names_its_ic_or_says_no_ic(client, open_incident, certified_ic, cast):
    led = open_incident("Led")
    unled = open_incident("Unled", minutes=1)
    make_ic(led, certified_ic, cast)

    html = index(client, cast.manager)

    assert certified_ic.username in text(row_of(html, led))
    assert "no IC" in text(row_of(html, unled))
    assert "no IC" not in text(row_of(html, led))


def test_regulatory_countdown_where_the_clock_applies(
    client, open_incident, security_type, outage_type, cast
):
    # 72h from detection: detected an hour before T0, read at T0 + 17m.
    running = open_incident("Breach", incident_type=security_type, detected_at=at(-60))
    # Detected 73 hours before T0: the deadline passed an hour before T0.
    overdue = open_incident(
        "Old breach", minutes=1, incident_type=security_type, detected_at=at(-73 * 60)
    )
    outage = open_incident("Outage", minutes=2, incident_type=outage_type)

    html = index(client, cast.manager)

    assert "Regulator notification due in 70h 43m" in text(row_of(html, running))
    assert "deadline 17 Mar 08:00 UTC" in text(row_of(html, running))
    assert "Regulator notification OVERDUE by 1h 17m" in text(row_of(html, overdue))
    assert "Regulator" not in text(row_of(html, outage))


def test_drills_are_marked_and_counted(client, open_incident, cast):
    drill = open_incident("Game day", is_drill=True)
    real = open_incident("Real one", minutes=1)

    html = index(client, cast.manager)

    assert "DRILL" in text(row_of(html, drill))
    assert "DRILL" not in text(row_of(html, real))
    assert count_line(html).endswith("; 1 drill")


def test_count_line_counts_severities_unacknowledged_and_without_ic(
    client, open_incident, targets, certified_ic, cast
):
    sev1 = open_incident("One", severity=targets.sev1)
    acked = open_incident("Two", minutes=1)
    open_incident("Three", minutes=2)  # unacknowledged, no IC
    for incident in (sev1, acked):
        services.incident_acknowledge(incident=incident, user=cast.manager, now=at(3))
        make_ic(incident, certified_ic, cast, minutes=3)

    html = index(client, cast.manager)

    assert count_line(html) == "3 open: 1 SEV-1, 2 SEV-2; 1 unacknowledged; 1 without IC"


def test_count_line_says_when_all_are_acknowledged_and_led(
    client, open_incident, certified_ic, cast
):
    incident = open_incident("Handled")
    services.incident_acknowledge(incident=incident, user=cast.manager, now=at(2))
    make_ic(incident, certified_ic, cast, minutes=2)

    html = index(client, cast.manager)

    assert count_line(html) == "1 open: 1 SEV-2; all acknowledged; all with an IC"


def test_nothing_open_says_so(client, targets, cast):
    html = index(client, cast.manager)

    assert count_line(html) == "0 open"
    assert "No incident is open." in html


def test_times_are_in_the_viewers_zone_and_labelled(client, open_incident, cast):
    incident = open_incident("Payments failing")
    Profile.objects.update_or_create(user=cast.manager, defaults={"time_zone": "Europe/Paris"})

    html = index(client, cast.manager)

    # 09:00 UTC is 10:00 in Paris on 14 March (winter time).
    assert "declared 10:00 CET" in text(row_of(html, incident))
    assert "as of 10:17 CET" in text(html)


# --- who sees what ---------------------------------------------------------------------------

PERSONAS = {
    # persona: (IC column and count, "Declare an incident")
    "manager": (True, True),
    "responder": (True, True),
    "leader": (True, False),
    "support": (False, False),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_the_board_within_its_grants(
    client, persona, open_incident, certified_ic, cast
):
    sees_roles, may_declare = PERSONAS[persona]
    led = open_incident("Led")
    unled = open_incident("Unled", minutes=1)
    make_ic(led, certified_ic, cast)

    html = index(client, getattr(cast, persona))

    assert 'class="ir-board"' in html
    assert led.reference in html and unled.reference in html
    assert "incidents/board.css" in html
    # Roles only for those who may view them: column, names and count alike.
    assert ('<th scope="col">IC</th>' in html) is sees_roles
    assert (certified_ic.username in text(row_of(html, led))) is sees_roles
    assert ("no IC" in html) is sees_roles
    assert ("without IC" in count_line(html)) is sees_roles
    declare = reverse("admin:incidents_incident_declare")
    assert (f'href="{declare}"' in html) is may_declare
    assert ("Declare an incident" in html) is may_declare
    # The stock model list stays below the board.
    assert html.index('class="ir-board"') < html.index('class="app-incidents module')
    assert reverse("admin:incidents_incident_changelist") in html


def test_outsider_gets_no_board(client, open_incident, cast):
    incident = open_incident("Secret")
    client.force_login(cast.outsider)

    with time_machine.travel(NOW, tick=False):
        response = client.get(INDEX)

    # Not staff: the admin sends them to log in, and says nothing about incidents.
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert incident.reference not in response.content.decode()


def test_staff_without_incident_grants_get_the_plain_index(client, open_incident, make_user, cast):
    incident = open_incident("Secret")
    clerk = make_user("nina")  # staff, in no group

    html = index(client, clerk)

    assert 'class="ir-board"' not in html
    assert incident.reference not in html
    assert "open:" not in html
    assert "incidents/board.css" not in html


def test_board_has_no_inline_style_or_script(client, open_incident, targets, security_type, cast):
    open_incident("Breach", severity=targets.sev1, incident_type=security_type, is_drill=True)

    html = index(client, cast.manager)

    board_html = html[html.index('class="ir-board"') : html.index('id="content-main"')]
    assert "style=" not in board_html
    assert "<script" not in board_html


def test_rows_are_capped_and_the_rest_linked(client, open_incident, monkeypatch, cast):
    for minutes in range(3):
        open_incident(f"Storm {minutes}", minutes=minutes)
    monkeypatch.setattr(board, "BOARD_LIMIT", 2)

    html = index(client, cast.manager)

    assert len(re.findall(r"data-reference=", html)) == 2
    assert count_line(html).startswith("3 open: 3 SEV-2")  # counts all, not the page
    changelist = reverse("admin:incidents_incident_changelist")
    assert "1 more open" in text(html)
    assert f'href="{changelist}?state=open"' in html


# --- a fixed number of queries ---------------------------------------------------------------


def grow(open_incident, targets, certified_ic, cast, count):
    """``count`` open incidents across severities, half acknowledged with an IC, some with
    the regulator's clock, one a drill."""
    for n in range(count):
        severity = (targets.sev1, targets.sev2, targets.sev3)[n % 3]
        incident = open_incident(f"Incident {n}", minutes=n % 15, severity=severity)
        if n % 2:
            services.incident_acknowledge(incident=incident, user=cast.manager, now=at(16))
            make_ic(incident, certified_ic, cast, minutes=16)


@pytest.mark.parametrize("count", [1, 30])
def test_the_board_costs_two_queries_whatever_the_number_open(
    count, open_incident, targets, certified_ic, cast, django_assert_num_queries
):
    grow(open_incident, targets, certified_ic, cast, count)

    for with_roles in (True, False):
        # 1. the open incidents with severity, type and (with roles) the current IC;
        # 2. the count line, one aggregate by severity.
        with django_assert_num_queries(2):
            shown = open_board(now=NOW, with_roles=with_roles)
            assert len(shown.rows) == count


# 1. session, 2. user, 3. profile (time zone), 4. the user's own and 5. its groups'
# permissions, 6. the board's rows, 7. its count line, 8. the badges the apps above add
# for the rows shown (ircore.hooks.incident_badges: comms' next update due, one query for
# all rows; incidents cannot join comms' table itself), 9. the recent-actions log.
INDEX_QUERIES = 9


@pytest.mark.parametrize("count", [1, 30])
def test_index_costs_the_same_queries_for_1_and_30_open(
    client, count, open_incident, targets, certified_ic, cast, django_assert_num_queries
):
    grow(open_incident, targets, certified_ic, cast, count)
    client.force_login(cast.manager)

    with time_machine.travel(NOW, tick=False), django_assert_num_queries(INDEX_QUERIES):
        html = client.get(INDEX).content.decode()

    assert len(re.findall(r"data-reference=", html)) == count
