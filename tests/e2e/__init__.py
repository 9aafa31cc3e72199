# SPDX-License-Identifier: MIT
"""End-to-end: three agents across two relays (SQLite; PostgreSQL behind two processes), CLI and MCP."""
