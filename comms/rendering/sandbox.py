"""The sandbox message templates render in: Jinja2's ``ImmutableSandboxedEnvironment``,
tightened so that a template reads the documented context and nothing else, and so that
everything it can do is bounded per render (a ``Budget`` held in a context variable).

1. Attributes: none, except ``loop``'s (``loop.index``, ``loop.last`` ...). Placeholders are
   plain dicts read by key (``severity.key``); ``title.upper``, ``x.__class__``, ``mro``,
   ``_meta``, ``save`` are refused (Jinja's ``SecurityError``), so no method or dunder is
   reachable whatever object a template gets hold of.
2. Loops: at most ``MAX_ITERATIONS`` items over all loops of a render. Nested loops with empty
   bodies write nothing, so an output cap alone would never stop them. ``range`` gives at most
   ``MAX_RANGE`` numbers; ``recursive`` loops are refused when the template is compiled.
   Each item also looks at the clock: a render stops after ``MAX_SECONDS`` whatever the
   loop does (comparing long texts, say, which nothing else counts).
3. Calls (macros, ``range``, ``loop.cycle``): at most ``MAX_CALLS``, nested at most
   ``MAX_DEPTH`` deep, so a macro that calls itself stops with a clear error.
4. Work: every piece of output written (at the top level and inside macros, ``{% set %}``
   and ``{% filter %}`` blocks, which buffer), every ``~``, every ``+`` or ``*`` on text or
   lists, every slice and every filter's input is charged; at most ``MAX_WORK`` characters
   per render (which also bounds the longest text a render can hold).
   What could build a huge value in one step is checked before it runs (``"x" * 10**9``,
   ``10 ** 10 ** 10``, ``indent(10**9)``), and whole numbers stay under ``MAX_INT_BITS``.
5. Filters: a fixed list (``FILTERS``); none that pads, formats or dumps objects.
6. ``include``, ``import`` and ``extends`` are refused: there is nothing to include.

The streaming output cap (``MAX_BODY``) is applied by the caller, ``render_text``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2 import filters as jinja_filters
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ircore.errors import RuleError

MAX_SOURCE = 20_000  # characters of template text
MAX_BODY = 20_000  # characters a body may render to
MAX_SUBJECT = 300  # a rendered subject is cut to this (Notice.subject's length)
MAX_ITERATIONS = 10_000
MAX_RANGE = 1_000
MAX_CALLS = 1_000
MAX_DEPTH = 20
MAX_WORK = 250_000
MAX_SECONDS = 2.0
MAX_INT_BITS = 256

LOOP_ATTRIBUTES = frozenset(
    {
        "index",
        "index0",
        "revindex",
        "revindex0",
        "first",
        "last",
        "length",
        "depth",
        "depth0",
        "previtem",
        "nextitem",
        "cycle",
        "changed",
    }
)
_SIMPLE = (str, int, float, Decimal)


class RenderError(RuleError):
    """A template that cannot be rendered against this incident (it broke a bound, or its
    expression failed): shown like any refused input, never a 500."""

    def __init__(self, message: str, field: str | None = "body"):
        super().__init__(message, field=field)


@dataclass
class Budget:
    """What one render has used so far."""

    iterations: int = 0
    calls: int = 0
    depth: int = 0
    work: int = 0
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)

    def iterate(self, count: int = 1) -> None:
        self.iterations += count
        if self.iterations > MAX_ITERATIONS:
            raise RenderError(f"the loops run more than {MAX_ITERATIONS:,} times")

    def spend(self, characters: int) -> None:
        self.work += characters
        if self.work > MAX_WORK:
            raise RenderError(f"the template writes or processes more than {MAX_WORK:,} characters")
        self.tick()

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderError(f"the template takes longer than {MAX_SECONDS:g} seconds to render")


_BUDGET: ContextVar[Budget | None] = ContextVar("comms_render_budget", default=None)


@contextmanager
def bounded() -> Iterator[Budget]:
    """A fresh budget for one render (compiling included: constant parts are computed then)."""
    budget = Budget()
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _budget() -> Budget:
    budget = _BUDGET.get()
    if budget is None:
        # Outside ``bounded()``: nothing runs unbounded (at compile time Jinja then simply
        # leaves the expression to run time, inside a budget).
        raise RenderError("templates render only through comms.rendering")
    return budget


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 1


def printable(value: Any) -> str:
    """What ``{{ ... }}`` writes: text, numbers, yes/no, lists of those comma-separated; an
    empty placeholder (a time not reached yet, a figure not known) writes nothing. Groups
    (``severity``) and anything else are refused: writing one would dump its parts."""
    if isinstance(value, Undefined):
        return str(value)  # StrictUndefined raises, naming what is missing
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _SIMPLE):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(v, _SIMPLE) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        raise RenderError(
            "a group of placeholders cannot be written as it is: name one of its parts"
        )
    if isinstance(value, list | tuple):
        raise RenderError("a list of groups cannot be written as it is: loop over it")
    raise RenderError(f"a {type(value).__name__} cannot be written as text")


# --- filters -------------------------------------------------------------------------------


def _charged(func: Any, check: Any = None) -> Any:
    """``func`` (a Jinja filter) charging its input's size, after ``check(value, *args)``
    has refused arguments that would build too much; a lazy result is materialised (and
    charged) so every value a template holds has a size."""
    passes_context = getattr(func, "jinja_pass_arg", None) is not None

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        at = 1 if passes_context else 0
        value = args[at]
        if not isinstance(value, str | list | tuple | dict | Undefined) and hasattr(
            value, "__iter__"
        ):
            value = list(value)
            args = (*args[:at], value, *args[at + 1 :])
        budget = _budget()
        budget.spend(_size(value))
        if check is not None:
            check(budget, value, *args[at + 1 :], **kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, Iterator):
            result = list(result)
            budget.spend(len(result))
        return result

    return run


def _check_replace(budget: Budget, value: Any, old: Any = "", new: Any = "", *_: Any, **__: Any):
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str):
        found = value.count(old) if old else len(value) + 1
        budget.spend(found * len(new))


def _check_indent(budget: Budget, value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    step = len(width) if isinstance(width, str) else width
    if not isinstance(step, int) or step > 40:
        raise RenderError("indent() takes a width of at most 40")
    if isinstance(value, str):
        budget.spend((value.count("\n") + 1) * max(step, 0))


def _join(value: Any, d: str = "", attribute: Any = None) -> str:
    """Like Jinja's ``join``, but every item is written as ``{{ }}`` would write it."""
    env = ENVIRONMENT
    items = list(value)
    if attribute is not None:
        items = [env.getitem(item, attribute) for item in items]
    parts = [printable(item) for item in items]
    _budget().spend(sum(len(p) for p in parts) + len(str(d)) * len(parts))
    return str(d).join(parts)


def _number(value: Any) -> str:
    """27500 -> "27,500"; 125000.5 -> "125,000.50"; nothing -> ""."""
    if value is None or isinstance(value, bool):
        return printable(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return printable(value)


_PLAIN = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "first",
    "float",
    "int",
    "items",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "wordcount",
)
FILTERS: dict[str, Any] = {name: _charged(jinja_filters.FILTERS[name]) for name in _PLAIN}
FILTERS["replace"] = _charged(jinja_filters.FILTERS["replace"], _check_replace)
FILTERS["indent"] = _charged(jinja_filters.FILTERS["indent"], _check_indent)
FILTERS["join"] = _charged(_join)
FILTERS["string"] = _charged(printable)
FILTERS["number"] = _charged(_number)


def _range(*args: Any) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderError(f"range() gives at most {MAX_RANGE:,} numbers here")
    return numbers


# --- the code generator: every loop, write and ~ goes through the budget ------------------


class BoundedCodeGenerator(CodeGenerator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The iterables of for loops (by node id), whose code is wrapped in ir_iter. Jinja
        # allows no custom node types, so the wrap happens when the node is written.
        self._loop_iterables: set[int] = set()

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self.write("environment.ir_iter(")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            self.fail("recursive loops are not available in message templates", node.lineno)
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        # Jinja writes a slice as Python's own ``x[a:b]``; here it is charged like any copy.
        if not isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        self.write("environment.ir_slice(")
        self.visit(node.node, frame)
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            self.write(", ")
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.ir_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Any) -> str:
        return f"environment.ir_out({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.ir_out(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def _refuse(self, node: nodes.Node, frame: Frame) -> None:
        tag = {"Extends": "extends", "Include": "include"}.get(type(node).__name__, "import")
        self.fail(f"{{% {tag} %}} is not available in message templates", node.lineno)

    visit_Extends = visit_Include = visit_Import = visit_FromImport = _refuse


class MessageEnvironment(ImmutableSandboxedEnvironment):
    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, LoopContext) and attr in LOOP_ATTRIBUTES

    def wrap_str_format(self, value: Any) -> None:
        # Jinja lets ``"{:>999999999}".format(x)`` through its own formatter; here
        # ``str.format`` is an attribute like any other, and refused.
        return None

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.tick()
        budget.calls += 1
        budget.depth += 1
        try:
            if budget.calls > MAX_CALLS:
                raise RenderError(f"the template makes more than {MAX_CALLS:,} calls")
            if budget.depth > MAX_DEPTH:
                raise RenderError(
                    f"calls nest more than {MAX_DEPTH} deep (a macro calling itself?)"
                )
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        sequences = str | list | tuple
        if operator == "%" and isinstance(left, str):
            raise RenderError("% does not format text here: join text with ~")
        if operator == "+" and isinstance(left, sequences) and isinstance(right, sequences):
            budget.spend(len(left) + len(right))
        elif operator == "*":
            if isinstance(left, sequences) or isinstance(right, sequences):
                seq, times = (left, right) if isinstance(left, sequences) else (right, left)
                if isinstance(times, int):
                    budget.spend(len(seq) * max(times, 0))
            elif _whole(left) and _whole(right):
                _check_bits(left.bit_length() + right.bit_length())
        elif operator == "**" and _whole(left) and _whole(right) and right > 0 and abs(left) > 1:
            _check_bits((abs(left).bit_length() - 1) * right)
        result = self.binop_table[operator](left, right)
        if _whole(result):
            _check_bits(result.bit_length())
        return result

    def ir_iter(self, iterable: Any) -> Any:
        budget = _budget()
        if isinstance(iterable, Undefined):
            return iterable
        if not hasattr(iterable, "__len__"):
            iterable = list(iterable)
        budget.iterate(len(iterable))
        return _ticking(iterable, budget)

    def ir_slice(self, value: Any, start: Any, stop: Any, step: Any) -> Any:
        if isinstance(value, Undefined):
            return value[start:stop:step]  # StrictUndefined raises, naming what is missing
        part = value[start:stop:step]
        _budget().spend(_size(part))
        return part

    def ir_concat(self, parts: tuple) -> str:
        text = "".join(printable(part) for part in parts)
        _budget().spend(len(text))
        return text

    def ir_out(self, text: str) -> str:
        _budget().spend(len(text))
        return text


def _ticking(items: Any, budget: Budget) -> Iterator[Any]:
    for item in items:
        budget.tick()
        yield item


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise RenderError("that number is too large")


def _environment() -> MessageEnvironment:
    env = MessageEnvironment(
        undefined=StrictUndefined,
        autoescape=False,  # subjects and bodies are text; Markdown is sanitised where shown
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=printable,
        auto_reload=False,
    )
    env.filters = dict(FILTERS)
    env.globals = {"range": _range}
    return env


ENVIRONMENT = _environment()


@functools.lru_cache(maxsize=256)
def compiled(source: str) -> Any:
    """The compiled template (raises ``TemplateSyntaxError``); call inside ``bounded()``."""
    return ENVIRONMENT.from_string(source)


def render_text(source: str, context: dict[str, Any], *, limit: int, field: str) -> str:
    """Render ``source``, streaming, and stop at ``limit`` characters (``RenderError``).
    Every failure is a ``RenderError`` naming ``field``; call inside ``bounded()``."""
    if len(source) > MAX_SOURCE:
        raise RenderError(f"is {len(source):,} characters long (at most {MAX_SOURCE:,})", field)
    try:
        # Compiled under a budget of its own (Jinja computes constant parts then), so a
        # render costs the same whether or not the compiled template was cached.
        with bounded():
            template = compiled(source)
        out: list[str] = []
        size = 0
        stream = template.generate(context)
        try:
            for chunk in stream:
                size += len(chunk)
                if size > limit:
                    raise RenderError(f"renders to more than {limit:,} characters", field)
                out.append(chunk)
        finally:
            stream.close()
        return "".join(out)
    except RenderError as exc:
        raise RenderError(exc.message, field) from None
    except TemplateSyntaxError as exc:
        raise RenderError(f"line {exc.lineno}: {exc.message}", field) from None
    except SecurityError as exc:
        raise RenderError(f"not allowed: {exc}", field) from None
    except UndefinedError as exc:
        raise RenderError(str(exc), field) from None
    except RecursionError:
        raise RenderError("the template nests too deeply", field) from None
    except Exception as exc:  # a template's own expression failed (1/0, "a" - 1 ...)
        raise RenderError(f"{type(exc).__name__}: {exc}"[:300], field) from None
