"""The gateway's transient content dictionary, in the meta CD encoding.

``get_transient_cd`` should answer OpenMath (SCSCP 1.3, scscp2): the CD as
an application of ``meta.CD``. GAP answers it with raw ``<CD>`` XML instead,
which no OpenMath reader accepts. The gateway reads GAP's XML once, at
start, for the descriptions, and answers with proper OpenMath listing only
the procedures the operator allows.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from scscp.openmath import OMApplication, OMString, OMSymbol

META = "meta"


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


def meta_cd(cd_name: str, heads: Iterable[OMSymbol], described: dict[str, str]) -> OMApplication:
    """``meta.CD(CDName, Description, CDDefinition(Name, Description)...)``."""

    def element(tag: str, *content: OMApplication | OMString) -> OMApplication:
        return OMApplication(OMSymbol(META, tag), content)

    definitions = [
        element(
            "CDDefinition",
            element("Name", OMString(head.name)),
            element("Description", OMString(described.get(head.name, ""))),
        )
        for head in heads
        if head.cd == cd_name
    ]
    return element(
        "CD",
        element("CDName", OMString(cd_name)),
        element("CDStatus", OMString("private")),
        element("Description", OMString("Procedures offered by this SCSCP gateway")),
        *definitions,
    )
