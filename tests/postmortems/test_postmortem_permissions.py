"""Who may do what with postmortems: the verb table (role groups) and whose postmortem.
Leadership reads everything and changes nothing; responders write the postmortems they own or
took part in (a role on the incident, or declaring it); incident managers write any and
publish; Support and outsiders see none."""

import pytest

from incidents import services as incidents
from incidents.models import RoleAssignment
from ircore.verbs import may
from postmortems import permissions as perms
from postmortems.permissions import NotAllowed
from postmortems.services.postmortems import postmortem_update

from .postmortem_world import at


def test_leadership_reads_but_cannot_change(world, pm):
    leader = world.leader
    assert may(leader, perms.VIEW_POSTMORTEM) and may(leader, perms.VIEW_ACTION_ITEMS)
    for verb in (
        perms.OPEN_POSTMORTEM,
        perms.EDIT_POSTMORTEM,
        perms.SUBMIT_POSTMORTEM,
        perms.PUBLISH_POSTMORTEM,
        perms.REOPEN_POSTMORTEM,
        perms.REASSIGN_POSTMORTEM,
        perms.ADD_ACTION_ITEM,
        perms.EDIT_ACTION_ITEM,
    ):
        assert not may(leader, verb), verb
    with pytest.raises(NotAllowed):
        postmortem_update(postmortem=pm, user=leader, data={"summary": "x"})


def test_support_and_outsiders_see_no_postmortems(world):
    for person in (world.support, world.outsider):
        assert not may(person, perms.VIEW_POSTMORTEM)
        assert not may(person, perms.VIEW_ACTION_ITEMS)


def test_responders_write_the_postmortems_they_take_part_in(world, pm):
    rob = world.responder
    assert perms.may_write(world.ivy, pm)  # the owner (and IC)
    assert not perms.may_write(rob, pm)  # no part in the incident
    with pytest.raises(NotAllowed):
        postmortem_update(postmortem=pm, user=rob, data={"summary": "x"})
    incidents.role_assign(
        incident=pm.incident, role=RoleAssignment.Role.SME, user=rob, by=world.manager, now=at(1.5)
    )
    assert perms.may_write(rob, pm)
    postmortem_update(postmortem=pm, user=rob, data={"summary": "From the SME"}, now=at(3))
    # The declarer takes part too (here the manager, who writes any anyway).
    assert perms.takes_part(world.manager, pm)


def test_incident_managers_write_any_and_publish(world, pm):
    assert perms.may_write(world.boss, pm)
    assert may(world.boss, perms.PUBLISH_POSTMORTEM)
    assert not may(world.ivy, perms.PUBLISH_POSTMORTEM)
    assert may(world.boss, perms.SET_POSTMORTEM_DEADLINE)
    assert not may(world.ivy, perms.SET_POSTMORTEM_DEADLINE)


def test_owners_hand_over_their_own_managers_any(world, pm):
    assert perms.may_reassign(world.ivy, pm)
    assert not perms.may_reassign(world.responder, pm)
    assert perms.may_reassign(world.boss, pm)


def test_nobody_may_delete_postmortems_or_action_items(world):
    for person in (world.manager, world.responder, world.leader):
        assert not person.has_perm("postmortems.delete_postmortem")
        assert not person.has_perm("postmortems.delete_actionitem")
