"""The house rules of the code base, checked on the source: the folder map in the README, kept true.

These read the product code as text and syntax trees (nothing is run): imports between packages and
folders go only the way the README's folder map says, there is no import cycle, the event store is the
only code that names the ``events`` table, and no module or function outgrows what a newcomer can read.
The web app's scripts are held to the same: no import cycle, no overlong module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from fathom_reports.web.pages import IMPORT as WEB_SCRIPT_IMPORT

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "fathom_shared": ROOT / "shared",
    "fathom_api": ROOT / "services" / "api",
    "fathom_relay": ROOT / "services" / "relay",
    "fathom_projector": ROOT / "services" / "projector",
    "fathom_reports": ROOT / "services" / "reports",
    "fathom_delivery": ROOT / "services" / "delivery",
    "fathom_verifier": ROOT / "services" / "verifier",
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for package, base in PACKAGES.items():
        for path in sorted((base / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # a migration is history: it is never edited to follow a rule of today
            name = ".".join(path.relative_to(base).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every product module ``name`` imports (at any depth of the file, so function-level imports count)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            if candidate in MODULES and candidate != name:
                yield candidate


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Modules that import each other, directly or round a loop: the strongly connected components of more than
    one module, and a module importing itself (Tarjan). ``graph`` maps each module to those it imports, all keys."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_there_is_no_import_cycle():
    assert _cycles(GRAPH) == []


# (importer prefix, forbidden prefix): the arrows the folder map does not have.
FORBIDDEN = [
    ("fathom_shared", "fathom_api"), ("fathom_shared", "fathom_projector"), ("fathom_shared", "fathom_reports"),
    ("fathom_shared", "fathom_relay"), ("fathom_shared", "fathom_delivery"), ("fathom_shared", "fathom_verifier"),
    ("fathom_api", "fathom_reports"), ("fathom_api", "fathom_projector"),
    ("fathom_relay", "fathom_api"), ("fathom_relay", "fathom_reports"), ("fathom_relay", "fathom_projector"),
    ("fathom_projector", "fathom_api"), ("fathom_projector", "fathom_reports"),
    ("fathom_reports", "fathom_api"), ("fathom_reports", "fathom_projector"),
    ("fathom_reports", "fathom_delivery"), ("fathom_reports", "fathom_verifier"),
    ("fathom_api.commands", "fathom_api.http"),
    ("fathom_reports.views", "fathom_reports.loading"), ("fathom_reports.views", "fathom_reports.http"),
    ("fathom_reports.loading", "fathom_reports.http"),
    ("fathom_reports.audit", "fathom_reports.http"), ("fathom_reports.changes", "fathom_reports.http"),
    ("fathom_reports.webhooks", "fathom_reports.http"),
]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_imports_follow_the_folder_map():
    wrong = sorted(f"{importer} imports {imported}" for importer, targets in GRAPH.items() for imported in targets
                   for source, target in FORBIDDEN if _under(importer, source) and _under(imported, target))
    assert wrong == []


@pytest.mark.parametrize(("prefix", "library"), [
    ("fathom_reports.views", "sqlalchemy"), ("fathom_reports.views", "flask"),
    ("fathom_api.commands", "flask"),
])
def test_pure_folders_import_no_database_or_web_framework(prefix, library):
    """The analyses and the command rules are pure: unit tests run them on values, without PostgreSQL or HTTP."""
    wrong = []
    for name, path in MODULES.items():
        if not _under(name, prefix):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{name} imports {module}" for module in modules if _under(module, library)]
    assert wrong == []


EVENTS_TABLE = re.compile(r"\b(FROM|JOIN|INTO|UPDATE)\s+events\b", re.IGNORECASE)


def _code_strings(path: Path) -> Iterator[str]:
    """The string literals of a module that are not documentation: where its SQL is."""
    tree = ast.parse(path.read_text())
    # A bare string statement documents (a module, class, function or attribute docstring): it is not SQL.
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


def test_only_the_event_store_names_the_events_table():
    outside = sorted(name for name, path in MODULES.items() if not _under(name, "fathom_shared.event_store")
                     and any(EVENTS_TABLE.search(literal) for literal in _code_strings(path)))
    assert outside == []


def test_no_module_is_longer_than_a_newcomer_reads_at_once():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


WEB_SCRIPTS = ROOT / "services" / "reports" / "fathom_reports" / "web" / "static" / "js"


def test_no_web_script_is_longer_than_a_newcomer_reads_at_once():
    """The web app's ES modules are code a newcomer reads too: the same limit as for Python modules."""
    long = {path.name: n for path in sorted(WEB_SCRIPTS.glob("*.js"))
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def _web_script_graph() -> dict[str, set[str]]:
    """Each web script and the scripts of its folder it imports, found with the very pattern the pages use to
    preload a script's imports (so the rule reads the imports the browser is told about)."""
    scripts = {path.name: path for path in sorted(WEB_SCRIPTS.glob("*.js"))}
    return {name: {imported for imported in WEB_SCRIPT_IMPORT.findall(path.read_text()) if imported in scripts}
            for name, path in scripts.items()}


def test_web_script_imports_are_found_in_every_form():
    source = """import { a } from "./one.js";
import {
  b, c,
} from './two.js';
export { d } from "./three.js";
import "./four.js";
const notAnImport = "./five.js";
"""
    assert WEB_SCRIPT_IMPORT.findall(source) == ["one.js", "two.js", "three.js", "four.js"]


def test_web_scripts_import_no_cycle():
    """A page's parts import downward only (its model and ``fathom.js`` at the bottom, the page script on top):
    a loop hides which module is the page and which its parts. Where a control drawn by a lower module must
    call a higher one, the page script hands it the function at start-up (see ``entry.js``)."""
    assert _cycles(_web_script_graph()) == []


def test_no_function_is_longer_than_a_screen():
    long = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = length
    assert long == {}


def test_the_rules_see_every_package():
    """A package missing from PACKAGES would escape every rule above."""
    on_disk = {path.parent.name for base in (ROOT / "shared", *(ROOT / "services").iterdir())
               for path in base.glob("fathom_*/__init__.py")}
    assert on_disk == set(PACKAGES)
