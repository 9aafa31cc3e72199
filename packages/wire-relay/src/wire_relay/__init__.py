# SPDX-License-Identifier: AGPL-3.0-or-later
"""wire-relay: the mailbox relay server."""

from wire_relay.__about__ import __version__

__all__ = ["__version__"]
