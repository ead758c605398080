"""The learning verbs, one module per area (postmortems, actions, drills, cost)."""
