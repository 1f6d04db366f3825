"""The relationship graph as inline SVG: a deterministic circular layout computed here, no JS library.

The layout is plain numbers (`GraphLayout`); `graph.svg.j2` draws it with autoescaping on, so every
character name reaches the page escaped. Colour is never the only carrier: each relation kind also
has its own dash pattern, every edge and node has a `<title>`, and the report prints a legend.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup

# Dash pattern per relation kind (the legend in the report uses the same table).
EDGE_DASH = {"romantic": "", "platonic": "8 4", "family": "2 4", "antagonistic": "12 3 2 3", "unknown": "1 5"}
EDGE_KINDS = tuple(EDGE_DASH)


@dataclass
class GraphNode:
    id: str
    label: str
    weight: float = 0.0  # lines spoken (or mentions): sets the node's size
    colour: int | None = None  # speaker palette index, None for a grey node
    x: float = 0.0
    y: float = 0.0
    r: float = 8.0
    anchor: str = "middle"  # label text-anchor: start | middle | end
    lx: float = 0.0
    ly: float = 0.0


@dataclass
class GraphEdge:
    a: str
    b: str
    kind: str = "unknown"
    weight: float = 0.0
    title: str = ""
    href: str | None = None  # "#ev-3": the first passage that shows the relation
    width: float = 1.0
    dash: str = ""
    x1: float = 0.0
    y1: float = 0.0
    x2: float = 0.0
    y2: float = 0.0


@dataclass
class GraphLayout:
    width: int
    height: int
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)


def layout_circle(nodes: list[GraphNode], edges: list[GraphEdge], *, width: int = 380,
                  height: int = 300, label_room: int = 95) -> GraphLayout:
    """Place nodes on a circle, heaviest first from the top (or the left, for a pair), clockwise;
    ties broken by label.

    Deterministic: the same graph always gives the same picture. `label_room` is the horizontal
    margin kept for labels written outside the circle.
    """
    ordered = sorted(nodes, key=lambda n: (-n.weight, n.label.lower(), n.id))
    heaviest = max((n.weight for n in ordered), default=0.0) or 1.0
    n = len(ordered)
    if n <= 2:
        height = min(height, 130)  # one pair side by side needs no more room
    cx, cy = width / 2, height / 2
    radius = max(40.0, cx - label_room if n == 2 else min(cx - label_room, cy - 34))
    # Two nodes sit left and right; more start at the top and go clockwise.
    start = math.pi if n == 2 else -math.pi / 2
    for i, node in enumerate(ordered):
        node.r = 7.0 + 11.0 * math.sqrt(max(node.weight, 0.0) / heaviest)
        if n == 1:
            node.x, node.y = cx, cy
        else:
            angle = start + 2 * math.pi * i / n
            node.x, node.y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        # Labels sit outside the circle, on the side the node is on.
        dx, dy = node.x - cx, node.y - cy
        if n == 1 or abs(dx) < 1e-6 * width:
            node.anchor = "middle"
            node.lx = node.x
            node.ly = node.y + (node.r + 16 if dy >= 0 else -(node.r + 6))
        else:
            node.anchor = "start" if dx > 0 else "end"
            node.lx = node.x + (node.r + 5 if dx > 0 else -(node.r + 5))
            node.ly = node.y + 4
        node.x, node.y, node.lx, node.ly = (round(v, 1) for v in (node.x, node.y, node.lx, node.ly))
        node.r = round(node.r, 1)
    where = {node.id: node for node in ordered}
    heaviest_edge = max((e.weight for e in edges), default=0.0) or 1.0
    placed = []
    for edge in sorted(edges, key=lambda e: (e.weight, e.a, e.b)):  # heavy edges drawn last, on top
        a, b = where.get(edge.a), where.get(edge.b)
        if a is None or b is None or a is b:
            continue
        edge.x1, edge.y1, edge.x2, edge.y2 = a.x, a.y, b.x, b.y
        edge.width = round(1.5 + 5.0 * max(edge.weight, 0.0) / heaviest_edge, 1)
        edge.dash = EDGE_DASH.get(edge.kind, EDGE_DASH["unknown"])
        placed.append(edge)
    return GraphLayout(width=width, height=height, nodes=ordered, edges=placed)


def render_graph_svg(layout: GraphLayout, *, title: str = "Relationship graph") -> Markup:
    """The layout as an `<svg>` element. It is Markup because the template escaped every name."""
    from .report import template_env

    return Markup(template_env().get_template("graph.svg.j2").render(layout=layout, title=title))
