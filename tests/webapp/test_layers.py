"""The core never imports the web app: `wikibridge ingest` must start without Flask."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB_MODULES = ("flask", "flask_wtf", "werkzeug", "jinja2", "webapp", "gunicorn")


def test_core_source_never_imports_the_web_layer() -> None:
    crossings = []
    for path in sorted((ROOT / "wikibridge").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in WEB_MODULES:
                    crossings.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert crossings == []


def test_the_command_line_loads_without_flask() -> None:
    code = (
        "import sys, wikibridge.cli, wikibridge.mail.ingest, wikibridge.access;"
        "wikibridge.cli.main.get_command(None, 'serve');"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {WEB_MODULES!r}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
