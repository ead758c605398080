"""The five role groups and what each may do.

Groups are created by a migration (``0002_role_groups``); their permissions are
(re)granted after every migrate from the ``role_grants`` each app declares on its
AppConfig, so a later app adds its models' grants without ircore importing it.
Grant format: ``{group: {model_name: "add change delete view"}}``; a custom
permission codename can be listed as ``{group: {"perm:<codename>": model_name}}``.
"""

from django.apps import apps as global_apps

INCIDENT_MANAGERS = "Incident managers"
RESPONDERS = "Responders"
SUPPORT = "Support"
LEADERSHIP = "Leadership"
# Lawyers who clear a notice about a data-loss, security or privacy incident before it goes out
# (``IncidentType.legal_review_required``). People join it beside their own group: it grants
# the legal review and reading what is reviewed, nothing else.
LEGAL_REVIEWERS = "Legal reviewers"
ROLE_GROUPS = (INCIDENT_MANAGERS, RESPONDERS, SUPPORT, LEADERSHIP, LEGAL_REVIEWERS)

ALL = "add change delete view"


def declared_grants() -> dict[str, set[tuple[str, str]]]:
    """{group: {(app_label, codename)}} gathered from every app's ``role_grants``."""
    wanted: dict[str, set[tuple[str, str]]] = {g: set() for g in ROLE_GROUPS}
    for config in global_apps.get_app_configs():
        grants = getattr(config, "role_grants", None) or {}
        for group, per_model in grants.items():
            for model_name, actions in per_model.items():
                if model_name.startswith("perm:"):
                    wanted[group].add((config.label, model_name.removeprefix("perm:")))
                    continue
                for action in actions.split():
                    wanted[group].add((config.label, f"{action}_{model_name}"))
    return wanted


def sync_role_groups(using: str = "default", **_) -> None:
    """Make each role group hold exactly its declared permissions."""
    from django.contrib.auth.models import Group, Permission

    for group_name, perms in declared_grants().items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        if not perms:
            group.permissions.clear()
            continue
        query = None
        from django.db.models import Q

        for app_label, codename in perms:
            q = Q(content_type__app_label=app_label, codename=codename)
            query = q if query is None else query | q
        group.permissions.set(Permission.objects.using(using).filter(query))
