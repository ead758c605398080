"""Export or import the policy file.

    python manage.py policy export FILE        # FILE "-" writes YAML to stdout
    python manage.py policy import FILE [--dry-run]

The format follows the extension (.yaml, .yml, .json); ``--format`` overrides it
(needed for "-"). A bad file prints every problem to stderr, exits non-zero and changes
nothing.
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

    def handle(self, *args, action, file, format=None, dry_run=False, **options):
        try:
            if action == "export":
                self._export(file, format)
            else:
                self._import(file, format, dry_run)
        except policy.PolicyError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            count = len(exc.problems)
            raise CommandError(
                f"policy {action} failed: {count} problem{'s' if count != 1 else ''}; "
                "nothing was changed"
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

    def _import(self, file: str, fmt: str | None, dry_run: bool) -> None:
        if file == "-":
            document = policy.loads_policy(sys.stdin.read(), fmt or "yaml", name="stdin")
        elif fmt:
            try:
                with open(file, encoding="utf-8") as src:
                    text = src.read()
            except OSError as exc:
                raise CommandError(f"{file}: cannot read: {exc.strerror}") from exc
            document = policy.loads_policy(text, fmt, name=file)
        else:
            document = policy.load_policy_file(file)
        summary = policy.import_policy(document, dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"Dry run of {file}: nothing was changed. It would do:")
        else:
            self.stdout.write(f"Imported {file}:")
        for line in summary.lines():
            self.stdout.write(f"  {line}")
