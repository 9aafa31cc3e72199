# SPDX-License-Identifier: MIT
"""Floor 3, messages: send (with verdicts), the receive pipeline, the receive loop, the pairing hook.

Builds on ``_home`` and ``_relay``. The receive pipeline never chooses a pairing handler: the
assemblers hand it one. Empty on purpose (modules are imported by their full name).
"""
