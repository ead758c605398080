"""The sandbox holds whatever a template says: attributes and dunders are out of reach, and
loops, calls, macro recursion, big numbers and big outputs stop with a clear error, both when
a template is rendered (validation or not: a stored template is rendered as it is) and when
one is saved (``validate`` test-renders it). Every case is timed: none may take long."""

import time

import pytest
from django.core.exceptions import ValidationError

from comms.rendering import (
    EXAMPLE,
    MAX_BODY,
    MAX_SOURCE,
    RenderError,
    render_context,
    sandbox,
    validate,
)

WORK = f"more than {sandbox.MAX_WORK:,} characters"


def rendered(body: str, subject: str = "s"):
    return render_context(subject, body, EXAMPLE)


def refused(body: str) -> str:
    """The render error's message; the render must stop within a second."""
    started = time.perf_counter()
    with pytest.raises(RenderError) as caught:
        rendered(body)
    assert time.perf_counter() - started < 1.0
    return caught.value.message


def validation_messages(body: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        validate("s", body)
    return caught.value.message_dict["body"]


# --- Reaching past the context -------------------------------------------------------------

ATTRIBUTE_ATTACKS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ title.__class__ }}",
    "{{ severity.__class__.__base__ }}",
    "{{ severity['__class__'] }}",
    "{{ services.__len__() }}",
    "{{ title.upper() }}",
    "{{ title.format(1) }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ severity.items() }}",
    "{{ services.append(1) }}",
    "{{ range.__self__ }}",
    "{% for s in services %}{{ loop.__class__ }}{% endfor %}",
    "{% for s in services %}{{ loop.cycle.__self__ }}{% endfor %}",
    "{{ self }}",
    "{{ lipsum() }}",
    "{{ cycler(1).next() }}",
    "{{ namespace(a=1) }}",
]


@pytest.mark.parametrize("body", ATTRIBUTE_ATTACKS)
def test_attributes_and_globals_are_out_of_reach_when_rendering(body):
    message = refused(body)
    assert message  # refused, with a reason; never a value from behind the context
    assert "<class" not in message


@pytest.mark.parametrize("body", ATTRIBUTE_ATTACKS)
def test_attributes_and_globals_are_refused_when_saving(body):
    assert validation_messages(body)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{{ severity._meta }}", '"_meta": names beginning with _ are never available'),
        ("{{ title.save }}", "title is text and has no parts"),
        ("{{ severity.mro }}", "severity.mro is not a placeholder"),
        ("{{ ''.__class__ }}", '"__class__": names beginning with _'),
        ("{{ services.name }}", "services is a list: loop over it"),
    ],
)
def test_validation_says_why_an_attribute_is_refused(body, says):
    assert any(says in m for m in validation_messages(body))


def test_the_sandbox_refuses_unsafe_access_by_name(body="{{ title.__class__ }}"):
    assert "not allowed: access to attribute '__class__' of 'str' object is unsafe" in refused(body)


def test_model_methods_are_unreachable_even_in_a_context_that_held_one():
    """Were a model instance ever put in a context, ``.save`` and ``.delete`` stay out of
    reach: no attribute of anything but ``loop`` is readable."""

    class Row:
        deleted = False

        def delete(self):
            Row.deleted = True

    with pytest.raises(RenderError, match="unsafe"):
        render_context("s", "{{ row.delete() }}", {"row": Row()})
    assert not Row.deleted


# --- Loops, calls, recursion ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{% for i in range(10**9) %}x{% endfor %}", "range() gives at most 1,000 numbers"),
        (
            "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
            "the loops run more than 10,000 times",
        ),
        (
            "{% for a in summary %}{% for b in summary %}{% for c in summary %}"
            "{% endfor %}{% endfor %}{% endfor %}",
            "the loops run more than 10,000 times",
        ),
        (
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
            "calls nest more than 20 deep",
        ),
        (
            "{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}",
            "calls nest more than 20 deep",
        ),
        (
            "{% macro m() %}x{% endmacro %}{% for i in range(1000) %}{{ m() }}{{ m() }}"
            "{% endfor %}",
            "more than 1,000 calls",
        ),
        (
            "{% for s in services recursive %}{{ loop(services) }}{% endfor %}",
            "recursive loops are not available",
        ),
    ],
)
def test_loops_calls_and_recursion_are_bounded(body, says):
    assert says in refused(body)
    assert any(says in m for m in validation_messages(body))


def test_loops_within_the_bounds_work():
    body = (
        "{% for s in services %}{{ loop.index }}/{{ loop.length }} {{ s.name }}"
        "{{ ', ' if not loop.last else '' }}{% endfor %}"
        "{% for i in range(3) %}{{ i }}{% endfor %}"
    )
    assert rendered(body).body == "1/2 Payments API, 2/2 Internal Admin012"


# --- Size: numbers, strings, outputs -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{{ 'x' * 10**9 }}", WORK),
        ("{{ [1] * 10**9 }}", WORK),
        ("{{ 10 ** 10 ** 10 }}", "that number is too large"),
        ("{{ 2 ** 100000 }}", "that number is too large"),
        (
            "{% set a = 10 ** 60 %}{% set a = a * a %}{% set a = a * a %}{{ a * a }}",
            "that number is too large",
        ),
        ("{{ '%999999999d' % 1 }}", "% does not format text"),
        ("{{ title|replace('', summary * 200) }}", WORK),
        # Slices copy: a chain of them in a loop is charged like any copy.
        (
            "{% set s = summary * 100 %}{% for i in range(1000) %}"
            "{% set x = s[::-1][::-1][::-1] %}{% endfor %}",
            WORK,
        ),
        ("{{ title|indent(10**9) }}", "indent() takes a width of at most 40"),
        # ~ doubles text; a handful of lines would reach gigabytes.
        (
            "{% set a = summary * 10 %}{% set a = a ~ a ~ a ~ a %}{% set a = a ~ a ~ a ~ a %}"
            "{% set a = a ~ a ~ a ~ a %}{% set a = a ~ a ~ a ~ a %}{% set a = a ~ a ~ a ~ a %}"
            "{% set a = a ~ a ~ a ~ a %}{% set a = a ~ a ~ a ~ a %}{{ a|length }}",
            WORK,
        ),
        # Buffers (set blocks, macros) are charged as they are written, not only the output.
        (
            "{% set a = 'x' * 1000 %}{% set b %}{% for i in range(1000) %}{{ a }}{% endfor %}"
            "{% endset %}{{ b|length }}",
            WORK,
        ),
        (
            "{% macro big() %}{{ summary * 100 }}{% endmacro %}"
            "{% for i in range(200) %}{% set x = big() %}{% endfor %}",
            WORK,
        ),
        (f"{{{{ 'x' * {MAX_BODY + 1} }}}}", f"renders to more than {MAX_BODY:,} characters"),
        (
            "{% for i in range(1000) %}{{ title }}{% endfor %}",
            f"renders to more than {MAX_BODY:,} characters",
        ),
    ],
)
def test_sizes_are_bounded(body, says):
    assert says in refused(body)
    assert any(says in m for m in validation_messages(body))


def test_a_render_stops_at_its_deadline(monkeypatch):
    """What nothing counts (comparing long texts) still stops: each loop item, call and
    charge looks at the clock."""
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.2)
    scans = " or ".join(f"'z{i}' in big" for i in range(40))
    body = f"{{% for i in range(100) %}}{{% for j in range(99) %}}{{% if {scans} %}}{{% endif %}}"
    body += "{% endfor %}{% endfor %}"
    started = time.perf_counter()
    with pytest.raises(RenderError, match="takes longer than 0.2 seconds"):
        render_context("s", body, {**EXAMPLE, "big": "y" * 200_000})
    assert time.perf_counter() - started < 1.0


def test_a_template_text_itself_is_bounded():
    assert refused("x" * (MAX_SOURCE + 1)) == "is 20,001 characters long (at most 20,000)"
    assert validation_messages("x" * (MAX_SOURCE + 1))[0] == (
        "is 20,001 characters long (at most 20,000)"
    )


@pytest.mark.parametrize(
    "body",
    ["{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", "{{ " + "[" * 3000 + "]" * 3000 + " }}"],
)
def test_deep_nesting_is_an_error_not_a_crash(body):
    assert refused(body) == "the template nests too deeply"
    assert validation_messages(body)[0] == "the template nests too deeply"


def test_filters_outside_the_list_do_not_exist():
    for body in ("{{ title|center(10**6) }}", "{{ title|wordwrap(1) }}", "{{ title|pprint }}"):
        assert "No filter named" in refused(body)
        assert any("No filter named" in m for m in validation_messages(body))


@pytest.mark.parametrize(
    "body",
    [
        "{% include 'other' %}",
        "{% import 'other' as x %}",
        "{% from 'other' import x %}",
        "{% extends 'other' %}",
    ],
)
def test_nothing_can_be_included(body):
    assert "is not available in message templates" in refused(body)


def test_a_group_or_a_list_is_never_dumped():
    assert "a group of placeholders cannot be written" in refused("{{ severity }}")
    assert "a list of groups cannot be written" in refused("{{ services }}")
    assert "cannot be written" in refused("{{ title ~ severity }}")
    assert "cannot be written" in refused("{{ services|join(', ') }}")
    # Lists of text are written comma-separated; empty placeholders write nothing.
    assert rendered("{{ smes }}|{{ services|join(', ', attribute='name') }}").body == (
        "Dana Fox|Payments API, Internal Admin"
    )
    assert render_context("s", "[{{ ic }}]", {**EXAMPLE, "ic": None}).body == "[]"
