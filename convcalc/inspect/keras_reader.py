"""Keras `.keras` files -> Graph (placeholder: a colleague replaces it).

Contract (see ``convcalc.inspect.graph``): ``read_keras(path)`` reads the zip's ``config.json`` with the
standard library only (no TensorFlow or Keras), with bounded memory (refuse members over a stated size
and zip-bomb compression ratios, with a message), and returns a checked ``Graph`` with
``framework="keras"``, nodes in topological order, ``layout=CHANNELS_LAST`` unless a layer says
``data_format="channels_first"``, and for Conv*/Conv*DTranspose a ``ConvSpec(framework="keras", ...)``
holding Keras's own padding word ("same"/"valid") and output_padding (None when unset).
"""

from __future__ import annotations

from pathlib import Path

from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import Graph


def read_keras(path: Path) -> Graph:
    """Read a `.keras` file into a Graph."""
    raise ConvCalcError(f"{path}: reading Keras files is not available yet", parameter="model")
