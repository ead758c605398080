"""The verbs of the comms app that change state, one module per area (``notices``,
``templates``, ``cadence``, ``subscribers``)."""
