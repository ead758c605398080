"""The printed report: row counts, then queries and median milliseconds per measurement at
both sizes with their ratio, and the slowest query of each missed target."""

from .runner import RATIO_TARGET, Report

SQL_SHOWN = 300  # characters of the slowest query printed for a slow row


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def render(report: Report) -> str:
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
            f"ratio < {RATIO_TARGET}: {_yes(row.ratio_ok)}"
        )
        if not row.ok and row.large.slowest_sql:
            sql = " ".join(row.large.slowest_sql.split())
            if len(sql) > SQL_SHOWN:
                sql = sql[:SQL_SHOWN] + " ..."
            at_small = row.slowest_ms_at_small
            was = f"; {at_small:.1f} ms at small" if at_small is not None else ""
            lines.append(f"    slowest query at large ({row.large.slowest_ms:.1f} ms{was}): {sql}")
    missed = [row.label for row in report.missed]
    lines += ["", f"Missed: {', '.join(missed)}." if missed else "All targets met."]
    return "\n".join(lines)
