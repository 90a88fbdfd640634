"""A mail to several people goes out in a stable order: the recipients of a notification are read from the
database in the order of their keys, never in whatever order the database returns an unordered query (on
PostgreSQL, the order of rows on disk, which an update changes: CI saw the French officer's mail go out
before the English one). This reads every module of the application for a list of recipients built from a
query with no ``order_by`` (directly, or through a variable of the same function) and finds the kind."""

import ast
from pathlib import Path

import pytest

from .test_lazy_translations import application_modules

ROOT = Path(__file__).resolve().parents[2]
ORDERED = {"order_by", "in_bulk"}
QUERYING = {"all", "filter", "exclude", "select_related", "prefetch_related", "only", "defer", "distinct"}


def _chain(node: ast.AST) -> list[str]:
    """The method names of a call chain, outermost first: ``a.b.filter(...).order_by(...)`` → [order_by, filter]."""
    names = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        names.append(node.func.attr)
        node = node.func.value
    return names


def _unordered_query(node: ast.AST, assigned: dict[str, ast.AST]) -> bool:
    if isinstance(node, ast.Name) and node.id in assigned:
        return _unordered_query(assigned[node.id], {})
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"sorted", "list"}:
        return node.func.id == "list" and bool(node.args) and _unordered_query(node.args[0], assigned)
    names = _chain(node)
    return bool(names) and names[0] in QUERYING and not ORDERED & set(names)


def _is_recipient(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "of"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "Recipient")


def unordered_recipients(source: str) -> list[int]:
    """The lines where ``source`` builds recipients from an unordered query."""
    lines = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assigned = {target.id: node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(function):
            if (isinstance(node, (ast.ListComp, ast.GeneratorExp)) and _is_recipient(node.elt)
                    and any(_unordered_query(generator.iter, assigned) for generator in node.generators)):
                lines.append(node.lineno)
    return sorted(set(lines))


def test_every_list_of_recipients_is_read_in_a_stable_order():
    modules = application_modules()
    assert len(modules) > 100, "the scan must see the application"
    found = [f"{path.relative_to(ROOT)}:{line}" for path in modules
             for line in unordered_recipients(path.read_text(encoding="utf-8"))]
    assert found == [], "recipients read from an unordered query (add order_by): " + ", ".join(found)


@pytest.mark.parametrize(("source", "lines"), [
    ("def f(p):\n    return [Recipient.of(u) for u in p.officers.all()]\n", [2]),
    ("def f(p):\n    rows = p.people.filter(a=1).select_related('user')\n    return [Recipient.of(r.user) for r in rows]\n", [3]),
    ("def f(p):\n    return [p.pi, *(Recipient.of(m) for m in p.unit.managers.all())]\n", [2]),
    ("def f(p):\n    return [Recipient.of(u) for u in p.officers.order_by('pk')]\n", []),
    ("def f(p):\n    rows = p.people.filter(a=1).order_by('pk')\n    return [Recipient.of(r.user) for r in rows]\n", []),
    ("def f(p):\n    return [Recipient.of(u) for u in sorted(p.officers.all(), key=lambda u: u.pk)]\n", []),
    ("def f(users):\n    return [Recipient.of(u) for u in users]\n", []),
])
def test_the_scan_finds_what_it_should(source, lines):
    assert unordered_recipients(source) == lines
