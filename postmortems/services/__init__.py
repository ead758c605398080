"""The learning verbs, one module per area (postmortems, postmortem_clock, actions, drills,
cost, ...); import them from their module."""
