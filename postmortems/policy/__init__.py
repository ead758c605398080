"""The learning sections of the policy file (see ``ircore.policy``): ``action_items`` (the
default due days of action items by priority).

``register()`` adds them to the policy registry; ``PostmortemsConfig.ready()`` calls it
(ircore never imports postmortems). Calling it twice is harmless.
"""

from ircore.policy import register_section


def register() -> None:
    from . import action_items

    register_section(action_items.SECTION)
