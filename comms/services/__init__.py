"""The verbs of the comms app, one module per area (``notices``, ``cadence``, ...)."""
