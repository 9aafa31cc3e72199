# SPDX-License-Identifier: MIT
"""Run the deploy/ examples of nginx and Caddy for real, on loopback, with a test certificate.

The examples are used as shipped, with only the site-specific values replaced (domain, listen
port, upstream address, certificate paths): every replacement must match, so an example that
drifts from what these tests expect fails loudly instead of being tested half.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.tls import TlsFiles

__all__ = [
    "DEPLOY",
    "EXAMPLE_DOMAIN",
    "EXAMPLE_UPSTREAM",
    "PROXIES",
    "free_port",
    "replace_all",
    "run_caddy",
    "run_nginx",
]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EXAMPLE_DOMAIN = "relay.example.org"
EXAMPLE_UPSTREAM = "127.0.0.1:8770"
START_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def replace_all(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"the deploy example no longer contains {old!r}; update the test and the docs")
        text = text.replace(old, new)
    return text


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"proxy exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"proxy not listening on {port} after {START_TIMEOUT}s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def _running(command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            _wait_listening(port, proc, log)
            yield
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        pytest.skip(f"{binary} is not installed (apt-get install {package}; .ci/run installs it)")
    return path


def nginx_site(tls: TlsFiles, port: int, upstreams: list[str]) -> str:
    """deploy/nginx/wire-relay.conf for a test: TLS on 127.0.0.1:``port``, plain HTTP dropped."""
    text = (DEPLOY / "nginx" / "wire-relay.conf").read_text()
    plain = text.index("# Plain HTTP only redirects")  # the port-80 server is left out
    text = text[:plain] + text[text.index("server {\n    listen 443 ssl") :]
    servers = "\n".join(f"    server {u};" for u in upstreams)
    return replace_all(
        text,
        [
            (f"    server {EXAMPLE_UPSTREAM};", servers),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
            ("    listen [::]:443 ssl http2;\n", ""),
            (f"server_name {EXAMPLE_DOMAIN};", f"server_name {tls.domain};"),
            (f"/etc/letsencrypt/live/{EXAMPLE_DOMAIN}/fullchain.pem", str(tls.cert)),
            (f"/etc/letsencrypt/live/{EXAMPLE_DOMAIN}/privkey.pem", str(tls.key)),
        ],
    )


@contextlib.contextmanager
def run_nginx(workdir: Path, tls: TlsFiles, upstreams: list[str], port: int) -> Iterator[None]:
    """nginx serving the example site on 127.0.0.1:``port``."""
    binary = _require("nginx", "nginx-light")
    workdir.mkdir(parents=True, exist_ok=True)
    site = workdir / "wire-relay.conf"
    site.write_text(nginx_site(tls, port, upstreams))
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {workdir / 'access.log'};\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp.items())
        + f"  include {site};\n}}\n"
    )
    check = subprocess.run(
        [binary, "-t", "-p", str(workdir), "-c", str(conf)], capture_output=True, timeout=30, check=False
    )
    assert check.returncode == 0, check.stderr.decode(errors="replace")
    with _running([binary, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"], port, workdir / "nginx.out"):
        yield


def caddyfile(tls: TlsFiles, port: int, upstreams: list[str], storage: Path) -> str:
    """deploy/caddy/Caddyfile for a test: the test certificate, loopback only, no ACME, no admin API."""
    text = (DEPLOY / "caddy" / "Caddyfile").read_text()
    text = replace_all(
        text,
        [
            (f"\n{EXAMPLE_DOMAIN} {{\n", f"\nhttps://{tls.domain}:{port} {{\n\ttls {tls.cert} {tls.key}\n"),
            (f"reverse_proxy {EXAMPLE_UPSTREAM} {{", f"reverse_proxy {' '.join(upstreams)} {{"),
        ],
    )
    options = (
        "{\n\tadmin off\n\tauto_https disable_redirects\n\tdefault_bind 127.0.0.1\n"
        f"\tstorage file_system {storage}\n}}\n"
    )
    return options + text


@contextlib.contextmanager
def run_caddy(workdir: Path, tls: TlsFiles, upstreams: list[str], port: int) -> Iterator[None]:
    """Caddy serving the example site on 127.0.0.1:``port``."""
    binary = _require("caddy", "caddy")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "Caddyfile"
    conf.write_text(caddyfile(tls, port, upstreams, workdir / "storage"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "XDG_DATA_HOME": str(workdir / "data"),
    }
    check = subprocess.run(
        [binary, "validate", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert check.returncode == 0, check.stderr.decode(errors="replace")
    with _running([binary, "run", "--config", str(conf), "--adapter", "caddyfile"], port, workdir / "caddy.out", env):
        yield


PROXIES = {"nginx": run_nginx, "caddy": run_caddy}
