# SPDX-License-Identifier: MIT
"""wire-client: the wire client library."""

from wire_client.__about__ import __version__

__all__ = ["__version__"]
