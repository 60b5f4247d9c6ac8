"""SCSCP (Symbolic Computation Software Composability Protocol) for Python.

``scscp.openmath`` models and encodes OpenMath objects, ``scscp.protocol`` is
the sans-IO session, ``scscp.client`` and ``scscp.server`` run it on asyncio,
and ``scscp.gateway`` serves pools of computer-algebra workers.
"""

__version__ = "0.1.0"
