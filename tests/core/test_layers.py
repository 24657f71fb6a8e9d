"""The layering of DESIGN.md, checked on the source: a crossed layer fails the suite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUERY_NAMES = {"select", "insert", "update", "delete", "text", "func", "and_", "or_", "union"}
QUERY_CALLS = {"execute", "scalars", "scalar", "query", "exec_driver_sql"}
# Where SQL may be built: the store, and the engine/migration plumbing.
SQL_ALLOWED = (
    "wikibridge/store/",
    "wikibridge/migrations/",
    "wikibridge/db.py",
    "wikibridge/schema.py",
)
ADAPTERS = {
    "pywikibot": "wikibridge/wiki/pywikibot_adapter.py",
    "mwclient": "wikibridge/wiki/mwclient_adapter.py",
}


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names], node.lineno))
    return out


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_core_never_imports_the_web_app_or_bots() -> None:
    bad = [
        f"{rel(p)}:{line} imports {mod}"
        for p in sources("wikibridge")
        for mod, _, line in imports(p)
        if mod.split(".")[0] in {"flask", "webapp", "bots", "werkzeug", "jinja2", "flask_wtf"}
    ]
    assert bad == []


@pytest.mark.parametrize("library", sorted(ADAPTERS))
def test_wiki_libraries_only_in_their_adapter(library: str) -> None:
    bad = [
        f"{rel(p)}:{line} imports {mod}"
        for p in sources("wikibridge", "webapp")
        for mod, _, line in imports(p)
        if mod.split(".")[0] == library and rel(p) != ADAPTERS[library]
    ]
    assert bad == []


def test_sql_only_in_the_store() -> None:
    bad = []
    for p in sources("wikibridge", "webapp", "bots"):
        if rel(p).startswith(SQL_ALLOWED):
            continue
        for mod, names, line in imports(p):
            if mod.split(".")[0] == "sqlalchemy" and QUERY_NAMES & set(names):
                bad.append(f"{rel(p)}:{line} imports {sorted(QUERY_NAMES & set(names))}")
        for node in ast.walk(ast.parse(p.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERY_CALLS
                and "session" in ast.unparse(node.func.value).lower()
            ):
                bad.append(f"{rel(p)}:{node.lineno} runs a query: {ast.unparse(node)[:60]}")
    assert bad == []


def test_the_check_itself_sees_a_crossing(tmp_path: Path) -> None:
    sample = tmp_path / "view.py"
    sample.write_text("from sqlalchemy import select\nfrom flask import g\n")
    found = {mod for mod, _, _ in imports(sample)}
    assert found == {"sqlalchemy", "flask"}
