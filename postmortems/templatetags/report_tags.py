"""The report page's cells, in the words of ``postmortems.reports.text``."""

from django import template

from postmortems.reports import text

register = template.Library()


@register.filter
def duration(value):
    return text.duration(value)


@register.filter
def share(part, whole):
    return text.share(part, whole)


@register.filter
def money(value):
    return text.money(value)


@register.filter
def percent(value):
    return "–" if value is None else f"{value:.3f}%"


@register.filter
def change_text(report):
    return text.change(report)


@register.filter
def met_class(met):
    """A mean within its target reads as met, over it as missed; no target or figure: none."""
    return {True: "report-met", False: "report-missed"}.get(met, "")


@register.filter
def get(mapping, key):
    return mapping.get(key)


@register.filter
def categories(report):
    return [("Type", report.types), ("Service", report.services), ("Team", report.teams)]


@register.filter
def action_item_lists(report):
    return [
        ("Finished in the period (latest)", report.completed_items, "Finished"),
        ("Overdue (longest first)", report.overdue_items, "Due"),
    ]
