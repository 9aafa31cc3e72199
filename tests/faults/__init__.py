# SPDX-License-Identifier: MIT
"""Fault injection: relays and daemons killed, outages, full or read-only disks, clock skew, torn lines."""
