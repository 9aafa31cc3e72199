# SPDX-License-Identifier: MIT
"""Floor 4, pairing: every ceremony, pending requests, invites, SAS, the local mesh, name resolution.

Builds on the floors below; flows get their parts (:class:`~wire_client._pairing.parts.PairingParts`)
handed in and never reach back up to ``WireAgent``. Empty on purpose (modules are imported by their
full name).
"""
