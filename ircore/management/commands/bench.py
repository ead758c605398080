"""``manage.py bench``: how list pages scale, measured in a throwaway database.

Loads ``--small`` rows in every registered section (``<app>/bench.py``; the incidents section
counts incidents), times each measurement, grows to ``--large`` and times them again, then
prints queries and median milliseconds per page at both sizes. It is a report: the exit code
is 0 even when a target is missed, unless ``--check`` is given, which asks for the same query
count at both sizes and a ratio under ``RATIO_TARGET`` for whatever sizes were asked for (CI's
default 1,000 against 100,000, or ``--large 1000000``).
"""

import argparse
import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ircore import bench


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM unwinds like Ctrl-C, so the bench database is dropped either way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _positive(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number.") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}.")
    return number


class Command(BaseCommand):
    help = (
        "Measure queries and median time per page of every registered list (the incident "
        "change list and API list, and what other apps add) at a small and a large size, in a "
        "throwaway database that is dropped afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--small", type=_positive, default=1_000, help="Rows (incidents) at the small size."
        )
        parser.add_argument(
            "--large",
            type=_positive,
            default=100_000,
            help="Rows (incidents) at the large size; the difference is added to the small set.",
        )
        parser.add_argument(
            "--pages",
            type=_positive,
            default=20,
            help="Timed hits per measurement; the median is reported.",
        )
        parser.add_argument(
            "--section",
            action="append",
            default=[],
            metavar="NAME",
            help="Measure only this section (repeatable; the incidents section always runs, "
            "the others grow beside its incidents), e.g. --section reports.",
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit non-zero if a query count changes with size or a ratio reaches "
            f"{bench.RATIO_TARGET}.",
        )

    def handle(self, *args, **options) -> None:
        small, large = options["small"], options["large"]
        if large <= small:
            raise CommandError(f"--large ({large}) must be greater than --small ({small}).")

        def log(message: str) -> None:
            if options["verbosity"] >= 1:
                self.stderr.write(message)

        with _sigterm_as_interrupt():
            try:
                report = bench.run(
                    small=small,
                    large=large,
                    pages=options["pages"],
                    log=log,
                    sections=options["section"],
                )
            except KeyboardInterrupt:
                raise CommandError("Interrupted; the bench database was dropped.") from None
            except bench.BenchError as exc:
                raise CommandError(str(exc)) from exc

        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(bench.render(report))
        if options["check"] and not report.ok:
            missed = ", ".join(row.label for row in report.missed)
            raise CommandError(f"Bench targets missed: {missed}.")
