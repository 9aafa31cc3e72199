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


# --- import circles ----------------------------------------------------------------------------
# Every import statement counts, wherever it sits: module level, inside a function, under
# `if TYPE_CHECKING:`. Hiding an import in a function does not remove the circle, only delays it.


def _modules_of(src_root: Path, package: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((src_root / package).rglob("*.py")):
        parts = list(path.relative_to(src_root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` names in any import statement."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import name` imports the submodule pkg.name when there is one
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            name = target
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def find_import_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``graph`` (``[a, b, ..., a]``), or ``None`` when there is none."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (circle := visit(target)) is not None:
                return circle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start)) is not None:
            return circle
    return None


def import_graph(src_root: Path, package: str) -> dict[str, set[str]]:
    modules = _modules_of(src_root, package)
    known = set(modules)
    return {name: _imported_modules(name, path, known) for name, path in modules.items()}


# the relay's store circle (issue 11 item 6) is removed on the relay's own branch; strict xfail makes
# this marker fail the run as soon as that lands, so it cannot outlive the circle
_KNOWN_CIRCLES: dict[str, str] = {}  # package -> why a circle is tolerated (none are)


@pytest.mark.parametrize(
    "package",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=_KNOWN_CIRCLES[name], strict=True))
        if name in _KNOWN_CIRCLES
        else name
        for name in sorted(PACKAGES)
    ],
)
def test_no_import_circle(package: str) -> None:
    graph = import_graph(ROOT / "packages" / PACKAGES[package] / "src", package)
    circle = find_import_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_circle_check_sees_hidden_imports(tmp_path: Path) -> None:
    """The check must fail on a circle made only of function-local and TYPE_CHECKING imports."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import C\n"
    )
    (package / "c.py").write_text("import pkg.a\n")
    circle = find_import_circle(import_graph(tmp_path, "pkg"))
    assert circle is not None
    assert set(circle) == {"pkg.a", "pkg.sub.b", "pkg.c"}
    (package / "c.py").write_text("import json\n")
    assert find_import_circle(import_graph(tmp_path, "pkg")) is None


def test_layers_contract_holds() -> None:
    """`lint-imports` (the contracts in pyproject.toml) passes; `make lint` runs it too."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
