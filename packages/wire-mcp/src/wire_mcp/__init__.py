# SPDX-License-Identifier: MIT
"""wire-mcp: the MCP server for wire."""

from wire_mcp.__about__ import __version__

__all__ = ["__version__"]
