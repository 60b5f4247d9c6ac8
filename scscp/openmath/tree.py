"""Walking OpenMath trees: find symbols, find and replace references (``OMR``).

SCSCP cookies are references; a gateway rewrites them in calls and replies.
Only containers are descended into, and an unchanged subtree is returned as
the same object, so a tree without references costs one pass and no copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from scscp.openmath.objects import (
    OMAny,
    OMApplication,
    OMAttribution,
    OMBinding,
    OMError,
    OMReference,
    OMSymbol,
)


def references(obj: OMAny) -> Iterator[OMReference]:
    """Every OMR in ``obj``, depth first."""
    return (node for node in nodes(obj) if isinstance(node, OMReference))


def symbols(objs: Iterable[OMAny]) -> Iterator[OMSymbol]:
    """Every OMS in ``objs``, heads and attribute keys included."""
    for obj in objs:
        for node in nodes(obj):
            if isinstance(node, OMSymbol):
                yield node
            elif isinstance(node, OMAttribution):
                yield from (key for key, _ in node.pairs)
            elif isinstance(node, OMError):
                yield node.symbol


def nodes(obj: OMAny) -> Iterator[OMAny]:
    """Every node of ``obj`` (containers before their parts), without recursion."""
    stack = [obj]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, OMApplication):
            stack.append(node.head)
            stack.extend(node.args)
        elif isinstance(node, OMAttribution):
            stack.append(node.obj)
            stack.extend(value for _, value in node.pairs)
        elif isinstance(node, OMError):
            stack.extend(node.args)
        elif isinstance(node, OMBinding):
            stack.extend((node.binder, node.body))


def map_references(obj: OMAny, replace: Callable[[OMReference], OMAny]) -> OMAny:
    """``obj`` with every OMR ``r`` replaced by ``replace(r)``."""
    if isinstance(obj, OMReference):
        return replace(obj)
    if isinstance(obj, OMApplication):
        head = map_references(obj.head, replace)
        args = _map_all(obj.args, replace)
        return obj if head is obj.head and args is obj.args else OMApplication(head, args)
    if isinstance(obj, OMAttribution):
        inner = map_references(obj.obj, replace)
        old = tuple(value for _, value in obj.pairs)
        values = _map_all(old, replace)
        if inner is obj.obj and values is old:
            return obj
        pairs = tuple((key, value) for (key, _), value in zip(obj.pairs, values, strict=True))
        return OMAttribution(pairs, inner)
    if isinstance(obj, OMError):
        args = _map_all(obj.args, replace)
        return obj if args is obj.args else OMError(obj.symbol, args)
    if isinstance(obj, OMBinding):
        binder = map_references(obj.binder, replace)
        body = map_references(obj.body, replace)
        if binder is obj.binder and body is obj.body:
            return obj
        return OMBinding(binder, obj.variables, body)
    return obj


def _map_all(
    items: tuple[OMAny, ...], replace: Callable[[OMReference], OMAny]
) -> tuple[OMAny, ...]:
    mapped = tuple(map_references(item, replace) for item in items)
    return items if all(a is b for a, b in zip(mapped, items, strict=True)) else mapped
