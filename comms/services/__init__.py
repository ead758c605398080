"""The comms verbs, one module per area."""
