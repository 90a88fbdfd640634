"""Every package the application imports is installed in production.

The production image and the stack test install the locked dependencies without the ``dev`` extra
(``uv sync --frozen --no-dev``). A module of the application importing a package only the ``dev`` extra brings
(httpx, once) passes every test here and stops the production server at start-up. This reads every import
statement of the application's code (lazy ones inside functions included) and checks that each third-party
package is one the production install brings: a direct dependency or one of theirs, as uv.lock records them.
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("iea", "calls", "proposals", "reviews", "funding")
FIRST_PARTY = set(APPLICATION)


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _production_closure():
    """The distributions ``uv sync --no-dev`` installs: the project's dependencies and theirs, from uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {_normalise(package["name"]): package for package in lock["package"]}
    project = packages["iea"]
    wanted = [(dependency["name"], dependency.get("extra", [])) for dependency in project["dependencies"]]
    closure = set()
    while wanted:
        name, extras = wanted.pop()
        name = _normalise(name)
        package = packages[name]
        if name in closure and not extras:
            continue
        closure.add(name)
        for dependency in package.get("dependencies", []):
            wanted.append((dependency["name"], dependency.get("extra", [])))
        for extra in extras:
            for dependency in package.get("optional-dependencies", {}).get(extra, []):
                wanted.append((dependency["name"], dependency.get("extra", [])))
    return closure


def _imports():
    """``{top-level module: [file:line, …]}`` for every absolute import in the application's code."""
    found = {}
    for app in APPLICATION:
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in FIRST_PARTY:
                        continue
                    found.setdefault(top, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_closure_is_read_from_the_lock():
    closure = _production_closure()
    # Direct dependencies, a dependency of one (Django's asgiref) and one an extra brings (celery[redis] → kombu).
    assert {"django", "asgiref", "weasyprint", "kombu", "httpx"} <= closure
    assert "pytest" not in closure and "playwright" not in closure


def test_every_package_the_application_imports_is_installed_in_production():
    closure = _production_closure()
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, places in sorted(_imports().items()):
        names = {_normalise(name) for name in distributions.get(module, [])}
        if not names:
            missing.append(f"{module} (no installed distribution provides it), imported at {', '.join(places)}")
        elif not names & closure:
            missing.append(f"{module} (from {', '.join(sorted(names))}, a dev-only package), imported at {', '.join(places)}")
    assert not missing, "Imports the production install (uv sync --no-dev) lacks:\n" + "\n".join(missing)
