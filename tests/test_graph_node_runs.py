"""Node runs shared between graphs (``convcalc.graph.shapes._memo``): a graph made from another by
changing one node reads the kept nodes' runs, gives what a cold run gives, and nothing stays behind
once both graphs are gone."""

from __future__ import annotations

import gc
import random
import sys
from dataclasses import replace
from pathlib import Path

from convcalc.graph import shapes
from convcalc.graph.model import ConvSpec, Graph
from convcalc.graph.shapes import Run, Shape, propagate

sys.path.insert(0, str(Path(__file__).parent))
from test_graph_sloped_classes import C, unet_graph


def _cold(graph: Graph, shape: Shape) -> Run:
    saved = dict(shapes._MEMOS), dict(shapes._PLANS)
    shapes._MEMOS.clear()
    shapes._PLANS.clear()
    try:
        return propagate(graph, (shape,))
    finally:
        shapes._MEMOS.update(saved[0])
        shapes._PLANS.update(saved[1])


def test_a_changed_graph_shares_the_kept_nodes_runs_and_matches_a_cold_run() -> None:
    for seed in range(20):
        graph = unet_graph(random.Random(seed), 3, 1)
        shape = (1, C, 37 + seed)
        first = propagate(graph, (shape,))
        convs = [n for n, node in enumerate(graph.nodes) if isinstance(node.spec, ConvSpec)]
        at = convs[-1]
        node = graph.nodes[at]
        assert isinstance(node.spec, ConvSpec)
        changed = replace(node, spec=node.spec._replace(kernel_size=(node.spec.kernel_size[0] + 2,)))
        other = replace(graph, nodes=(*graph.nodes[:at], changed, *graph.nodes[at + 1 :]))
        second = propagate(other, (shape,))
        assert second == _cold(other, shape)
        for a, b in zip(first.nodes, second.nodes):
            if a.index < at:
                assert a is b  # read, not run again
        keys = {(id(n), i) for i, n in enumerate(graph.nodes)} | {
            (id(n), i) for i, n in enumerate(other.nodes)
        }
        del graph, other, first, second, node, changed
        gc.collect()
        assert not keys & set(shapes._MEMOS)
