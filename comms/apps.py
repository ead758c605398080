from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS, SUPPORT

# --- Templates -------------------------------------------------------------------------------
# Incident managers write the templates; responders and support read them and preview them
# against an incident (support drafts customer notices from them); leadership reads them.
TEMPLATE_GRANTS = {
    INCIDENT_MANAGERS: {"template": ALL, "perm:preview_template": "template"},
    RESPONDERS: {"template": "view", "perm:preview_template": "template"},
    SUPPORT: {"template": "view", "perm:preview_template": "template"},
    LEADERSHIP: {"template": "view"},
}
# --- end of Templates ------------------------------------------------------------------------


def merged(*blocks: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One ``role_grants`` from each area's block."""
    grants: dict[str, dict[str, str]] = {}
    for block in blocks:
        for group, perms in block.items():
            grants.setdefault(group, {}).update(perms)
    return grants


class CommsConfig(hooks.IRAppConfig):
    name = "comms"
    verbose_name = "Communications"

    role_grants = merged(TEMPLATE_GRANTS)

    def ready(self) -> None:
        # Templates: the preview verb (ircore.verbs), and the templates section of the
        # policy file.
        from . import permissions  # noqa: F401
        from .policy import register as register_policy_sections

        register_policy_sections()

    def load_defaults(self) -> str:
        # Templates: the shipped set for an install whose policy predates them.
        from .services.templates import load_default_templates

        return load_default_templates()
