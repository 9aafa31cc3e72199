# SPDX-License-Identifier: MIT
"""Floor 2, talking to relays: the relay client and pool, the one-shot transport, directory lookups.

Builds on ``_home`` only. Empty on purpose (modules are imported by their full name).
"""
