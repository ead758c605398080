"""The postmortem deadline clock, with injected time: the owner hears before the deadline
and once per day while it is overdue, their manager once it is more than a day overdue; a
tick run twice, or late after an outage, never sends anything twice."""

from datetime import timedelta

from ircore.models import Delivery, Team
from postmortems.models import Postmortem
from postmortems.services import postmortem_clock
from postmortems.services.postmortem_clock import plan, postmortem_reminders_due, remind_at
from postmortems.services.postmortems import (
    postmortem_open,
    postmortem_publish,
    postmortem_set_deadline,
    postmortem_submit,
    postmortem_update,
    postmortems_open_missed,
)

from .postmortem_world import T0, at, declare, h, resolve


def sent(**filters) -> list[tuple[str, str]]:
    rows = Delivery.objects.filter(topic__startswith="postmortems.postmortem", **filters)
    return [(d.recipient.username, d.subject) for d in rows.order_by("created_at", "id")]


def test_the_first_reminder_is_a_day_before_the_deadline(world, pm):
    assert remind_at(pm) == at(26) and pm.next_reminder_at == at(26)
    assert postmortem_reminders_due(now=at(25.9)) == 0
    assert postmortem_reminders_due(now=at(26)) == 1
    assert sent() == [("ivy", f"Postmortem of {pm.incident.reference} due 2025-03-16 11:00 UTC")]
    pm.refresh_from_db()
    assert pm.reminded_for == pm.due_at and pm.next_reminder_at == at(50)


def test_a_short_deadline_reminds_at_half_time_not_at_once(world):
    incident = declare(world, severity=world.sev1, ic=world.ivy)
    resolve(incident, world.manager, at(2))
    postmortems_open_missed(now=at(2))
    pm = Postmortem.objects.get()
    # 24 h to write it: the reminder 12 h before, not the moment it opens.
    assert remind_at(pm) == at(14)


def test_overdue_once_per_day_and_the_manager_after_a_day(world, pm):
    postmortem_reminders_due(now=at(26))
    assert postmortem_reminders_due(now=at(50)) == 1  # due now: the first overdue notice
    assert postmortem_reminders_due(now=at(60)) == 0  # same day overdue: nothing new
    assert postmortem_reminders_due(now=at(74)) == 2  # a day late: owner again, and manager
    assert postmortem_reminders_due(now=at(80)) == 0
    assert postmortem_reminders_due(now=at(98)) == 1  # two days: the owner, not the manager
    ref = pm.incident.reference
    assert sent() == [
        ("ivy", f"Postmortem of {ref} due 2025-03-16 11:00 UTC"),
        ("ivy", f"Postmortem of {ref} is overdue"),
        ("ivy", f"Postmortem of {ref} is overdue"),
        ("boss", f"Postmortem of {ref} overdue by more than a day"),
        ("ivy", f"Postmortem of {ref} is overdue"),
    ]
    told = pm.incident.timeline.filter(text__contains="told Bo (manager)")
    assert told.count() == 1
    pm.refresh_from_db()
    assert pm.overdue_notices == 3 and pm.manager_told_at == at(74)
    assert pm.next_reminder_at == at(50) + 3 * 24 * h


def test_two_ticks_at_the_same_moment_send_once(world, pm):
    assert postmortem_reminders_due(now=at(26)) == 1
    assert postmortem_reminders_due(now=at(26)) == 0
    # Even a tick that found the row due before the first one saved it: the row is re-read
    # under its lock with the due condition, and the message has a dedupe key.
    Postmortem.objects.filter(pk=pm.pk).update(next_reminder_at=at(26), reminded_for=None)
    postmortem_reminders_due(now=at(26))
    assert len(sent()) == 1


def test_after_an_outage_the_missed_days_are_one_notice_and_no_late_due_soon(world, pm):
    # The beat was down from before the reminder until three days after the deadline.
    assert postmortem_reminders_due(now=at(50 + 72)) == 2  # the latest overdue + the manager
    assert [s for _, s in sent()] == [
        f"Postmortem of {pm.incident.reference} is overdue",
        f"Postmortem of {pm.incident.reference} overdue by more than a day",
    ]
    pm.refresh_from_db()
    assert pm.overdue_notices == 4 and pm.next_reminder_at == at(50 + 96)


def test_publishing_stops_the_clock(world, pm):
    postmortem_update(
        postmortem=pm, user=world.ivy, data={"summary": "S", "root_cause": "R"}, now=at(3)
    )
    postmortem_submit(postmortem=pm, user=world.ivy, now=at(4))
    postmortem_publish(postmortem=pm, user=world.manager, now=at(5))
    pm.refresh_from_db()
    assert pm.next_reminder_at is None and plan(pm) is None
    assert postmortem_reminders_due(now=at(100)) == 0 and sent() == []


def test_a_row_published_behind_the_clocks_back_is_let_go(world, pm):
    Postmortem.objects.filter(pk=pm.pk).update(status=Postmortem.Status.PUBLISHED)
    assert postmortem_reminders_due(now=at(60)) == 0
    pm.refresh_from_db()
    assert pm.next_reminder_at is None


def test_a_new_deadline_reminds_afresh(world, pm):
    postmortem_reminders_due(now=at(50))  # overdue notice for the first deadline
    postmortem_set_deadline(
        postmortem=pm, user=world.manager, due_at=at(150), reason="Waiting on the vendor report"
    )
    pm.refresh_from_db()
    assert (pm.overdue_notices, pm.reminded_for, pm.manager_told_at) == (0, None, None)
    assert pm.next_reminder_at == at(126)
    assert postmortem_reminders_due(now=at(126)) == 1
    assert sent()[-1][1].endswith("due 2025-03-20 15:00 UTC")


def test_with_no_owner_the_manager_hears_the_reminders(world):
    incident = declare(world, severity=world.sev3)
    resolve(incident, world.manager, at(2))
    pm = postmortem_open(incident=incident, user=world.manager, now=at(2))
    Postmortem.objects.filter(pk=pm.pk).update(owner=None)
    postmortem_set_deadline(postmortem=pm, user=world.manager, due_at=at(10), reason="Quick one")
    postmortem_reminders_due(now=at(10))
    assert sent() == [("boss", f"Postmortem of {incident.reference} is overdue")]


def test_the_manager_is_the_owners_team_manager_not_the_owner(world, pm):
    """Bo owns it now; Bo manages Payments, so the next manager up is Platform's."""
    platform = Team.objects.create(name="Platform", slug="platform", manager=world.manager)
    platform.members.add(world.boss)
    Postmortem.objects.filter(pk=pm.pk).update(owner=world.boss)
    postmortem_reminders_due(now=at(74))
    assert ("mia", f"Postmortem of {pm.incident.reference} overdue by more than a day") in sent()


def test_reminders_link_to_the_postmortem(world, pm):
    postmortem_reminders_due(now=at(26))
    delivery = Delivery.objects.get()
    assert delivery.payload["link"].endswith(f"/admin/postmortems/postmortem/{pm.pk}/change/")
    assert delivery.dedupe_key.startswith(f"postmortem:{pm.pk}:20250316T110000:due-soon")


def test_the_tick_reads_only_what_is_due(world, pm, django_assert_num_queries):
    # Nothing due yet: one query, whatever the number of postmortems.
    with django_assert_num_queries(1):
        assert postmortem_reminders_due(now=T0 + timedelta(hours=3)) == 0


def test_a_row_whose_reminder_breaks_stays_due_and_holds_up_no_other(
    world, pm, monkeypatch, caplog
):
    other = declare(world, ic=world.ivy)
    resolve(other, world.manager, at(2))
    postmortems_open_missed(now=at(2))
    second = Postmortem.objects.get(incident=other)
    real_remind = postmortem_clock._remind

    def remind(pk, now):
        if pk == pm.pk:
            raise RuntimeError("mail template broke")
        return real_remind(pk, now)

    monkeypatch.setattr(postmortem_clock, "_remind", remind)

    assert postmortem_reminders_due(now=at(26)) == 1

    assert sent() == [("ivy", f"Postmortem of {other.reference} due 2025-03-16 11:00 UTC")]
    pm.refresh_from_db()
    second.refresh_from_db()
    assert pm.next_reminder_at == at(26)  # still due: the next beat tries it again
    assert second.next_reminder_at == at(50)
    assert f"postmortem {pm.pk} reminders failed" in caplog.text
