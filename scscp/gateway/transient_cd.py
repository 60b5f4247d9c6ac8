"""What GAP says of its procedures in its transient content dictionary.

``get_transient_cd`` should answer OpenMath (SCSCP 1.3, scscp2): the CD as
an application of ``meta.CD``. GAP answers it with raw ``<CD>`` XML instead,
which no OpenMath reader accepts. The gateway reads GAP's XML once, at
start, for the descriptions, and answers with proper OpenMath
(``scscp.special.meta_cd``) listing only the procedures the operator allows.
"""

from __future__ import annotations

from lxml import etree


def descriptions(gap_cd: bytes) -> dict[str, str]:
    """Procedure name -> description, from the reply GAP sends (raw ``<CD>`` XML)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    root = etree.fromstring(gap_cd, parser)
    if root is None:
        return {}
    found: dict[str, str] = {}
    for definition in root.iter("{*}CDDefinition"):  # {*}: in any namespace or none
        name = definition.findtext("{*}Name")
        text = definition.findtext("{*}Description")
        if name:
            found[name.strip()] = " ".join((text or "").split())
    return found
