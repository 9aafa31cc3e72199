# SPDX-License-Identifier: MIT
"""Test helpers shared by every package's tests (see relay_process.RelayProcess)."""
