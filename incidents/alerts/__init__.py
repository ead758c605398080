"""Detection: inbound integrations (Alertmanager, PagerDuty Events v2, a generic webhook,
heartbeats), the alerts they post, and maintenance windows. Alerts declare through the same
incident services a person uses (``incidents.services``), so paging and comms follow."""
