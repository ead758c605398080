"""The on-call policy sections (``schedules``, ``escalation``) registered for the whole run, as
``OncallConfig.ready()`` registers them: the shipped ``policies/*.yaml`` carry them, and every
test that loads one (here, and bootstrap anywhere) needs them known."""

from oncall import policy as oncall_policy

oncall_policy.register()
