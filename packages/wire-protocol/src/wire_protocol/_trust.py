# SPDX-License-Identifier: Apache-2.0
"""Trust tiers. Verification never looks at the tier; pairing flows and displays do."""

from __future__ import annotations

import enum

__all__ = ["Tier"]


class Tier(enum.IntEnum):
    """How far we trust a pinned agent. Promotion is one-way: a tier is never lowered by a re-pin."""

    UNTRUSTED = 0
    VERIFIED = 1
    ATTESTED = 2
    TRUSTED = 3

    @classmethod
    def parse(cls, value: object) -> Tier:
        """Read a tier name from a trust file; anything unknown counts as UNTRUSTED."""
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        return cls.UNTRUSTED

    def promoted_to(self, other: Tier) -> Tier:
        """The tier after a pin at ``other``: never lower than the current one."""
        return max(self, other)
