# SPDX-License-Identifier: MIT
"""Floor 1, the home on disk: paths, crash-safe files, identity, trust, endpoints, mailboxes, pidfile.

Imports nothing of wire-client above it (only ``_errors`` and ``_notify`` sit lower). Empty on
purpose: modules are imported by their full name, so this package never takes part in a circle.
"""
