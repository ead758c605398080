"""The one home of the incident durations the reports, the postmortems and the metrics read:
what time to detect, to acknowledge and to resolve mean, as SQL expressions (for the means
the reports aggregate) and per incident (for one incident's page).

- **Time to detect** (TTD): ``detected_at - impact_started_at``.
- **Time to acknowledge** (TTA): ``acknowledged_at - detected_at``.
- **Time to resolve** (TTR): ``resolved_at - detected_at`` (the seeds' "Duration: 55 minutes
  (detected 10:15, resolved 11:10)").

Each is defined only for an incident that has both times; MTTD, MTTA and MTTR are the means
over the incidents that have them (SQL's AVG leaves the NULLs out), NULL where none has.

In SQL a duration is a number of seconds (float), computed the same way on every backend
that runs here: averaging the difference of two datetimes natively gives an ``interval`` on
PostgreSQL and a count of microseconds on SQLite, so neither is left to chance (both exact
to the microsecond).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import NotSupportedError
from django.db.models import Avg, F, FloatField, Func


class DurationSeconds(Func):
    """``end - start`` in seconds, as a float (NULL when either is NULL)."""

    arity = 2
    output_field = FloatField()

    def __init__(self, end: Any, start: Any, **extra: Any) -> None:
        super().__init__(_ref(end), _ref(start), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(
            f"Durations in seconds are written for SQLite and PostgreSQL, not {connection.vendor}."
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores datetimes as ISO text in UTC ("YYYY-MM-DD HH:MM:SS[.ffffff]"). The
        # whole seconds are strftime('%s') of the first 19 characters (of the whole text,
        # SQLite would round .9995 up to the next second), the fraction is the text from
        # the 20th (".ffffff", or "" -> 0); whole seconds and fractions are subtracted
        # apart, so the difference is exact to the microsecond (julianday() is off by some
        # microseconds). The format travels as a parameter, so no '%' needs escaping.
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        whole = "CAST(strftime(%s, substr({x}, 1, 19)) AS INTEGER)"
        fraction = "CAST(substr({x}, 20) AS REAL)"
        sql = (
            f"(({whole.format(x=end)} - {whole.format(x=start)})"
            f" + ({fraction.format(x=end)} - {fraction.format(x=start)}))"
        )
        params = ["%s", *end_params, "%s", *start_params, *end_params, *start_params]
        return sql, params

    def as_postgresql(self, compiler, connection, **extra_context):
        # EXTRACT gives numeric (PostgreSQL 14+): cast, so AVG gives a float too.
        return super().as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra_context,
        )


def _ref(value: Any) -> Any:
    return F(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Duration:
    """One lifecycle duration: from ``start`` to ``end`` (incident field names)."""

    key: str  # "ttd"; the mean is "m" + key ("mttd")
    label: str
    start: str
    end: str
    definition: str

    @property
    def mean_key(self) -> str:
        return "m" + self.key

    @property
    def mean_label(self) -> str:
        return "M" + self.key.upper()

    def seconds(self, prefix: str = "") -> DurationSeconds:
        """The duration of each row in seconds; ``prefix`` reaches the incident through a
        relation (``"incident__"``)."""
        return DurationSeconds(prefix + self.end, prefix + self.start)

    def mean(self, prefix: str = "", **extra: Any) -> Avg:
        """The mean in seconds over the rows that have both times (``filter=`` etc. pass on)."""
        return Avg(self.seconds(prefix), output_field=FloatField(), **extra)

    def of(self, incident: Any) -> timedelta | None:
        """This duration of one incident, None unless it has both times."""
        start, end = getattr(incident, self.start), getattr(incident, self.end)
        if start is None or end is None:
            return None
        return end - start


TIME_TO_DETECT = Duration(
    "ttd",
    "Time to detect",
    "impact_started_at",
    "detected_at",
    "detected minus impact started",
)
TIME_TO_ACKNOWLEDGE = Duration(
    "tta",
    "Time to acknowledge",
    "detected_at",
    "acknowledged_at",
    "acknowledged minus detected",
)
TIME_TO_RESOLVE = Duration(
    "ttr",
    "Time to resolve",
    "detected_at",
    "resolved_at",
    "resolved minus detected",
)
DURATIONS = (TIME_TO_DETECT, TIME_TO_ACKNOWLEDGE, TIME_TO_RESOLVE)


def time_to_detect(incident: Any) -> timedelta | None:
    """How long the impact went unnoticed (detected - impact started), None if unknown."""
    return TIME_TO_DETECT.of(incident)


def time_to_acknowledge(incident: Any) -> timedelta | None:
    """How long until a responder acknowledged (acknowledged - detected)."""
    return TIME_TO_ACKNOWLEDGE.of(incident)


def time_to_resolve(incident: Any) -> timedelta | None:
    """How long until it was resolved (resolved - detected)."""
    return TIME_TO_RESOLVE.of(incident)


def mean_seconds(value: float | None) -> float | None:
    """A mean as the API gives it: seconds to a tenth, None where no incident had both times."""
    return None if value is None else round(value, 1)


__all__ = [
    "DURATIONS",
    "TIME_TO_ACKNOWLEDGE",
    "TIME_TO_DETECT",
    "TIME_TO_RESOLVE",
    "Duration",
    "DurationSeconds",
    "mean_seconds",
    "time_to_acknowledge",
    "time_to_detect",
    "time_to_resolve",
]
