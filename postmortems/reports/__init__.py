"""Learning: the reports and figures leadership reads."""
