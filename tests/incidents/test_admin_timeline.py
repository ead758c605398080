"""The incident page's timeline: notes render as sanitised Markdown (defect 13), long words
wrap (defect 11), a note can be dated in the past (defect 16), and only the newest entries
are on the page, at a fixed query cost, with a link to the whole timeline."""

from datetime import timedelta
from pathlib import Path

from django.contrib.staticfiles import finders
from django.urls import reverse

from incidents import services
from incidents.admin.inlines import TIMELINE_ON_PAGE
from incidents.models import TimelineEntry

from .conftest import T0, at
from .test_admin import url

NOTE = "Root cause is **bold** news, see [the runbook](https://wiki.example.com/rb)\n\n<script>alert('x')</script>"


def note(incident, people, text=NOTE, **kwargs):
    return services.note_add(
        incident=incident, kind="note", text=text, user=people.manager, **kwargs
    )


def test_notes_render_as_sanitised_markdown_on_the_page_and_the_timeline_admin(
    client, declare, people
):
    incident = declare()
    entry = note(incident, people)
    client.force_login(people.manager)

    pages = [
        client.get(url("change", incident.pk)),
        client.get(reverse("admin:incidents_timelineentry_changelist")),
        client.get(reverse("admin:incidents_timelineentry_change", args=[entry.pk])),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "<strong>bold</strong>" in html
        assert (
            '<a href="https://wiki.example.com/rb" rel="noopener noreferrer nofollow">'
            "the runbook</a>" in html
        )
        assert "alert('x')" not in html and "&lt;script" not in html


def stylesheet() -> str:
    return Path(finders.find("incidents/admin.css")).read_text()


def test_the_longest_word_a_note_takes_wraps_instead_of_widening_the_page(client, declare, people):
    word = "A" * TimelineEntry.NOTE_LIMIT
    incident = declare(summary=word[:2000])
    note(incident, people, text=word)
    client.force_login(people.manager)

    html = client.get(url("change", incident.pk)).content.decode()

    assert f'<div class="ir-note ir-wrap"><p>{word}</p></div>' in html
    css = stylesheet()
    rule = css[css.index(".ir-wrap,") : css.index("}", css.index(".ir-wrap,"))]
    assert "overflow-wrap: anywhere" in rule
    for selector in (".field-summary .readonly", ".field-title .readonly", "#result_list td"):
        assert selector in rule, selector
    assert 'class="ir-title ir-wrap"' in html


def test_a_note_can_be_dated_when_it_happened(client, declare, people):
    incident = declare(now=at(0))
    client.force_login(people.manager)

    response = client.post(
        url("note", incident.pk),
        {"kind": "decision", "text": "Fail over", "occurred_at": "2025-03-14T09:20"},
    )

    assert response.status_code == 302
    entry = incident.timeline.get(kind="decision")
    assert entry.occurred_at == at(20)  # read in the viewer's zone (UTC here)
    # The service's refusal lands on the field, and nothing is written.
    refused = client.post(
        url("note", incident.pk),
        {"kind": "note", "text": "From the future", "occurred_at": "2099-01-01T00:00"},
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors["occurred_at"] == [
        "A note cannot be dated in the future."
    ]
    assert not incident.timeline.filter(text="From the future").exists()


def test_the_page_shows_the_newest_entries_at_a_fixed_query_cost(
    client, declare, people, django_assert_max_num_queries
):
    incident = declare(now=T0)
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            incident=incident,
            kind="alert",
            text=f"alert {n}",
            occurred_at=T0 + timedelta(seconds=n),
        )
        for n in range(1, 301)
    )
    client.force_login(people.manager)
    client.get(url("change", incident.pk))  # warm the per-session caches

    with django_assert_max_num_queries(40) as captured:
        page = client.get(url("change", incident.pk))
    many = len(captured)

    html = page.content.decode()
    assert page.context["inline_admin_formsets"][-1].formset.has_more
    assert html.count('<div class="ir-note ir-wrap">') == TIMELINE_ON_PAGE
    assert "alert 300" in html and "alert 251" in html and "<p>alert 250</p>" not in html
    whole = (
        f"{reverse('admin:incidents_timelineentry_changelist')}?incident__id__exact={incident.pk}"
    )
    assert f'href="{whole}"' in html

    # The whole timeline, filtered to the incident.
    other = declare("Other", now=T0)
    listed = client.get(whole)
    assert listed.status_code == 200
    rows = listed.context["cl"].queryset
    assert rows.count() == 301 and not rows.filter(incident=other).exists()

    # A short timeline costs the same.
    short = declare("Short", now=T0)
    client.get(url("change", short.pk))
    with django_assert_max_num_queries(many):
        page = client.get(url("change", short.pk))
    assert not page.context["inline_admin_formsets"][-1].formset.has_more
