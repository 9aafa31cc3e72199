# SPDX-License-Identifier: MIT
"""Attack 8: huge integers, unbounded reads, loose permissions, symlinked inboxes (issue 12)."""

from __future__ import annotations

import asyncio
import stat
import subprocess
from pathlib import Path

from aiohttp import web

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.hostile_relay import HostileRelay
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import pair_with_victim, unique, whoami
from tests.hostile.runner import CLI, WIRE


async def test_huge_integer_in_a_page_does_not_crash_pull(hostile_relay: HostileRelay, tmp_path: Path) -> None:
    victim = CLI(tmp_path / "victim")
    victim.ok("init", unique("victim"), "--relay", hostile_relay.url)
    digits = "9" * 5000
    hostile_relay.events_body = (
        b'[{"event_id":"' + b"e" * 64 + b'","kind":1001,"from":"did:wire:x-00000000","body":' + digits.encode() + b"}]"
    )
    result = victim("pull")
    assert "Traceback" not in result.err, result.err
    assert result.code == 0 or "relay" in result.err.lower(), str(result)


async def test_relay_answers_are_read_with_a_bound(hostile_relay: HostileRelay, tmp_path: Path) -> None:
    """A 300 MB directory record: ``wire whois`` gives up early with a clear message and little memory."""
    victim = CLI(tmp_path / "victim")
    victim.ok("init", unique("victim"), "--relay", hostile_relay.url)

    async def enormous(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"nick":"big","pad":"')
        chunk = b"a" * (1024 * 1024)
        try:
            for _ in range(300):
                await response.write(chunk)
            await response.write(b'"}')
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    hostile_relay.routes["GET /.well-known/wire/agent"] = enormous
    # The CLI's own peak memory: VmHWM of its address space, read at exit. (ru_maxrss from wait4 is
    # no good here: Linux carries the forking parent's high-water mark into the child, and pytest
    # itself holds hundreds of MB late in a full run.)
    peak_file = tmp_path / "peak-rss.txt"
    launcher = (
        "import atexit, runpy, sys\n"
        "path = sys.argv[1]\n"
        "def peak():\n"
        "    with open('/proc/self/status') as status, open(path, 'w') as out:\n"
        "        out.write(next(line for line in status if line.startswith('VmHWM:')).split()[1])\n"
        "atexit.register(peak)\n"
        "sys.argv = ['wire', *sys.argv[2:]]\n"
        "runpy.run_module('wire_cli', run_name='__main__')\n"
    )
    argv = [str(Path(WIRE).with_name("python")), "-c", launcher, str(peak_file)]
    argv += ["whois", f"big@{hostile_relay.url.removeprefix('http://')}", "--json"]
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=victim.environ(),
        cwd=victim.user_home,
    )
    out_bytes, err_bytes = await asyncio.wait_for(process.communicate(), timeout=60)
    out, err = out_bytes.decode(errors="replace"), err_bytes.decode(errors="replace")
    assert "Traceback" not in err, err
    assert process.returncode != 0
    assert "too large" in (out + err).lower()
    peak_kib = int(peak_file.read_text())
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]}


def _with_umask_000(victim: CLI, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["sh", "-c", 'umask 000 && exec "$0" "$@"', str(WIRE), *args]
    return subprocess.run(command, env=victim.environ(), capture_output=True, text=True, timeout=60, check=False)


async def test_home_is_private_whatever_the_umask(tmp_path: Path, relay: RelayProcess) -> None:
    victim = CLI(tmp_path / "victim")
    init = await asyncio.to_thread(_with_umask_000, victim, "init", unique("victim"), "--relay", relay.url)
    assert init.returncode == 0, init.stderr
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    ack = await pair_with_victim(peer, victim)
    me = whoami(victim)
    await peer.post(relay.url, ack["slot_id"], ack["slot_token"], peer.sign(me.did, "claim", 1001, "hi"))
    pulled = await asyncio.to_thread(_with_umask_000, victim, "pull")
    assert pulled.returncode == 0, pulled.stderr
    loose = {name: oct(mode) for name, mode in _modes(victim.root).items() if mode & 0o077}
    assert loose == {}, loose


async def test_inbox_append_does_not_follow_a_symlink(victim: CLI, relay: RelayProcess, tmp_path: Path) -> None:
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    ack = await pair_with_victim(peer, victim)
    me = whoami(victim)
    target = tmp_path / "precious.txt"
    target.write_text("do not touch\n")
    inbox = victim.state("inbox", f"{peer.handle}.jsonl")
    inbox.parent.mkdir(parents=True, exist_ok=True)
    inbox.unlink(missing_ok=True)
    inbox.symlink_to(target)
    await peer.post(relay.url, ack["slot_id"], ack["slot_token"], peer.sign(me.did, "claim", 1001, "hi"))
    result = victim("pull")
    assert "Traceback" not in result.err, result.err
    assert target.read_text() == "do not touch\n"
    assert "symlink" in (result.out + result.err).lower() or result.code != 0
