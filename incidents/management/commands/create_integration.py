"""``manage.py create_integration NAME --kind KIND [--service SLUG] [--severity KEY]``: a new
alert integration (``integration_create``), printing where its monitor posts (an absolute
URL, from ``SITE_URL``), its token, once, and the configuration to paste. A bad kind, an
unknown service or severity, or a name already taken exits non-zero naming it, and writes
nothing."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.alerts.admin_config import endpoint_url, snippets
from incidents.alerts.models import Integration
from incidents.alerts.services import integration_create
from ircore.errors import RuleError
from ircore.models import Service, Severity


class Command(BaseCommand):
    help = (
        "Create an alert integration and print its endpoint URL and its token (shown this "
        "once; only its hash is kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The integration's name, e.g. 'Prometheus production'.")
        parser.add_argument(
            "--kind",
            required=True,
            help=f"What posts to it: {', '.join(Integration.Kind.values)}.",
        )
        parser.add_argument("--service", help="Default service (its slug), when no rule names one.")
        parser.add_argument("--severity", help="Default severity (its key, e.g. SEV-2).")

    def handle(
        self, *args, name: str, kind: str, service: str | None, severity: str | None, **options
    ) -> None:
        kinds = Integration.Kind.values
        if kind not in kinds:
            raise CommandError(f"--kind: '{kind}' is not a kind; use one of {', '.join(kinds)}.")
        default_service = None
        if service:
            default_service = Service.objects.filter(slug=service).first()
            if default_service is None:
                known = ", ".join(Service.objects.order_by("slug").values_list("slug", flat=True))
                raise CommandError(
                    f"--service: no service with slug '{service}' (known: {known or 'none'})."
                )
        default_severity = None
        if severity:
            default_severity = Severity.objects.filter(key=severity).first()
            if default_severity is None:
                known = ", ".join(Severity.objects.order_by("rank").values_list("key", flat=True))
                raise CommandError(
                    f"--severity: no severity '{severity}' (known: {known or 'none'})."
                )
        try:
            integration, token = integration_create(
                name=name,
                kind=kind,
                service=default_service,
                severity=default_severity,
                user=None,
            )
        except RuleError as exc:  # nothing was written
            raise CommandError(f"{exc.field or 'name'}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"Created integration '{integration.name}'."))
        self.stdout.write(f"Endpoint URL: {endpoint_url(integration.kind)}")
        self.stdout.write(f"Token: {token}")
        self.stdout.write("The token is shown this once; rotate it in the admin if it is lost.")
        for snippet in snippets(integration, token):
            self.stdout.write(f"\n# {snippet.title}\n{snippet.text.rstrip()}")
