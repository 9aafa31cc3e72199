# SPDX-License-Identifier: Apache-2.0
"""wire_protocol's names load on first use (PEP 562), from one export table."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys

import pytest

import wire_protocol


def test_one_export_table_matches_the_type_checking_imports() -> None:
    """``__all__`` comes from the export table; the TYPE_CHECKING block must name exactly the same."""
    tree = ast.parse(inspect.getsource(wire_protocol))
    guarded = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    typed = {
        alias.asname or alias.name: f"{node.module}"
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == wire_protocol._EXPORTS
    assert list(wire_protocol.__all__) == list(wire_protocol._EXPORTS)
    assert sorted(dir(wire_protocol)) == sorted(wire_protocol._EXPORTS)
    for name in wire_protocol.__all__:
        assert getattr(wire_protocol, name) is not None, name


def _modules_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_a_light_name_does_not_load_sealing_pairing_or_a2a() -> None:
    bare = _modules_after("import wire_protocol")
    assert [m for m in bare if m.startswith("wire_protocol.")] == []
    assert not [m for m in bare if m.startswith("cryptography")]
    light = _modules_after("from wire_protocol import character_for, loads, canonical_bytes")
    assert not {"wire_protocol._sealed", "wire_protocol._seal", "wire_protocol._pairing", "wire_protocol._a2a"} & set(
        light
    )
    assert not [m for m in light if m.startswith("cryptography")]


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        wire_protocol.no_such_name  # type: ignore[attr-defined]  # noqa: B018
