"""Export or import the policy file.

    python manage.py policy export FILE        # FILE "-" writes YAML to stdout
    python manage.py policy import FILE [--dry-run] [--map SEV-1=P0,SEV-2=P1,...]

The format follows the extension (.yaml, .yml, .json); ``--format`` overrides it
(needed for "-"). ``--map`` switches scheme on an install with history: incidents (and
anything else) at a level the file removes move to the level named, in the import's
transaction, each recorded in its history. A bad file (or map) prints its problems to
stderr (at most ``policy.MAX_PROBLEMS``), exits non-zero and changes nothing; a file
over ``policy.MAX_FILE_BYTES`` is refused before it is parsed, as in the admin.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from ircore import policy


class Command(BaseCommand):
    help = "Export the policy (severities, types, checklists, thresholds, ...) or import one."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write the current policy to FILE.")
        export.add_argument("file", help='Path ending .yaml/.yml/.json, or "-" for stdout.')
        export.add_argument("--format", choices=("yaml", "json"), default=None)
        load = actions.add_parser("import", help="Validate FILE, then apply it all or nothing.")
        load.add_argument("file", help='Path ending .yaml/.yml/.json, or "-" for stdin.')
        load.add_argument("--format", choices=("yaml", "json"), default=None)
        load.add_argument(
            "--dry-run", action="store_true", help="Validate and count; change nothing."
        )
        load.add_argument(
            "--map",
            dest="severity_map",
            default="",
            metavar="OLD=NEW,...",
            help="Move what uses each severity the file removes to a level of the file, "
            "e.g. SEV-1=P0,SEV-2=P1,SEV-3=P2,SEV-4=P3.",
        )

    def handle(self, *args, action, file, format=None, dry_run=False, severity_map="", **options):
        try:
            if action == "export":
                self._export(file, format)
            else:
                self._import(file, format, dry_run, severity_map)
        except policy.PolicyError as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(
                f"policy {action} failed: {exc.count_text()}; nothing was changed"
            ) from exc

    def _export(self, file: str, fmt: str | None) -> None:
        document = policy.export_policy()
        if file == "-":
            self.stdout.write(policy.dumps_policy(document, fmt or "yaml"), ending="")
            return
        fmt = fmt or policy.format_for(file)
        try:
            with open(file, "w", encoding="utf-8") as out:
                out.write(policy.dumps_policy(document, fmt))
        except OSError as exc:
            raise CommandError(f"{file}: cannot write: {exc.strerror}") from exc
        counts = ", ".join(
            f"{len(entries)} {name}" for name, entries in document.items() if name != "version"
        )
        self.stdout.write(f"Exported {counts} to {file}")

    def _import(self, file: str, fmt: str | None, dry_run: bool, severity_map: str) -> None:
        mapping = policy.parse_severity_map(severity_map)
        if file == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            data = (
                policy.read_limited(stdin, name="stdin")
                if stdin is not None
                else sys.stdin.read(policy.MAX_FILE_BYTES + 1).encode("utf-8", "surrogatepass")
            )
            document = policy.read_policy(data, fmt or "yaml", name="stdin")
        else:
            document = policy.load_policy_file(file, fmt)
        summary = policy.import_policy(document, dry_run=dry_run, severity_map=mapping)
        if dry_run:
            self.stdout.write(f"Dry run of {file}: nothing was changed. It would do:")
        else:
            self.stdout.write(f"Imported {file}:")
        for line in summary.lines():
            self.stdout.write(f"  {line}")
