"""The on-call sections of the policy file (see ``ircore.policy``): ``schedules`` (teams'
rotations, people by username) and ``escalation`` (who is paged when).

``register()`` adds them to the policy registry; the on-call AppConfig calls it from
``ready()`` (ircore never imports oncall). Calling it twice is harmless.
"""

from ircore.policy import register_section


def register() -> None:
    from . import escalation, schedules

    for module in (schedules, escalation):
        register_section(module.SECTION)
