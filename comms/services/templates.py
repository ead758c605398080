"""Saving and removing message templates: validated (placeholders, syntax, the sandbox's
bounds) before anything is written, with the history saying who and why."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from comms.models import Template
from ircore.policy import import_policy, load_policy_file

DEFAULT_POLICY = settings.BASE_DIR / "policies" / "default.yaml"


def _for_history(template: Template, user: Any, reason: str) -> Template:
    if user is not None:
        template._history_user = user
    if reason:
        template._change_reason = reason
    return template


def template_save(*, template: Template, user: Any, reason: str = "") -> Template:
    """Create or change ``template``. Raises Django's ``ValidationError`` (keyed by field,
    listing the available placeholders) and writes nothing if it does not validate."""
    with transaction.atomic():
        template.full_clean()
        _for_history(template, user, reason).save()
    return template


def template_delete(*, template: Template, user: Any, reason: str = "") -> None:
    """Remove ``template``; notices drafted from it keep their text."""
    with transaction.atomic():
        _for_history(template, user, reason).delete()


def load_default_templates() -> str:
    """The shipped templates (the ``templates`` section of ``policies/default.yaml``), once:
    only when the install has none, as after an upgrade from before templates existed (a
    fresh install gets them with the policy file ``bootstrap`` loads first). The line
    ``bootstrap`` prints."""
    if Template.objects.exists():
        return "Templates: already present; left as is."
    document = load_policy_file(DEFAULT_POLICY)
    summary = import_policy({"version": document["version"], "templates": document["templates"]})
    return f"Templates: loaded {summary.counts['templates'].created} from {DEFAULT_POLICY.name}."
