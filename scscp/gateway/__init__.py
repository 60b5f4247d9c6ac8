"""The SCSCP gateway: many clients in front, a pool of CAS workers behind.

``service`` wires the SCSCP ``server`` to a ``pool`` of ``worker``s that a
provider (``providers/local``: GAP processes) starts; ``config`` is the one
typed configuration object and ``cli`` the ``scscp-gateway`` command.
"""

from scscp.gateway.config import GatewayConfig
from scscp.gateway.service import Gateway

__all__ = ["Gateway", "GatewayConfig"]
