"""Who may do what: one table of verbs, read by the admin and the API alike.

A verb names something a person does (declare, acknowledge, tick, import policy ...). Each
app declares its verbs here at import time with :func:`register`; the admin hides a button
and the API answers 403 from the same entry, so the two can never disagree. A verb also says
whether a closed incident still accepts it: the services enforce that, the admin hides what
does not apply.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verb:
    name: str
    # Every one of these Django permissions is needed ("app_label.codename").
    perms: tuple[str, ...]
    description: str
    # Whether a closed incident still accepts it (meaningless for verbs on no incident).
    on_closed: bool = False


VERBS: dict[str, Verb] = {}


def register(*verbs: Verb) -> None:
    for verb in verbs:
        if verb.name in VERBS and VERBS[verb.name] != verb:
            raise ValueError(f"Verb '{verb.name}' is declared twice, differently.")
        VERBS[verb.name] = verb


def verb(name: str) -> Verb:
    try:
        return VERBS[name]
    except KeyError:
        # A verb nobody declared is closed: a new button or action stays shut until
        # someone says who may use it.
        raise LookupError(f"No verb '{name}' is declared.") from None


def may(user: Any, name: str) -> bool:
    """Whether ``user`` holds every permission the verb needs."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.has_perms(verb(name).perms)


def perms_for(names: Iterable[str]) -> list[str]:
    return sorted({perm for name in names for perm in verb(name).perms})


register(
    # The file carries every section, thresholds' recipients included: reading it needs the
    # right to read each of them (Support reads severities only, so it may not export).
    Verb(
        "export_policy",
        (
            "ircore.view_severity",
            "ircore.view_checklisttemplateitem",
            "ircore.view_incidenttype",
            "ircore.view_financialthreshold",
        ),
        "Download the policy file.",
    ),
    Verb(
        "import_policy",
        ("ircore.view_severity", "ircore.import_policy"),
        "Import a policy file (severities, types, checklists, thresholds...).",
    ),
)
