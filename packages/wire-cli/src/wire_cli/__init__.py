# SPDX-License-Identifier: MIT
"""wire-cli: the wire command."""

from wire_cli.__about__ import __version__

__all__ = ["__version__"]
