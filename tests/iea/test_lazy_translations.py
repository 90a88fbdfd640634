"""A text translated when a module is imported is translated once, in whatever language is active then, and
shows in that language to everyone afterwards (the request-for-information form's labels read French on the
English page). Module level, class bodies, decorators and default arguments run at import: there, only the
lazy forms (``gettext_lazy``…) may translate. This reads every module of the application and finds the kind."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}
SKIPPED = {".venv", ".tools", "tests", "node_modules", "var", "static", "benchmarks"}


def eager_at_import(source: str) -> list[int]:
    """The lines where ``source`` calls a non-lazy gettext while the module is being imported."""
    tree = ast.parse(source)
    eager = {alias.asname or alias.name for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
             for alias in node.names if alias.name in EAGER}
    lines: list[int] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                # The body runs later; the decorators and default values run now.
                for part in [*getattr(child, "decorator_list", []), *child.args.defaults, *child.args.kw_defaults]:
                    if part is not None:
                        visit(ast.Expression(part))
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in eager:
                lines.append(child.lineno)
            visit(child)

    if eager:
        visit(tree)
    return sorted(lines)


def application_modules() -> list[Path]:
    return sorted(path for path in ROOT.rglob("*.py")
                  if not SKIPPED & set(path.relative_to(ROOT).parts[:1]) and "migrations" not in path.parts)


def test_no_text_is_translated_when_a_module_is_imported():
    modules = application_modules()
    assert len(modules) > 100, "the scan must see the application"
    found = [f"{path.relative_to(ROOT)}:{line}" for path in modules
             for line in eager_at_import(path.read_text(encoding="utf-8"))]
    assert found == [], "translated at import (use gettext_lazy there): " + ", ".join(found)


@pytest.mark.parametrize(("source", "lines"), [
    ('from django.utils.translation import gettext as _\nLABEL = _("Title")\n', [2]),
    ('from django.utils.translation import gettext as _\nclass F:\n    name = field(label=_("Name"))\n', [3]),
    ('from django.utils.translation import pgettext\n@display(description=pgettext("c", "x"))\ndef f(): pass\n', [2]),
    ('from django.utils.translation import gettext as _\ndef f(label=_("x")):\n    return _("y")\n', [2]),
    ('from django.utils.translation import gettext as _\ndef f():\n    return _("y")\n', []),
    ('from django.utils.translation import gettext_lazy as _\nclass F:\n    name = field(label=_("Name"))\n', []),
])
def test_the_scan_finds_translation_at_import_and_only_there(source, lines):
    assert eager_at_import(source) == lines
