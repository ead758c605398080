from django.db.models.signals import post_migrate

from . import hooks
from .roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS, SUPPORT

POLICY_MODELS = ("severity", "incidenttype", "checklisttemplateitem", "financialthreshold")
CATALOG_MODELS = ("team", "service", "profile")


class IrcoreConfig(hooks.IRAppConfig):
    name = "ircore"
    verbose_name = "Policy, catalog and people"

    role_grants = {
        INCIDENT_MANAGERS: {
            **dict.fromkeys(POLICY_MODELS + CATALOG_MODELS, ALL),
            # Webhook URLs are credentials (whoever has one can post as the tool): managers
            # only. Elsewhere the delivery log shows just their host.
            "notificationendpoint": ALL,
            "delivery": "view",
            "perm:retry_delivery": "delivery",
            "perm:import_policy": "severity",
            "heartbeat": "view",
        },
        RESPONDERS: {
            **dict.fromkeys(POLICY_MODELS + CATALOG_MODELS, "view"),
            "delivery": "view",
        },
        # Support reads the catalog to write notices about the right services; nothing more.
        SUPPORT: {"service": "view", "severity": "view"},
        LEADERSHIP: {
            **dict.fromkeys(POLICY_MODELS + CATALOG_MODELS, "view"),
            "delivery": "view",
        },
    }

    def ready(self) -> None:
        from . import receivers  # noqa: F401
        from .roles import sync_role_groups

        # After every migrate, so permissions of models added later are granted too.
        post_migrate.connect(sync_role_groups, dispatch_uid="ircore.sync_role_groups")
