"""``manage.py bench``: how list pages scale, measured in a throwaway database.

Loads ``--small`` incidents, times each registered measurement, grows to ``--large`` and times
them again, then prints queries and median milliseconds per page at both sizes. It is a
report: the exit code is 0 even when a target is missed, unless ``--check`` is given.
"""

import argparse
import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents import bench

SQL_SHOWN = 300  # characters of the slowest query printed for a slow row


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


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def render(report: bench.Report) -> str:
    lines = [
        f"Database: {report.version} ({report.vendor}), a throwaway copy; "
        f"median of {report.pages} timed page(s) per measurement after one warm-up.",
        "",
        f"{'rows':<34}{'small':>12}{'large':>12}",
    ]
    for label, small in report.counts["small"].items():
        lines.append(f"{label:<34}{small:>12,}{report.counts['large'][label]:>12,}")
    lines.append(
        f"generated in {report.seconds['small']:.1f} s (small), "
        f"then {report.seconds['large']:.1f} s (growing to large)"
    )
    lines += [
        "",
        f"{'measurement':<46}{'queries@small':>14}{'queries@large':>14}"
        f"{'ms@small':>10}{'ms@large':>10}{'ratio':>8}",
    ]
    section = None
    for row in report.rows:
        if row.section != section:
            section = row.section
            lines.append(f"[{section}]")
        lines.append(
            f"{row.label:<46}{row.small.queries:>14}{row.large.queries:>14}"
            f"{row.small.ms:>10.1f}{row.large.ms:>10.1f}{row.ratio:>8.2f}"
        )
        lines.append(
            f"    same query count: {_yes(row.same_queries)}; "
            f"ratio < {bench.RATIO_TARGET}: {_yes(row.ratio_ok)}"
        )
        if not row.ok and row.large.slowest_sql:
            sql = " ".join(row.large.slowest_sql.split())
            if len(sql) > SQL_SHOWN:
                sql = sql[:SQL_SHOWN] + " ..."
            at_small = row.slowest_ms_at_small
            was = f"; {at_small:.1f} ms at small" if at_small is not None else ""
            lines.append(f"    slowest query at large ({row.large.slowest_ms:.1f} ms{was}): {sql}")
    missed = [row.label for row in report.rows if not row.ok]
    lines += ["", f"Missed: {', '.join(missed)}." if missed else "All targets met."]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Measure queries and median time per page of the incident lists (admin change list, "
        "API) at a small and a large size, in a throwaway database that is dropped afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--small", type=_positive, default=1_000, help="Incidents at the small size."
        )
        parser.add_argument(
            "--large",
            type=_positive,
            default=100_000,
            help="Incidents at the large size (the difference is added to the small set).",
        )
        parser.add_argument(
            "--pages",
            type=_positive,
            default=20,
            help="Timed hits per measurement; the median is reported.",
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
                report = bench.run(small=small, large=large, pages=options["pages"], log=log)
            except KeyboardInterrupt:
                raise CommandError("Interrupted; the bench database was dropped.") from None
            except bench.BenchError as exc:
                raise CommandError(str(exc)) from exc

        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(render(report))
        if options["check"] and not report.ok:
            missed = ", ".join(row.label for row in report.rows if not row.ok)
            raise CommandError(f"Bench targets missed: {missed}.")
