"""Export: the postmortem as Markdown (every section under its heading, the timeline with its
stars, the action items as a checklist) and as print-friendly HTML rendered from that
Markdown and sanitised, so no section can carry script into the page."""

from datetime import date, timedelta

import pytest

from postmortems import export
from postmortems.models import Postmortem
from postmortems.services.actions import action_item_create, action_item_set_status
from postmortems.services.postmortems import (
    postmortem_update,
    postmortems_open_missed,
    timeline_entry_add,
)

from .postmortem_world import T0, at, declare, resolve


@pytest.fixture
def pm(world):
    incident = declare(world, ic=world.ivy)
    resolve(incident, world.manager, at(2))
    postmortems_open_missed(now=at(2))
    pm = Postmortem.objects.get(incident=incident)
    postmortem_update(
        postmortem=pm,
        user=world.ivy,
        now=at(3),
        data={
            "summary": "Card payments **timed out** for 2 hours.",
            "customers_affected": 500,
            "transactions_failed": 200,
            "financial_impact": "50000.00",
            "immediate_cause": "A new index changed the query plan.",
            "root_cause": "No query-plan checks before deploys.",
            "went_well": "- Fast alert",
            "went_poorly": "<script>alert('x')</script> Slow diagnosis",
            "review_meeting_at": at(20),
            "attendees": [world.ivy, world.boss],
            "other_attendees": "Dee from the vendor",
        },
    )
    timeline_entry_add(
        postmortem=pm,
        user=world.ivy,
        data={
            "text": "Root cause hypothesis:\n# index change",
            "occurred_at": T0 + timedelta(minutes=30),
            "starred": True,
        },
    )
    item = action_item_create(
        user=world.ivy,
        postmortem=pm,
        data={"title": "Query plan dashboard", "kind": "detect", "owner": world.responder,
              "due_on": date(2025, 4, 1), "ticket_url": "https://jira.example/OPS-1"},
        now=at(3),
    )  # fmt: skip
    action_item_set_status(item=item, user=world.ivy, status="done", evidence="Live", now=at(4))
    return pm


def test_markdown_has_every_section_in_the_templates_order(world, pm):
    text = export.as_markdown(pm)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Root cause",
        "## Detection",
        "## What went well",
        "## What went poorly",
        "## Action items",
        "## Lessons learned",
        "## Review meeting",
    ]
    assert text.startswith("# Incident postmortem: Payments failing\n")
    assert "- **Severity:** SEV-2 High" in text
    assert "- **Due:** 2025-03-16 11:00 UTC" in text
    assert "Card payments **timed out** for 2 hours." in text
    assert "- **Customers affected:** 500" in text
    assert "- **Financial impact:** $50,000.00" in text
    # This incident's time to detect: detected - impact started (10 minutes in the world).
    assert "- **Time to detect:** 10 min (detected − impact started)" in text
    # A timeline row with a newline cannot start a heading of its own.
    assert "- ★ **2025-03-14 09:30** Root cause hypothesis: # index change" in text
    assert (
        "- [x] [Payments] Query plan dashboard (Detect, P2) - Owner: rob - Due: 2025-04-01"
        " - Done - <https://jira.example/OPS-1>"
    ) in text
    assert "- **Date:** 2025-03-15 05:00 UTC" in text
    assert "- **Attendees:** Bo, Ivy, Dee from the vendor" in text
    assert "### Lessons learned" not in text and "_Not written yet._" in text


def test_print_html_is_rendered_and_sanitised(world, pm):
    html = export.as_html(pm)
    assert html.startswith("<!DOCTYPE html>")
    assert "<h2>Summary</h2>" in html and "<strong>timed out</strong>" in html
    assert "<script>" not in html and "alert(" not in html.split("Slow diagnosis")[0][-40:]
    assert 'href="/static/postmortems/postmortem-print.css"' in html
    assert 'rel="noopener noreferrer nofollow"' in html  # the ticket link


def test_export_costs_a_fixed_number_of_queries(world, pm, django_assert_num_queries):
    # postmortem+incident+severity+owner+published_by, timeline, attendees, items, their
    # owners, their teams.
    with django_assert_num_queries(6):
        export.as_markdown(pm)
