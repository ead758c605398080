"""Who holds which notice verb by group, written out here (not derived from role_grants), so a
grant changed by mistake fails a test. The per-incident part (the Communications Lead) and
the per-notice part (one's own notice) are the review tests'."""

import pytest

from comms import permissions as verbs
from ircore import roles

pytestmark = pytest.mark.django_db

VERBS = (
    verbs.VIEW_NOTICES,
    verbs.DRAFT_NOTICE,
    verbs.EDIT_NOTICE,
    verbs.SUBMIT_NOTICE,
    verbs.DISCARD_NOTICE,
    verbs.APPROVE_NOTICE,
    verbs.LEGAL_APPROVE_NOTICE,
    verbs.PUBLISH_NOTICE,
    verbs.LEAD_NOTICE_COMMS,
    verbs.MANAGE_INTERNAL_ROUTES,
)
WRITE = {"view_notices", "draft_notice", "edit_notice", "submit_notice", "discard_notice"}
EXPECTED = {
    roles.INCIDENT_MANAGERS: WRITE
    | {"approve_notice", "publish_notice", "lead_notice_comms", "manage_internal_routes"},
    roles.RESPONDERS: WRITE | {"lead_notice_comms"},
    roles.SUPPORT: WRITE,
    roles.LEADERSHIP: {"view_notices"},
    roles.LEGAL_REVIEWERS: {"view_notices", "legal_approve_notice"},
    None: set(),
}


@pytest.mark.parametrize("group", list(EXPECTED), ids=lambda g: g or "nobody")
def test_each_group_holds_exactly_its_notice_verbs(make_user, group):
    person = make_user("someone", group)
    assert {name for name in VERBS if verbs.may(person, name)} == EXPECTED[group]


def test_legal_reviewers_is_a_role_group_made_by_a_migration():
    from django.contrib.auth.models import Group

    assert roles.LEGAL_REVIEWERS in roles.ROLE_GROUPS
    assert Group.objects.filter(name=roles.LEGAL_REVIEWERS).exists()
