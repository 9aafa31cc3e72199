# SPDX-License-Identifier: MIT
"""The dependency arrows of DESIGN.md, checked on the source: protocol ← relay; protocol ← client ← {mcp, cli}."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "wire_protocol": "wire-protocol",
    "wire_relay": "wire-relay",
    "wire_client": "wire-client",
    "wire_mcp": "wire-mcp",
    "wire_cli": "wire-cli",
}
# what each package may import among our own packages and the heavy third-party ones
ALLOWED = {
    "wire_protocol": set(),
    "wire_relay": {"wire_protocol", "aiohttp", "asyncpg"},
    "wire_client": {"wire_protocol", "aiohttp"},
    "wire_mcp": {"wire_protocol", "wire_client", "mcp", "aiohttp"},
    "wire_cli": {"wire_protocol", "wire_client", "typer", "aiohttp", "mcp", "wire_mcp"},
}
WATCHED = {*PACKAGES, "aiohttp", "asyncpg", "typer", "mcp", "pydantic", "rich", "click"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_imports_follow_the_dependency_arrows(package: str) -> None:
    src = ROOT / "packages" / PACKAGES[package] / "src" / package
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(src.rglob("*.py"))
        for name in sorted((_imports(path) & WATCHED) - ALLOWED[package] - {package})
    ]
    assert not offenders, "\n".join(offenders)


def test_protocol_imports_without_io_frameworks() -> None:
    code = (
        "import sys, wire_protocol; "
        "bad = [m for m in ('aiohttp', 'asyncio', 'typer', 'mcp', 'asyncpg', 'socket') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
