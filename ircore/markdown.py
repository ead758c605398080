"""Markdown for runbooks, notes and (later) notices and postmortems, rendered then sanitised
(nh3), so no text a person or a file supplies can carry script into the admin.

Links keep only http, https and mailto targets and open with ``rel="noopener noreferrer
nofollow"``: the page they lead to gets no handle on the admin's window, no referrer (an
incident's URL names it), and no search-engine credit from a tool people paste links into.
"""

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}


LINK_REL = "noopener noreferrer nofollow"


def render_markdown(text: str | None) -> SafeString:
    """``text`` (Markdown) as sanitised HTML, safe to put in a page as is."""
    html = md.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "code": {"class"}, "span": {"class"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
