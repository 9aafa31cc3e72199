# SPDX-License-Identifier: MIT
"""The container image, built and run for real with podman, from Debian's packages only.

No container registry is reachable here, so the base image is made with mmdebstrap from Debian's
packages (deploy/container/debian-base.sh; cached in podman's storage under its tag after the first
run) and the image is built by deploy/container/build.sh with networking OFF inside the build.
Then: the relay answers through a published port, runs as uid 10001, keeps its SQLite store on
the volume across a restart, stops cleanly on SIGTERM, and the image's HEALTHCHECK passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.proxies import DEPLOY, free_port

# slow: about 1 min with the Debian base cached in podman storage, 2-3 min when it must be made first
pytestmark = [pytest.mark.real_part("podman"), pytest.mark.slow, pytest.mark.timeout(900)]

BASE_TAG = "localhost/wire-debian-python:bookworm"
IMAGE_TAG = "localhost/wire-relay:deploy-test"
STATE = "/var/lib/wire-relay"


def _podman() -> str:
    for tool in ("podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install podman mmdebstrap runc; .ci/run installs it)")
    return "podman"


def runtime_options() -> list[str]:
    """Options this kind of machine needs: crun refuses hybrid cgroup hierarchies (runc copes), and
    a sandbox may forbid raising rlimits (so ask for lower ones than podman's defaults)."""
    options = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
    if Path("/sys/fs/cgroup/unified").is_dir() and shutil.which("runc"):
        options += ["--runtime", "runc"]
    return options


def _run(args: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, check=False
    )
    assert done.returncode == 0, f"{args[:3]} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def _image_exists(tag: str) -> bool:
    return subprocess.run(["podman", "image", "exists", tag], timeout=30, check=False).returncode == 0


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    _podman()
    if not _image_exists(BASE_TAG):
        started = time.monotonic()
        _run([str(DEPLOY / "container" / "debian-base.sh"), BASE_TAG], timeout=600)
        print(f"\nDebian base image (mmdebstrap + podman import): {time.monotonic() - started:.0f}s")
    started = time.monotonic()
    build_args = " ".join([*runtime_options(), "--network=none", "--pull=never"])
    _run(
        [str(DEPLOY / "container" / "build.sh"), IMAGE_TAG],
        timeout=600,
        env={"BASE": BASE_TAG, "BUILD_ARGS": build_args, "PYTHON": sys.executable, "CONTAINER_TOOL": "podman"},
    )
    size = int(_run(["podman", "image", "inspect", "--format", "{{.Size}}", IMAGE_TAG], timeout=30).stdout.strip())
    print(f"\nimage build (wheels + podman build): {time.monotonic() - started:.0f}s; image size {size / 1e6:.0f} MB")
    try:
        yield IMAGE_TAG
    finally:
        subprocess.run(["podman", "rmi", "--force", IMAGE_TAG], capture_output=True, timeout=60, check=False)
        subprocess.run(
            ["podman", "image", "prune", "--force", "--filter", "label=org.wire-relay.stage=build"],
            capture_output=True,
            timeout=60,
            check=False,
        )


def _http(url: str, method: str = "GET", body: object = None, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def _wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _http(f"{url}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the containerised relay did not answer {url}/healthz within {timeout}s")


def test_image_runs_the_relay_unprivileged_with_state_on_the_volume(image: str, tmp_path: Path) -> None:
    volume = f"wire-relay-test-{os.getpid()}-{time.monotonic_ns()}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run = [
        "podman",
        "run",
        "--detach",
        *runtime_options(),
        "--publish",
        f"127.0.0.1:{port}:8770",
        "--volume",
        f"{volume}:{STATE}",
        image,
        "--public-url",
        "https://wire.test",
    ]
    containers: list[str] = []
    try:
        containers.append(_run(run, timeout=120).stdout.strip())
        _wait_healthy(url)
        assert _run(["podman", "exec", containers[-1], "id", "-u"], timeout=60).stdout.strip() == "10001"
        status, body = _http(f"{url}/v1/slot/allocate", "POST", {})
        assert status == 201
        slot = json.loads(body)
        event = {"event_id": "kept-on-the-volume", "type": "chat"}
        assert _http(f"{url}/v1/events/{slot['slot_id']}", "POST", {"event": event}, slot["slot_token"])[0] == 201
        _run(["podman", "healthcheck", "run", containers[-1]], timeout=60)
        assert b"https://wire.test" in _http(url)[1]

        _run(["podman", "stop", "--time", "20", containers[-1]], timeout=60)
        code = _run(["podman", "inspect", "--format", "{{.State.ExitCode}}", containers[-1]], timeout=30).stdout
        assert code.strip() == "0", "SIGTERM must end the relay cleanly (exit 0)"
        listing = _run(
            [
                "podman",
                "run",
                "--rm",
                *runtime_options(),
                "--volume",
                f"{volume}:{STATE}",
                "--entrypoint",
                "ls",
                image,
                "-ln",
                STATE,
            ],
            timeout=60,
        ).stdout
        assert "relay.sqlite3" in listing
        assert " 10001 10001 " in listing

        containers.append(_run(run, timeout=120).stdout.strip())
        _wait_healthy(url)
        status, body = _http(f"{url}/v1/events/{slot['slot_id']}", token=slot["slot_token"])
        assert status == 200
        assert b"kept-on-the-volume" in body
    finally:
        for container in containers:
            subprocess.run(["podman", "rm", "--force", container], capture_output=True, timeout=60, check=False)
        subprocess.run(["podman", "volume", "rm", "--force", volume], capture_output=True, timeout=60, check=False)
