"""Errors of the protocol layer."""


class ProtocolError(Exception):
    """The peer broke SCSCP framing or the session order; the session must end.

    The message is meant for the peer too: a server sends it as the reason of
    its ``<?scscp quit ?>`` before closing.
    """
