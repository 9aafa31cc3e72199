# SPDX-License-Identifier: MIT
"""wire-mcp stdio start-up time (spawn → initialize response) and the size of the tools list.

    .venv/bin/python bench/mcp_startup.py [--runs 5] [--command ".venv/bin/wire mcp"] [--relay] [--json]

Speaks raw JSON-RPC over the child's stdin/stdout (what a host does), on a fresh temporary
WIRE_HOME with an identity. With ``--relay`` the identity is attached to a loopback relay process
started here, so the in-process receiver really connects (what a user's set-up looks like);
without it the identity has no relay slot. ``--command`` is split like a shell would
(``wire mcp`` is what ``wire setup`` writes into a host's configuration).
Reports min / median start-up, tools/list bytes and ≈tokens (bytes / 4), and the instructions size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from client_latency import start_relay  # the script's own folder is on sys.path

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}


def _send(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()


def _read(proc: subprocess.Popen[bytes], want_id: int) -> tuple[dict[str, Any], int]:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("wire-mcp exited before answering")
        message = json.loads(line)
        if message.get("id") == want_id:
            return message, len(line.rstrip(b"\n"))


def run_once(command: list[str], home: Path) -> tuple[float, int, int]:
    # as on a normal install: bytecode caches written and used (PYTHONDONTWRITEBYTECODE dropped)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRE_") and k != "PYTHONDONTWRITEBYTECODE"} | {
        "WIRE_HOME": str(home),
        "WIRE_NO_TOASTS": "1",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        _send(proc, INIT)
        init, _ = _read(proc, 1)
        elapsed = time.perf_counter() - started
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        tools, _ = _read(proc, 2)
        tools_bytes = len(json.dumps(tools["result"], separators=(",", ":"), ensure_ascii=False).encode())
        instructions = len(str(init["result"].get("instructions", "")).encode())
        return elapsed, tools_bytes, instructions
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# The floor: the official SDK alone, a server with no tools answering initialize over stdio.
BARE_SDK_SERVER = """
import anyio
from mcp.server.mcpserver import MCPServer
anyio.run(MCPServer(name="bare").run_stdio_async)
"""


def _wire(argv: list[str], home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRE_")} | {"WIRE_HOME": str(home)}
    wire = str(Path(sys.executable).with_name("wire"))
    subprocess.run([wire, *argv], env=env, check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def _relay(tmp: Path) -> Iterator[str]:
    """A relay process on a free loopback port for the run; yields its URL."""
    proc, url = start_relay(tmp)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--command", default=str(Path(sys.executable).with_name("wire-mcp")))
    parser.add_argument("--relay", action="store_true", help="attach the identity to a loopback relay first")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--floor", action="store_true", help="time a bare SDK server (no tools) instead")
    args = parser.parse_args()
    command = [sys.executable, "-c", BARE_SDK_SERVER] if args.floor else shlex.split(args.command)
    if args.floor:
        args.command = "bare MCPServer (the SDK's floor)"
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        home = Path(tmp) / "home"
        if args.relay:
            url = stack.enter_context(_relay(Path(tmp)))
            _wire(["init", "bench", "--relay", url], home)
        else:
            from wire_client import Identity, WireHome

            Identity.create(WireHome.at(home), "bench")
        results = [run_once(command, home) for _ in range(args.runs)]
    times = [r[0] * 1000 for r in results]
    tools_bytes, instructions = results[-1][1], results[-1][2]
    if args.json:
        figures = {
            "command": args.command,
            "relay": args.relay,
            "runs": args.runs,
            "startup_ms": {
                "min": round(min(times), 1),
                "median": round(statistics.median(times), 1),
                "max": round(max(times), 1),
            },
            "tools_list_bytes": tools_bytes,
            "instructions_bytes": instructions,
        }
        print(json.dumps(figures))
        return 0
    where = "identity on a loopback relay" if args.relay else "identity without a relay"
    if args.floor:
        where = "no tools, no wire code"
    print(f"{args.command}: stdio start-up (spawn -> initialize response), {where}, {args.runs} runs:")
    print(f"  min {min(times):.0f} ms, median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    print(f"tools/list result: {tools_bytes} bytes ≈ {tools_bytes // 4} tokens")
    print(f"instructions: {instructions} bytes ≈ {instructions // 4} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
