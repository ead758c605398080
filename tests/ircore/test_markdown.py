"""Markdown rendered then sanitised, for every app (runbooks, notes, later notices)."""

import pytest

from incidents.markdown import render_markdown as from_incidents
from ircore.markdown import render_markdown


def test_links_open_without_opener_referrer_or_search_credit():
    html = render_markdown("See [the status page](https://status.example.com/x).")
    assert html == (
        '<p>See <a href="https://status.example.com/x" rel="noopener noreferrer nofollow">'
        "the status page</a>.</p>"
    )


def test_a_raw_link_gets_the_same_rel_whatever_it_said():
    html = render_markdown('<a href="https://example.com" rel="opener" target="_top">x</a>')
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'opener"' not in html and "target" not in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        '<img src="x" onerror="alert(1)">',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        "<iframe src=https://example.com></iframe>",
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_script_never_survives(text):
    html = str(render_markdown(text)).lower()
    for needle in ("<script", "javascript:", "onerror", "data:", "<iframe", "style="):
        assert needle not in html


def test_markdown_features_notes_and_runbooks_use():
    html = render_markdown(
        "# Steps\n\n1. roll back\n2. tell support\n\n```\nkubectl rollout undo\n```\n\n"
        "| who | what |\n| --- | --- |\n| IC | decides |\n\n**bold** and `code`"
    )
    for part in (
        "<h1>Steps</h1>",
        "<ol>",
        "<li>roll back</li>",
        "<pre><code>kubectl rollout undo",
        "<td>IC</td>",
        "<strong>bold</strong>",
        "<code>code</code>",
    ):
        assert part in html


def test_empty_text_is_empty_html():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_incidents_markdown_is_the_same_function():
    assert from_incidents is render_markdown
