"""The communications sections of the policy file (see ``ircore.policy``): ``templates``.

``register()`` adds them to the policy registry; the comms AppConfig calls it from
``ready()`` (ircore never imports comms). Calling it twice is harmless.
"""

from ircore.policy import register_section


def register() -> None:
    from . import templates

    register_section(templates.SECTION)
