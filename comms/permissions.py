"""The communications verbs, registered into the one table (``ircore.verbs``) that the admin
and the API both read. One block per area."""

from ircore.verbs import Verb, register

# --- Templates -------------------------------------------------------------------------------
# Writing templates is the model permissions (add/change/delete template: incident managers);
# previewing renders one against a real incident, so it needs to read incidents too. Verbs on
# no incident: ``on_closed`` means nothing for them (set so the closed-incident rules leave
# them out).
PREVIEW_TEMPLATE = "preview_template"

register(
    Verb(
        PREVIEW_TEMPLATE,
        ("comms.view_template", "comms.preview_template", "incidents.view_incident"),
        "Render a template against an incident to see the message (changes nothing).",
        on_closed=True,
    ),
)
# --- end of Templates ------------------------------------------------------------------------
