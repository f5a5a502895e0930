"""PyTorch modules -> Graph (placeholder: a colleague replaces it).

Contract (see ``convcalc.inspect.graph``): ``read_module(module, input_shape)`` traces a module object
(the Python API, for notebooks) and returns a checked ``Graph`` with ``framework="pytorch"``,
``layout=CHANNELS_FIRST`` and for nn.Conv*/nn.ConvTranspose* a ``ConvSpec(framework="pytorch", ...)``
with PyTorch's own arguments (padding pairs or 'same'/'valid', output_padding). ``load_target(text)``
loads "path/to/file.py:factory" (this runs the user's file: the only path that imports user code) or an
importable "module:attr", and returns the module object (calling a factory with no arguments).
"""

from __future__ import annotations

from convcalc.errors import ConvCalcError
from convcalc.inspect.graph import Graph


def load_target(text: str) -> object:
    """The module named by "file.py:factory" or "module:attr"."""
    raise ConvCalcError(f"{text}: reading PyTorch modules is not available yet", parameter="model")


def read_module(module: object, input_shape: tuple[int, ...], source: str = "module") -> Graph:
    """Trace a module on an input of this shape into a Graph."""
    raise ConvCalcError(f"{source}: reading PyTorch modules is not available yet", parameter="model")
