"""The relationship graph as a networkx graph, written as GEXF or GraphML for Gephi."""
from __future__ import annotations

from pathlib import Path

import networkx as nx

from ..model import Story


def relation_graph(story: Story) -> nx.Graph:
    g = nx.Graph(title=story.meta.get("title") or story.title or story.source.path)
    for c in story.characters:
        g.add_node(c.id, label=c.name, gender=c.gender or "", lines=c.counts.get("lines", 0),
                   mentions=c.counts.get("mentions", 0), mentioned_only=c.mentioned_only)
    for r in story.relations:
        for node in (r.a, r.b):
            if node not in g:
                g.add_node(node, label=node)
        g.add_edge(r.a, r.b, kind=r.kind, weight=r.weight, evidence=len(r.evidence))
    return g


def write_graph(story: Story, path: Path) -> Path:
    g = relation_graph(story)
    if path.suffix == ".graphml":
        nx.write_graphml(g, path)
    else:
        nx.write_gexf(g, path)
    return path
