"""Checking a template before it is saved: syntax, unknown placeholders (the parts of groups
and of list items too), what the sandbox refuses, and a test render against the example
context so a bound a template breaks is found at once, not when a notice is drafted.

``problems(source)`` returns short messages (``line 3: "sevrity" is not a placeholder; did
you mean "severity"?``), which the policy file's problems reuse; ``validate`` (in the
package) adds the list of available placeholders for people.
"""

from __future__ import annotations

import difflib
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from ircore.policy.problems import bad_characters

from .placeholders import EXAMPLE, PLACEHOLDERS
from .sandbox import (
    ENVIRONMENT,
    LOOP_ATTRIBUTES,
    MAX_SOURCE,
    RenderError,
    bounded,
    render_text,
)

# Names a template may use beside the placeholders: the sandbox's one global, and the
# loop variable inside a for loop.
_BUILTINS = frozenset({"range", "loop"})
_LEAF = "leaf"


def _shape(value: Any) -> Any:
    """The schema of an example value: a dict of schemas for a group, a one-item list for a
    list, ``_LEAF`` for anything written as text."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return _LEAF


SCHEMA: dict[str, Any] = _shape(EXAMPLE)


def suggestion(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1) if len(word) <= 64 else []
    return f'; did you mean "{close[0]}"?' if close else ""


class _Walker:
    """Walks the template's syntax tree, resolving each ``a.b[c]`` chain against the schema:
    a part a group does not have, a part of a list or of text, an underscore name, or a part
    of anything that is not a placeholder (a string, a call's result) is a problem."""

    def __init__(self, shadowed: set[str]) -> None:
        self.problems: list[str] = []
        # Names the template assigns itself (set, macro arguments, with): not placeholders.
        self.shadowed = shadowed

    def problem(self, node: nodes.Node, message: str) -> None:
        text = f"line {node.lineno}: {message}"
        if text not in self.problems:
            self.problems.append(text)

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            found = self.resolve(node.iter, scope)
            inner = dict(scope)
            targets = [node.target, *node.target.find_all(nodes.Name)]
            for target in targets:
                if isinstance(target, nodes.Name):
                    inner[target.name] = None  # a loop variable of unknown shape
            if (
                isinstance(node.target, nodes.Name)
                and isinstance(found, tuple)
                and isinstance(found[0], list)
            ):
                inner[node.target.name] = (found[0][0], node.target.name)
            for child in (*node.body, *node.else_, *([node.test] if node.test else [])):
                self.visit(child, inner)
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            self.resolve(node, scope)
            return
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                found = self.resolve(child, scope)
                if isinstance(found, tuple) and isinstance(found[0], dict):
                    parts = ", ".join(f"{found[1]}.{k}" for k in found[0])
                    self.problem(child, f"{found[1]} is a group: write one of its parts ({parts})")
                elif isinstance(found, tuple) and isinstance(found[0], list):
                    self.problem(
                        child,
                        f"{found[1]} is a list: loop over it "
                        f"({{% for item in {found[1]} %}}{{{{ item.name }}}}{{% endfor %}})",
                    )
            return
        for child in node.iter_child_nodes():
            self.visit(child, scope)

    def resolve(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        """``(schema, dotted name)`` of a placeholder expression; ``None`` when it is not one
        (or is unknown here); visits what it does not resolve."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in SCHEMA and node.name not in self.shadowed:
                return (SCHEMA[node.name], node.name)
            return None
        if isinstance(node, nodes.Getattr):
            return self._part(node, node.node, node.attr, scope)
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int):
                return self._part(node, node.node, node.arg.value, scope)
            self.visit(node.arg, scope)
            self.visit(node.node, scope)
            return None
        self.visit(node, scope)
        return None

    def _part(self, node: nodes.Node, base: nodes.Node, part: Any, scope: dict) -> Any:
        if isinstance(part, str) and part.startswith("_"):
            self.problem(node, f'"{part}": names beginning with _ are never available')
            self.visit(base, scope)
            return None
        if isinstance(base, nodes.Name) and base.name == "loop" and "loop" not in scope:
            if part not in LOOP_ATTRIBUTES:
                known = ", ".join(sorted(LOOP_ATTRIBUTES))
                self.problem(node, f'loop has no "{part}" (it has {known})')
            return None
        found = self.resolve(base, scope)
        if found is None:
            # A name is the template's own, or unknown (reported as such); anything else (a
            # string, a call's result) has no parts a template may read.
            if not isinstance(base, nodes.Name):
                self.problem(node, f'"{part}" is read from something that is not a placeholder')
            return None
        schema, name = found
        if schema is None:  # a loop variable over something unknown
            return None
        if isinstance(schema, dict) and isinstance(part, str):
            if part not in schema:
                self.problem(
                    node,
                    f"{name}.{part} is not a placeholder{suggestion(part, list(schema))} "
                    f"({name} has {', '.join(schema)})",
                )
                return None
            return (schema[part], f"{name}.{part}")
        if isinstance(schema, list):
            if isinstance(part, int):
                return (schema[0], f"{name}[{part}]")
            self.problem(node, f"{name} is a list: loop over it to read .{part} of each item")
            return None
        self.problem(node, f"{name} is text and has no parts (use a filter, e.g. {name}|upper)")
        return None


def _assigned(tree: nodes.Template) -> set[str]:
    names: set[str] = set()
    for node in tree.find_all((nodes.Assign, nodes.AssignBlock, nodes.With)):
        targets = node.targets if isinstance(node, nodes.With) else [node.target]
        for target in targets:
            names.update(n.name for n in target.find_all(nodes.Name))
            if isinstance(target, nodes.Name):
                names.add(target.name)
    for node in tree.find_all((nodes.Macro, nodes.CallBlock)):
        names.update(arg.name for arg in node.args)
        if isinstance(node, nodes.Macro):
            names.add(node.name)
    return names


def problems(source: str, *, field: str = "body", limit: int) -> list[str]:
    """What is wrong with one template text (subject or body), in short messages."""
    try:
        return _problems(source, field=field, limit=limit)
    except RecursionError:  # ((((... a few thousand deep: Jinja's parser recurses
        return ["the template nests too deeply"]


def _problems(source: str, *, field: str, limit: int) -> list[str]:
    if len(source) > MAX_SOURCE:
        return [f"is {len(source):,} characters long (at most {MAX_SOURCE:,})"]
    bad = bad_characters(source)
    if bad:
        return [bad]
    try:
        tree = ENVIRONMENT.parse(source)
        with bounded():
            ENVIRONMENT.compile(tree)  # unknown filters and tests, refused tags
    except TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.message}"]
    found: list[str] = []
    shadowed = _assigned(tree)
    known = sorted(SCHEMA)
    for name in sorted(meta.find_undeclared_variables(tree) - set(SCHEMA) - _BUILTINS):
        line = next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), 1)
        found.append(f'line {line}: "{name}" is not a placeholder{suggestion(name, known)}')
    walker = _Walker(shadowed)
    walker.visit(tree, {})
    found.extend(walker.problems)
    if found:
        return found
    try:
        with bounded():
            render_text(source, EXAMPLE, limit=limit, field=field)
    except RenderError as exc:
        return [f"with the example values: {exc.message}"]
    return []


def available() -> str:
    return "Available placeholders: " + ", ".join(PLACEHOLDERS) + "."
