"""The on-call verbs and who may do each (see ``ircore.verbs``)."""

from ircore.verbs import Verb, may, register

VIEW_ONCALL = "view_oncall"
MANAGE_SCHEDULES = "manage_schedules"
CREATE_OVERRIDE = "create_override"
OFFER_SHIFT = "offer_shift"
TAKE_SHIFT = "take_shift"
ASSIGN_SHIFT = "assign_shift"
OWN_FEED = "own_feed"
MANAGE_FEEDS = "manage_feeds"
VIEW_PHONE = "view_phone"
VIEW_PAGES = "view_pages"
ACKNOWLEDGE_PAGE = "acknowledge_page"
MANAGE_ESCALATION = "manage_escalation"
MANAGE_CONTACTS = "manage_contacts"
VIEW_PAGE_ATTEMPTS = "view_page_attempts"
VIEW_ONCALL_REPORT = "view_oncall_report"

register(
    Verb(VIEW_ONCALL, ("oncall.view_schedule", "oncall.view_layer"), "See who is on call."),
    Verb(
        MANAGE_SCHEDULES,
        (
            "oncall.change_schedule",
            "oncall.add_layer",
            "oncall.change_layer",
            "oncall.add_layerroster",
            "oncall.change_layerroster",
            "oncall.add_skip",
        ),
        "Shape rotations: layers, rosters, skips.",
    ),
    Verb(CREATE_OVERRIDE, ("oncall.view_layer", "oncall.add_override"), "Cover a layer."),
    Verb(OFFER_SHIFT, ("oncall.view_layer", "oncall.add_shiftswaprequest"), "Offer a shift."),
    Verb(
        TAKE_SHIFT,
        ("oncall.view_layer", "oncall.change_shiftswaprequest", "oncall.add_override"),
        "Take a shift a colleague offers.",
    ),
    Verb(
        ASSIGN_SHIFT,
        (
            "oncall.change_shiftswaprequest",
            "oncall.assign_shiftswaprequest",
            "oncall.add_override",
        ),
        "Assign an offered shift to someone.",
    ),
    Verb(OWN_FEED, ("oncall.add_feedtoken",), "Make and revoke a calendar feed of one's shifts."),
    Verb(
        MANAGE_FEEDS,
        ("oncall.add_feedtoken", "oncall.manage_feedtoken"),
        "Make feeds of schedules and of anyone; revoke any.",
    ),
    # Phone numbers are on profiles: whoever may read profiles sees them next to the on-call.
    Verb(VIEW_PHONE, ("ircore.view_profile",), "See on-call people's phone numbers."),
    Verb(VIEW_PAGES, ("oncall.view_page",), "See who was paged about what, and when."),
    # Acknowledging a page (in the admin or the API) changes it; the signed link in a page
    # message needs no permission, it proves who holds it.
    Verb(
        ACKNOWLEDGE_PAGE,
        ("oncall.view_page", "oncall.change_page"),
        "Acknowledge a page, which stops the escalation's pending pages.",
    ),
    Verb(
        MANAGE_ESCALATION,
        (
            "oncall.add_escalationpolicy",
            "oncall.change_escalationpolicy",
            "oncall.add_escalationstep",
            "oncall.change_escalationstep",
            "oncall.delete_escalationstep",
        ),
        "Write escalation policies and their steps.",
    ),
    # Everyone edits their own contact methods and rules without a permission.
    Verb(
        MANAGE_CONTACTS,
        ("oncall.manage_contactmethod",),
        "See and edit anyone's contact methods and notification rules.",
    ),
    Verb(
        VIEW_PAGE_ATTEMPTS,
        ("oncall.view_pageattempt",),
        "See each message a page sent along its person's rules.",
    ),
    Verb(
        VIEW_ONCALL_REPORT,
        ("oncall.view_oncall_report", "oncall.view_schedule"),
        "See on-call hours, pages and pay per person and team.",
    ),
)

__all__ = ["may"]
