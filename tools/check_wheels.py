# SPDX-License-Identifier: MIT
"""Build every package as a wheel and install each one ALONE into a fresh virtual environment.

    .venv/bin/python tools/check_wheels.py

Proves that each distribution carries everything it needs (nothing pulled from the repository
around it) and that wire-protocol imports without aiohttp, typer or mcp installed. Third-party
dependencies come from the package index (uv's cache makes repeated runs fast); our own
packages come only from the freshly built wheels.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV = str(Path(sys.executable).with_name("uv"))
PACKAGES = {
    "wire-protocol": ("wire_agent_protocol", "wire_protocol"),
    "wire-relay": ("wire_relay", "wire_relay"),
    "wire-client": ("wire_client", "wire_client"),
    "wire-mcp": ("wire_mcp", "wire_mcp"),
    "wire-cli": ("wire_cli", "wire_cli"),
}
PROTOCOL_MUST_NOT_PULL = ("aiohttp", "typer", "mcp", "asyncpg")


def run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wire-wheels-") as tmp:
        dist = Path(tmp) / "dist"
        for folder in PACKAGES:
            run(UV, "build", "--quiet", "--wheel", "--out-dir", str(dist), str(ROOT / "packages" / folder))
        for folder, (dist_name, module) in PACKAGES.items():
            wheels = sorted(dist.glob(f"{dist_name}-*.whl"))
            if len(wheels) != 1:
                sys.exit(f"{folder}: expected one wheel named {dist_name}-*.whl in {dist}, found {wheels}")
            venv = Path(tmp) / f"venv-{folder}"
            run(UV, "venv", "--quiet", "--python", sys.executable, str(venv))
            python = str(venv / "bin" / "python")
            env_args = ("--python", python, "--find-links", str(dist))
            run(UV, "pip", "install", "--quiet", *env_args, str(wheels[0]))
            check = f"import {module}, sys; print({module}.__version__)"
            if module == "wire_protocol":
                names = ", ".join(repr(m) for m in PROTOCOL_MUST_NOT_PULL)
                check += f"; import importlib.util as u; print([m for m in ({names},) if u.find_spec(m)])"
            output = run(python, "-c", check, cwd=Path(tmp)).split()
            if module == "wire_protocol" and output[-1] != "[]":
                sys.exit(f"wire-protocol's wheel pulled in {output[-1]}")
            print(f"ok  {wheels[0].name} installs alone and imports {module} {output[0]}")
            shutil.rmtree(venv)


if __name__ == "__main__":
    main()
