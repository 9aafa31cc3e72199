# SPDX-License-Identifier: MIT
"""A throw-away certificate authority and server certificate, and a small HTTPS client that
connects to 127.0.0.1 while verifying the certificate for a real-looking domain name.

The client is deliberately our own (http.client + ssl): these tests check the proxies and the
relay, not a client library. Every socket operation has a timeout.
"""

from __future__ import annotations

import datetime
import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["Answer", "PinnedHTTPSConnection", "TlsFiles", "https_request", "make_tls_files"]

TIMEOUT = 10.0


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path
    domain: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_files(directory: Path, domain: str) -> TlsFiles:
    """A CA and a server certificate for ``domain`` (valid for a day), as PEM files in ``directory``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("wire test CA"))
        .issuer_name(_name("wire test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(domain))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key", domain)
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + files.ca_cert.read_bytes())
    files.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.key.chmod(0o600)
    return files


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` (SNI and certificate name) over a TCP connection to 127.0.0.1:``port``,
    from ``source`` (another loopback address stands for another client machine)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext, source: str = "127.0.0.1") -> None:
        super().__init__(host, port, context=context, timeout=TIMEOUT, source_address=(source, 0))
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout, self.source_address)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def client_context(tls: TlsFiles) -> ssl.SSLContext:
    """Verify the proxy's certificate against the test CA only (hostname checked)."""
    return ssl.create_default_context(cafile=str(tls.ca_cert))


def https_request(
    conn: http.client.HTTPSConnection,
    method: str,
    path: str,
    *,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on a (kept-alive) connection; JSON-encodes ``body`` when given."""
    sent_headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent_headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=sent_headers)
    response = conn.getresponse()
    payload = response.read()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, payload)
