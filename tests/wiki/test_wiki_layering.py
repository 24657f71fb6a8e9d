"""Each wiki client library is imported by one adapter module only."""

from __future__ import annotations

import ast
from pathlib import Path

import wikibridge

ADAPTERS = {
    "mwclient": "wikibridge/wiki/mwclient_adapter.py",
    "pywikibot": "wikibridge/wiki/pywikibot_adapter.py",
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_client_libraries_only_in_their_adapters() -> None:
    package = Path(wikibridge.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).as_posix()
        for library, adapter in ADAPTERS.items():
            if library in imported_roots(path) and relative != adapter:
                offenders.append(f"{relative} imports {library}")
    assert offenders == []
