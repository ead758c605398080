"""``manage.py load_runbooks [DIR]``: load the Markdown runbooks of DIR (default: the
repository's ``runbooks/``) into the database, upserting by slug. Safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.runbooks import load_runbooks
from ircore.errors import RuleError


class Command(BaseCommand):
    help = (
        "Load Markdown runbooks with YAML front matter (title, slug, services, "
        "incident_types) from DIR, default the repository's runbooks/. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            default=str(settings.BASE_DIR / "runbooks"),
            help="Folder of *.md runbooks (default: %(default)s).",
        )

    def handle(self, *args, directory: str, **options) -> None:
        try:
            summary = load_runbooks(directory)
        except RuleError as exc:  # a bad file: nothing was changed
            raise CommandError(exc.message) from exc
        for warning in summary.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(f"Runbooks from {directory}: {summary}."))
