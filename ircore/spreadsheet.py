"""CSV cells a spreadsheet opens as text: the one guard every export (the on-call load
report, the leadership reports) writes its people-typed cells through."""


def safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @, a tab or a carriage
    return start one): such a cell is prefixed with an apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
