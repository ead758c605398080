"""The communications verbs that change state, one module per area."""
