# SPDX-License-Identifier: Apache-2.0
"""Constants of the relay HTTP API shared by relays and clients (docs/PROTOCOL.md §8)."""

from __future__ import annotations

import re

__all__ = [
    "A2A_EXTENSION_PREFIX",
    "A2A_EXTENSION_URI",
    "INVITE_TOKEN_RE",
    "LIST_LIMIT_DEFAULT",
    "LIST_LIMIT_MAX",
    "MAX_EVENT_BYTES",
    "MAX_INVITE_URL_BYTES",
    "PAIR_ID_RE",
    "PAIR_SLOT_TTL_SECONDS",
    "SLOT_ID_RE",
    "SLOT_QUOTA_BYTES",
    "SLOT_TOKEN_RE",
]

#: largest event (its compact sorted JSON) a slot accepts
MAX_EVENT_BYTES = 256 * 1024
#: bytes of events one slot may hold
SLOT_QUOTA_BYTES = 64 * 1024 * 1024
LIST_LIMIT_DEFAULT = 100
LIST_LIMIT_MAX = 1000
PAIR_SLOT_TTL_SECONDS = 300
MAX_INVITE_URL_BYTES = 8192

SLOT_ID_RE = re.compile(r"[0-9a-f]{32}")
SLOT_TOKEN_RE = re.compile(r"[0-9a-f]{64}")
PAIR_ID_RE = re.compile(r"[0-9a-f]{32}")
INVITE_TOKEN_RE = re.compile(r"[0-9a-fA-F]{6}")

#: the A2A extension URI relays publish; clients select the extension by the prefix
A2A_EXTENSION_URI = "https://slancha.ai/wire/ext/v0.5"
A2A_EXTENSION_PREFIX = "https://slancha.ai/wire/ext"
