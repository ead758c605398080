"""The update cadence: which updates an incident owes each audience, by when, and what became
of each. The rules, in one place (``UpdateDue`` holds the records):

1. **Cadence.** The incident's severity sets a period per audience: ``internal_update_every``
   for internal updates, ``customer_update_every`` for customers; blank (or zero) is no
   cadence for that audience. Executive briefings have none. Drills owe updates like real
   incidents (a drill rehearses the cadence) and are reminded like them; the figures leave
   them out through the incidents they are given (``Incident.objects.real()``).
2. **What counts as the update.** A notice to that audience about that incident, once
   published: ``comms.services.notices.publish`` calls ``update_sent`` inside its
   transaction, and the update counts at the notice's ``published_at``. Drafts, notices in
   review and executive briefings do not count; a customer notice is not an internal update,
   nor the other way round.
3. **What is owed.** While the incident is open and its severity has a cadence for the
   audience, exactly one ``UpdateDue`` row is pending (a unique constraint holds it): due one
   period after the last update published to that audience, else after the declaration.
   A row is never planned due before the moment it is planned: a raised severity, a
   re-opened incident or a plan the declaration signal missed owe an update now at the
   earliest, never one in the past.
4. **On time, late, missed.** The update published at ``t`` settles the pending row: on
   time when ``t <= due_at``; late when after ``due_at`` but before a whole period has passed
   (``t < due_at + period``, the row's own period); the next row is due one period after
   ``t``. When a whole period passes with none, the row is missed and the next one is due a
   period after the missed one (``due_at + period``): an incident that stays silent misses
   one update per period, each recorded.
5. **Severity change.** The pending row is planned again from the last update with the new
   period (rule 3). A severity with no cadence for the audience cancels its pending row if
   not yet due; one already overdue was owed, so it stays and settles by rule 4, as at
   resolution.
6. **Resolution (and closure).** Pending rows not yet due are dropped; an overdue row stays
   pending and becomes late (an update published within its period, typically the
   resolution notice) or missed; nothing new is planned. Re-opening plans again (rule 3).
7. **Reminders.** Once a pending row of an open incident is overdue, the reconciler reminds
   the incident's Communications Lead, else its Incident Commander, else whoever declared it
   (``ircore.notifications.notify_user``), once for that row: ``reminded_at`` under the
   incident's row lock, and a dedupe key per row and due time, so two ticks never remind
   twice. The next reminder is for the next row, a period later. The timeline says so
   ("Internal update overdue by 3 min ..."). A re-plan that moves the row later (a lowered
   severity) forgets the reminder: the row is owed afresh.

The clock, level-triggered (DESIGN.md): ``cadence_tick`` (beat, every 30 s) finds the
incidents with something to do from indexed columns (pending rows by ``outcome, due_at``;
open incidents by ``open_rank``) and reconciles each under its row lock with
``skip_locked`` (a second tick skips it): settle what a whole period has closed (rule 4),
plan what is missing or re-plan what the severity changed (3, 5, 6), remind what is overdue
(7). ``update_sent`` and the receivers (declaration, severity, status) run the same
reconciliation for one incident, waiting for the lock, so a lost signal only delays it.
Its cost grows with the open incidents and the rows due, not with history.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, Max, OuterRef, Q
from django.utils import timezone

from incidents.models import Incident, RoleAssignment, TimelineEntry
from incidents.services import timeline_add
from ircore.links import absolute_url
from ircore.notifications import notify_user

from ..models import Audience, Notice, UpdateDue
from ..models.cadence import CADENCE_AUDIENCES

logger = logging.getLogger(__name__)

# The severity's field that sets each audience's cadence.
PERIOD_FIELDS = {
    Audience.INTERNAL: "internal_update_every",
    Audience.CUSTOMERS: "customer_update_every",
}
# Incidents reconciled per tick at most (the next tick takes the rest, most overdue first).
BATCH = 500
REMINDER_TOPIC = "comms.cadence"

Outcome = UpdateDue.Outcome


def cadence_period(incident: Incident, audience: str) -> timedelta | None:
    """The period ``incident`` owes ``audience`` updates at now: its severity's, while open
    (rule 1); None when no update is owed."""
    if not incident.is_open or audience not in PERIOD_FIELDS:
        return None
    period = getattr(incident.severity, PERIOD_FIELDS[audience])
    return period if period is not None and period > timedelta(0) else None


def last_update_at(incident: Incident, audience: str) -> datetime | None:
    """When the last update to ``audience`` was published (rule 2)."""
    published = Notice.objects.published().filter(incident=incident, audience=audience)
    return published.aggregate(at=Max("published_at"))["at"]


# --- one incident, under its row lock ---------------------------------------------------------


def _locked(incident_id: int, *, skip_locked: bool) -> Incident | None:
    """The incident under its row lock, the one lock every change to its rows takes: a tick
    skips an incident another holds; ``update_sent`` waits for it."""
    rows = Incident.objects.select_for_update(skip_locked=skip_locked, of=("self",))
    return rows.select_related("severity", "created_by").filter(pk=incident_id).first()


def _settle(row: UpdateDue | None, period: timedelta | None, until: datetime) -> UpdateDue | None:
    """Rule 4 up to ``until``: a row whose period has closed is missed, and so is each next
    one a whole period went by without; returns the row still pending (None: none owed)."""
    if row is None or row.closes_at > until:
        return row
    row.outcome = Outcome.MISSED
    row.save(update_fields=["outcome"])
    if period is None:
        return None
    due, missed = row.closes_at, []
    # After an outage of the clock, every period nobody updated in is a missed update.
    while due + period <= until:
        missed.append(
            UpdateDue(
                incident_id=row.incident_id,
                audience=row.audience,
                due_at=due,
                period=period,
                outcome=Outcome.MISSED,
            )
        )
        due += period
    UpdateDue.objects.bulk_create(missed)
    return UpdateDue.objects.create(
        incident_id=row.incident_id, audience=row.audience, due_at=due, period=period
    )


def _plan(
    incident: Incident,
    audience: str,
    row: UpdateDue | None,
    period: timedelta | None,
    now: datetime,
    sent: datetime | None = None,
) -> UpdateDue | None:
    """Rules 3, 5 and 6: the pending row the incident's state asks for, given the one it has.
    ``sent``: an update just published (it may not be the newest published_at read back)."""
    if period is None:
        if row is not None and row.due_at > now:
            row.delete()  # no longer owed: resolved, or a severity without a cadence
            return None
        return row  # overdue: owed all the same, it settles by its own period
    if row is not None and row.period == period:
        return row
    anchors = [last_update_at(incident, audience), sent, incident.declared_at]
    due = max(max(a for a in anchors if a is not None) + period, now)
    if row is None:
        return UpdateDue.objects.create(
            incident=incident, audience=audience, due_at=due, period=period
        )
    row.due_at, row.period = due, period
    if due > now:
        row.reminded_at = None  # due later now: a fresh obligation, reminded when it is overdue
    row.save(update_fields=["due_at", "period", "reminded_at"])
    return row


def _recipient(incident: Incident):
    """Whom to remind: the Communications Lead, else the IC, else the declarer (rule 7)."""
    Role = RoleAssignment.Role
    holders = {
        held.role: held.user
        for held in RoleAssignment.objects.filter(
            incident=incident,
            relieved_at__isnull=True,
            role__in=[Role.COMMS_LEAD, Role.INCIDENT_COMMANDER],
        ).select_related("user")
    }
    if Role.COMMS_LEAD in holders:
        return holders[Role.COMMS_LEAD], "the Communications Lead"
    if Role.INCIDENT_COMMANDER in holders:
        return holders[Role.INCIDENT_COMMANDER], "the Incident Commander (no Communications Lead)"
    if incident.created_by is not None:
        return incident.created_by, "who declared it (no Communications Lead or IC)"
    return None, ""


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%H:%M} UTC"


def _every(period: timedelta) -> str:
    minutes = int(period.total_seconds() // 60)
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} min"


def _remind(incident: Incident, row: UpdateDue, now: datetime) -> int:
    """Rule 7 for one overdue row of an open incident, once."""
    if not incident.is_open or row.reminded_at is not None or row.due_at > now:
        return 0
    label = Audience(row.audience).label
    minutes = int((now - row.due_at).total_seconds() // 60)
    overdue = f"overdue by {minutes} min" if minutes else "now overdue"
    drill = " (drill)" if incident.is_drill else ""
    user, as_whom = _recipient(incident)
    head = f"{label} update {overdue} (due {_utc(row.due_at)}, every {_every(row.period)})"
    if user is not None:
        notify_user(
            user=user,
            subject=f"[{incident.reference}] {label} update {overdue}{drill}",
            body=(
                f"{incident.reference} {incident.title} ({incident.severity.key}{drill}) owes "
                f"its {label.lower()} audience an update every {_every(row.period)}; the "
                f"one due at {_utc(row.due_at)} has not been published. Publish a notice "
                f"to the {label.lower()} audience to settle it."
            ),
            topic=REMINDER_TOPIC,
            # Per row and due time: a re-planned row owed afresh is a new reminder.
            dedupe_key=f"{REMINDER_TOPIC}:{row.pk}:{row.due_at.astimezone(UTC):%Y%m%dT%H%M%S}",
            link=absolute_url(incident.get_absolute_url()),
        )
        name = user.get_full_name() or user.get_username()
        text = f"{head}: reminded {name}, {as_whom}."
    else:
        text = f"{head}: nobody to remind (no Communications Lead, IC or declarer)."
    timeline_add(
        incident=incident,
        kind=TimelineEntry.Kind.UPDATE,
        text=text,
        occurred_at=now,
        data={
            "cadence": "overdue",
            "audience": row.audience,
            "due_at": row.due_at.isoformat(),
            "reminded": user.get_username() if user is not None else None,
        },
    )
    row.reminded_at = now
    row.save(update_fields=["reminded_at"])
    return 1 if user is not None else 0


def _reconcile(incident: Incident, now: datetime) -> int:
    pending = {row.audience: row for row in UpdateDue.objects.pending().filter(incident=incident)}
    reminded = 0
    for audience in CADENCE_AUDIENCES:
        period = cadence_period(incident, audience)
        row = _settle(pending.get(audience), period, now)
        row = _plan(incident, audience, row, period, now)
        if row is not None:
            reminded += _remind(incident, row, now)
    return reminded


def cadence_reconcile(*, incident_id: int, now: datetime | None = None, wait: bool = False) -> int:
    """Bring one incident's updates due in line with its state at ``now`` (see the module
    docstring): settle, plan, remind. Returns the reminders sent. ``wait``: wait for the
    incident's row lock (the receivers) instead of skipping it (the tick)."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident_id, skip_locked=not wait)
        if incident is None:  # another tick holds it (or it was deleted)
            return 0
        return _reconcile(incident, now)


# --- what the notices call ---------------------------------------------------------------------


def update_sent(notice: Notice, *, now: datetime | None = None) -> UpdateDue | None:
    """A notice was published (rule 2): settle the pending row of its audience as on time or
    late (rule 4) and plan the next. Called by ``comms.services.notices.publish`` inside its
    transaction, after the notice is marked published; once per notice (a second call for
    the same notice changes nothing). Returns the row it settled, None when none was owed."""
    if notice.audience not in CADENCE_AUDIENCES:
        return None
    now = now or timezone.now()
    sent = notice.published_at or now
    with transaction.atomic():
        incident = _locked(notice.incident_id, skip_locked=False)
        if incident is None or UpdateDue.objects.filter(notice=notice).exists():
            return None
        audience = notice.audience
        period = cadence_period(incident, audience)
        row = UpdateDue.objects.pending().filter(incident=incident, audience=audience).first()
        row = _settle(row, period, sent)
        settled = None
        if row is not None:
            row.outcome = row.outcome_if_sent(sent)
            row.sent_at, row.notice = sent, notice
            row.save(update_fields=["outcome", "sent_at", "notice"])
            settled = row
        _plan(incident, audience, None, period, sent, sent=sent)
    return settled


# --- the clock ---------------------------------------------------------------------------------


def _incidents_due(now: datetime) -> list[int]:
    """The incidents the tick has something to do for, most overdue first. Three reads on
    indexes, each bounded by what is due (or open), never by history:

    1. pending rows past due (``update_due_idx``) not yet reminded on an open incident, or
       whose whole period has closed (to be missed);
    2. pending rows not yet due of incidents no longer open (resolution's signal missed);
    3. open incidents (``open_rank``) whose pending rows do not match their severity: a
       cadence with no row, a row of another period, a row for a cadence no longer there.
    """
    closes = ExpressionWrapper(F("due_at") + F("period"), output_field=DateTimeField())
    overdue = (
        UpdateDue.objects.overdue(now)
        .annotate(closes=closes)
        .filter(Q(reminded_at__isnull=True, incident__open_rank=1) | Q(closes__lte=now))
        .order_by("due_at")
        .values_list("incident_id", flat=True)[:BATCH]
    )
    ended = (
        UpdateDue.objects.pending()
        .filter(due_at__gt=now, incident__open_rank=0)
        .values_list("incident_id", flat=True)[:BATCH]
    )
    mismatch = Q()
    for audience, field in PERIOD_FIELDS.items():
        rows = UpdateDue.objects.pending().filter(incident=OuterRef("pk"), audience=audience)
        has_cadence = Q(**{f"severity__{field}__gt": timedelta(0)})
        mismatch |= (
            has_cadence
            & (~Exists(rows) | Exists(rows.exclude(period=OuterRef(f"severity__{field}"))))
        ) | (~has_cadence & Exists(rows.filter(due_at__gt=now)))
    unplanned = (
        Incident.objects.open()
        .filter(mismatch)
        .order_by("declared_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    ids = list(dict.fromkeys([*overdue, *ended, *unplanned]))
    return ids[:BATCH]


def cadence_tick(*, now: datetime | None = None) -> int:
    """The beat's reconciler: every incident with something due (``_incidents_due``)
    reconciled at ``now``, each in its own transaction. Returns the reminders sent."""
    now = now or timezone.now()
    reminded = 0
    for incident_id in _incidents_due(now):
        try:
            reminded += cadence_reconcile(incident_id=incident_id, now=now)
        except Exception:  # one broken incident must not hold up everyone else's reminders
            logger.exception("Update cadence of incident %s could not be reconciled", incident_id)
    return reminded
