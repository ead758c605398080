"""Set-based data generation for PostgreSQL: one ``INSERT ... SELECT`` over
``generate_series`` per table, so a section grows to a million rows in minutes where building
model instances in Python takes the better part of an hour.

A section gives the SQL expression of each column it sets, in terms of the series index ``i``
(and whatever its ``FROM`` joins); every other column gets the model field's own default,
passed as a parameter, so a column added later with a default needs no change here.
"""

from django.db import connection
from django.db.models import Model
from django.utils import timezone


def literal(value: str) -> str:
    """A SQL string literal of a constant from the code (never of user input)."""
    return "'" + value.replace("'", "''") + "'"


def series(start: int, stop: int) -> str:
    """``g.i`` running over ``start..stop-1``."""
    return f"generate_series({int(start)}::bigint, {int(stop)}::bigint - 1) AS g(i)"


def array(values, sql_type: str) -> str:
    """A SQL array of constants: ids (ints, None) or strings from the code."""
    items = [
        "NULL" if v is None else literal(v) if isinstance(v, str) else str(int(v)) for v in values
    ]
    return f"ARRAY[{', '.join(items)}]::{sql_type}[]"


def insert_select(model: type[Model], columns: dict[str, str], from_sql: str) -> int:
    """``INSERT INTO <model> (...) SELECT <columns> FROM <from_sql>``; returns the rows written.

    ``columns`` maps field attnames (``severity_id``) to SQL expressions; the primary key and
    generated columns are left to the database; ``auto_now`` fields get the current time.
    Expressions and ``from_sql`` are plain SQL built from constants (``%`` is the modulo
    operator there, not a placeholder); only the defaults travel as parameters.
    """
    names, values, select_params = [], [], []
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.generated:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.attname in columns:
            values.append(columns[field.attname].replace("%", "%%"))
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        default = now if auto else field.get_default()
        values.append("%s")
        select_params.append(field.get_db_prep_save(default, connection))
    unknown = set(columns) - {field.attname for field in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model._meta.label} has no column(s) {', '.join(sorted(unknown))}.")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(values)} FROM {from_sql.replace('%', '%%')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, select_params)
        return cursor.rowcount
