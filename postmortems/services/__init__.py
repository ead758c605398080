"""The learning verbs, one module per area (``postmortems``, ``postmortem_clock``,
``actions``, ...); import them from their module."""
