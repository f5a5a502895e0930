"""The format-neutral model every reader produces: named tensors and nodes in topological order.

A reader (ONNX in ``onnx_reader``, Keras in ``keras_reader``, PyTorch in ``torch_reader``) turns a
model into one ``Graph``; `convcalc chain` builds one per axis from its layers (``chain.sizes``).
Everything after that (shape propagation, merges, accepted input sizes, receptive field, MACs,
portability) works on the Graph alone, so a reader's whole job is this contract:

* ``Graph.inputs``: the model's data inputs as ``Tensor`` with their declared full shapes (batch and
  channels included, in the framework's own axis order). A dimension is an int when the file fixes it,
  or a string (the symbolic name, or ``"?"``) when it is dynamic. Weights are not inputs.
* ``Graph.constants``: constant tensors that a node reads as a data operand (a bias added with Add, a
  constant concatenated), with their full integer shapes. Weights of conv/dense layers are not listed:
  they are summarised in the node's spec.
* ``Graph.nodes``: in topological order (every input of a node is a graph input, a constant, or the
  output of an earlier node). ``Node.inputs`` / ``Node.outputs`` name data tensors only, in the order
  the op reads them. ``Node.name`` is the path a user recognises ("/up1/up/ConvTranspose",
  "decoder.0", "conv2d_transpose_1"); ``Node.op`` the framework's own op name ("ConvTranspose",
  "Conv2DTranspose", "conv_transpose2d").
* ``Node.kind`` is one of ``KINDS`` (below) and decides which spec ``Node.spec`` holds:

  ==================  =================  ===================================================
  kind                spec               meaning
  ==================  =================  ===================================================
  conv                ConvSpec           convolution (any rank)
  conv_transpose      ConvSpec           transposed convolution
  pool                PoolSpec           max / average / lp pooling with a window
  global_pool         None               pooling over every spatial axis (sizes -> 1)
  resize              ResizeSpec         upsampling / resize by scales or to sizes
  pad                 PadSpec            constant/reflect/edge padding; negative = crop
  slice               SliceSpec          cropping or slicing, python/ONNX clamping rules
  concat              ConcatSpec         concatenation along one tensor axis (a merge)
  elementwise         None               add / sub / mul / div / max ... with broadcasting (a merge)
  depth_to_space      BlockSpec          pixel shuffle: channels / b^n, spatial * b
  space_to_depth      BlockSpec          pixel unshuffle: channels * b^n, spatial / b
  shape_preserving    None               activations, normalisation, dropout, identity ...
  flatten             FlattenSpec        flatten from an axis on (ONNX Flatten, nn.Flatten)
  reshape             ReshapeSpec        reshape to a target shape (0 and -1 as ONNX reads them)
  dense               DenseSpec          Gemm / MatMul / Linear / Dense on the last axis
  value               ValueSpec          integer shape arithmetic (Shape, Gather, Div, ...): its
                                         outputs carry values, read by other nodes' operands
  transpose           TransposeSpec      permute the axes (output axis n is input axis perm[n])
  expand              ExpandSpec         broadcast to a shape (ONNX Expand)
  matmul              None               a matrix product of two data tensors (attention)
  recurrent           RecurrentSpec      LSTM / GRU / RNN: the time axis goes through
  unknown             UnknownSpec        anything else: named in the report
  ==================  =================  ===================================================

* ``Node.operands`` names the tensors a node reads as integer operands at run time, each with the
  spec field it fills: ``(("sizes", "t7"),)`` on a Resize whose sizes are computed from shapes,
  ``("pads", ...)`` on a Pad, ``("shape", ...)`` on a Reshape or Expand, ``("starts", ...)`` ... on a
  Slice. Their values come from ``value`` nodes or constants (``Tensor.values``), so one Graph runs
  at every input size with its shape arithmetic redone.

* ``Node.layout`` is ``CHANNELS_FIRST`` (N, C, spatial...) or ``CHANNELS_LAST`` (N, spatial..., C).
* For conv and conv_transpose, ``ConvSpec`` keeps **the framework's own arguments** (padding words
  included: ONNX "same_upper", Keras "same", PyTorch pairs) and the name of the convention module that
  reads them (``framework``: "onnx", "keras", "pytorch", ...). Never resolve padding yourself:
  ``ConvSpec.read(size)`` calls ``convcalc.conventions.read`` which applies that framework's rules and
  refusals and returns the canonical pads / crops. Give channels and groups from the weight.
* ``PoolSpec`` likewise keeps the framework's padding word and ceil_mode; set ``framework="onnx"`` only
  for ONNX Runtime's own arithmetic (the default is PyTorch's and TensorFlow's). ``ResizeSpec`` and
  ``PadSpec`` give one value per tensor axis (batch and channels included), ``SliceSpec`` and
  ``ConcatSpec`` name tensor axes. ``arguments`` fields are display strings (name, value) in the
  framework's own spelling.
* ``Graph.rebuild``: None when the graph is the model at every input size (its specs do not depend on
  the size). A reader whose graph holds numbers computed from the input's size (the PyTorch reader:
  ``F.interpolate(size=skip.shape[2:])``, ``view(b, c, h * w)``, control flow on sizes) gives a
  function instead: ``rebuild(input_shapes)`` returns the graph of the model run at those shapes, and
  every analysis that runs the graph at another size (``sizes.run_graph``) runs that graph instead.
* Readers raise ``ConvCalcError`` (naming the file, the node and the rule) for anything they cannot read,
  and check size budgets before they do work. ``check_graph`` verifies the structural contract; a reader
  calls it (or ``Graph.checked()``) before returning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple, Union

from convcalc.conventions import make_args, read, read_args
from convcalc.conventions.base import FrameworkLayer, LayerArgs
from convcalc.core import ConvParams, conv_axes_for, normalize, transposed_axes_for
from convcalc.core.layer import Layer
from convcalc.errors import ConvCalcError

# ``ConvSpec.framework`` of a layer written in convcalc's own dialect (`convcalc chain`'s layers): the
# core's rules, as `convcalc shape` reads them, instead of a framework's convention.
CONVCALC = "convcalc"
CHANNELS_FIRST = "channels_first"
CHANNELS_LAST = "channels_last"
LAYOUTS = (CHANNELS_FIRST, CHANNELS_LAST)
# How the spatial axes are named wherever a person reads them (findings, formulas, diff): one axis L,
# two H and W, three D, H and W.
SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

KINDS = (
    "conv",
    "conv_transpose",
    "pool",
    "global_pool",
    "resize",
    "pad",
    "slice",
    "concat",
    "elementwise",
    "depth_to_space",
    "space_to_depth",
    "shape_preserving",
    "flatten",
    "reshape",
    "dense",
    "value",
    "transpose",
    "expand",
    "matmul",
    "recurrent",
    "unknown",
)
# Ops whose operands must agree on every non-merged axis: the skip connections of a model.
MERGE_KINDS = ("concat", "elementwise")

Dim = Union[int, str]
# A value of integer shape arithmetic: an int, or an exact rational where the file computes in floats.
Number = Union[int, Fraction]
Padding = Union[str, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class Tensor:
    """A named tensor with its full shape (ints, or strings for symbolic / unknown dimensions)."""

    name: str
    shape: tuple[Dim, ...]
    values: tuple[Number, ...] | None = None


# The op specs are NamedTuples, not frozen dataclasses: every command that reads a graph (`chain` among
# them) defines these fifteen classes at start-up, and a NamedTuple takes about a fifth of the time to
# define. They are immutable records all the same; a changed copy is ``spec._replace(...)``.
class ConvSpec(NamedTuple):
    """A (transposed) convolution in its framework's own words, read by ``convcalc.conventions.read``.

    ``padding`` is the framework's word ("same", "valid", "same_upper", "notset", ...) or explicit
    (before, after) pairs per spatial axis; ``output_padding`` / ``output_size`` are None when the
    model does not give them. ``arguments`` is how the file spells them, for display only. It stays
    beside the core's ``Layer`` (``layer``) because a framework's padding word ('same', 'same_upper')
    is resolved per input size, and the file's spelling, channels and bias are what inspect reports.
    """

    framework: str
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding
    in_channels: int
    out_channels: int
    groups: int = 1
    bias: bool = True
    output_padding: tuple[int, ...] | None = None
    output_size: tuple[int, ...] | None = None
    transpose_kernel: bool = False
    arguments: tuple[tuple[str, str], ...] = ()

    def reading(self) -> tuple[object, ...]:
        """What ``read`` depends on besides the size: two specs with one reading read every size alike."""
        return (
            self.framework,
            self.kernel_size,
            self.stride,
            self.dilation,
            self.padding,
            self.output_padding,
            self.output_size,
            self.transpose_kernel,
        )

    def read(self, size: tuple[int, ...], transposed: bool) -> FrameworkLayer:
        """The canonical layer for this input size: the framework's own rules, refusals included."""
        if self.framework == CONVCALC:
            return self._read_own(size, transposed)
        if len(size) == len(self.kernel_size) and min(size, default=0) >= 1:
            checked = _checked_args(self, transposed)
            if checked is not None:  # the arguments checked once; only the size is new
                return read_args(
                    self.framework,
                    LayerArgs(
                        tuple(size),
                        checked.kernel_size,
                        checked.stride,
                        checked.dilation,
                        checked.padding,
                        checked.output_padding,
                        checked.output_size,
                        checked.transposed,
                        checked.transpose_kernel,
                    ),
                )
        return read(self.framework, size, self.kernel_size, **self.keywords(transposed))

    def keywords(self, transposed: bool) -> dict[str, Any]:
        """The arguments besides size and kernel, as ``conventions.read`` and ``make_args`` take them."""
        return {
            "stride": self.stride,
            "dilation": self.dilation,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "output_size": self.output_size,
            "transposed": transposed,
            "transpose_kernel": self.transpose_kernel,
        }

    def _read_own(self, size: tuple[int, ...], transposed: bool) -> FrameworkLayer:
        """convcalc's own dialect: the core's ``normalize``, then its axes (the rules of `convcalc shape`).
        The size-independent arguments are normalised once per reading (``_own_params``)."""
        reading = (self.kernel_size, self.stride, self.dilation, self.padding, self.output_padding)
        params = _own_params((*reading, transposed, len(size)))
        args = LayerArgs(
            size,
            params.kernel_size,
            params.stride,
            params.dilation,
            params.pads_for(size),
            params.output_padding if transposed else None,
            transposed=transposed,
        )
        if transposed:
            return FrameworkLayer(CONVCALC, args, transposed=transposed_axes_for(size, params))
        return FrameworkLayer(CONVCALC, args, conv=conv_axes_for(size, params))

    def layer(self, size: tuple[int, ...], transposed: bool) -> Layer:
        """The core's canonical layer for this input size, with the model's groups and channels."""
        return self.read(size, transposed).layer._replace(
            groups=self.groups, in_channels=self.in_channels, out_channels=self.out_channels
        )


_CHECKED: dict[tuple[object, ...], LayerArgs | None] = {}


def _checked_args(spec: ConvSpec, transposed: bool) -> LayerArgs | None:
    """A framework layer's arguments as ``make_args`` checks them (at size 1 on each axis: its checks do
    not depend on the size), remembered per reading; None where it refuses them (the full ``read``
    then raises its error)."""
    key = (spec.reading(), transposed)
    if key in _CHECKED:
        return _CHECKED[key]
    found = None
    if spec.padding is not None:
        try:
            found = make_args((1,) * len(spec.kernel_size), spec.kernel_size, **spec.keywords(transposed))
        except ConvCalcError:
            found = None
    if len(_CHECKED) >= 4096:
        _CHECKED.clear()
    _CHECKED[key] = found
    return found


_OWN_PARAMS: dict[object, ConvParams] = {}


def _own_params(reading: tuple[object, ...]) -> ConvParams:
    """A convcalc-dialect layer's arguments normalised by the core (``normalize`` at size 1 on each of the
    input's axes: its checks do not depend on the size), remembered per reading; a refusal is raised
    every time."""
    found = _OWN_PARAMS.get(reading)
    if found is None:
        kernel_size, stride, dilation, padding, output_padding, transposed, ndim = reading
        _, found = normalize(
            (1,) * ndim,  # type: ignore[operator]
            kernel_size,
            stride=stride,
            padding=padding,
            output_padding=output_padding or 0,
            dilation=dilation,
            transposed=bool(transposed),
        )
        if len(_OWN_PARAMS) >= 4096:
            _OWN_PARAMS.clear()
        _OWN_PARAMS[reading] = found
    return found


class PoolSpec(NamedTuple):
    """A windowed pooling: ``padding`` is explicit pairs or a word ("same"/"valid" as Keras and TF,
    "same_upper"/"same_lower"/"valid"/"notset" as ONNX auto_pad); ``ceil_mode`` as PyTorch and ONNX.
    ``framework`` "onnx" applies ONNX Runtime's own arithmetic (C truncation, unclamped SAME pads);
    any other value the PyTorch / TensorFlow rules."""

    op: str
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: Padding
    dilation: tuple[int, ...] = ()
    ceil_mode: bool = False
    arguments: tuple[tuple[str, str], ...] = ()
    framework: str = ""


class ResizeSpec(NamedTuple):
    """Resize, one value per tensor axis (the full shape: 1 for batch and channels): exact ``scales``
    (output floor(i * scale), as ONNX Resize) or fixed ``sizes``. ``mode``: nearest, linear, cubic."""

    mode: str
    scales: tuple[Fraction, ...] | None = None
    sizes: tuple[int, ...] | None = None
    # ONNX Resize's coordinate_transformation_mode and nearest_mode, which say which inputs an output
    # reads (receptive fields); "" when the reader does not give them (fields then take the hull)
    coordinate_mode: str = ""
    nearest_mode: str = ""


class PadSpec(NamedTuple):
    """(before, after) per tensor axis (the full shape, batch and channels included); a negative amount
    removes elements (ONNX Pad with negative pads, Keras Cropping)."""

    pads: tuple[tuple[int, int], ...]
    mode: str = "constant"


class SliceSpec(NamedTuple):
    """Per tensor axis (full-shape index): (start, end, step) with python / ONNX clamping; None = open."""

    axes: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int | None, ...]
    steps: tuple[int, ...]


class ConcatSpec(NamedTuple):
    """Concatenation along full-shape ``axis`` (may be negative, counted from the end)."""

    axis: int


class BlockSpec(NamedTuple):
    """DepthToSpace / SpaceToDepth / PixelShuffle block size."""

    block_size: int


class FlattenSpec(NamedTuple):
    """ONNX Flatten: (prod(shape[:axis]), prod(shape[axis:])); nn.Flatten(1) is axis 1."""

    axis: int = 1


class ReshapeSpec(NamedTuple):
    """Target shape; 0 copies the input dimension (unless allow_zero) and one -1 is inferred."""

    shape: tuple[int, ...]
    allow_zero: bool = False


class DenseSpec(NamedTuple):
    """A matrix product on the last axis: in_features -> out_features (bias included when True)."""

    in_features: int
    out_features: int
    bias: bool = True


class ValueSpec(NamedTuple):
    """Integer shape arithmetic on small tensors: ``op`` is the ONNX operator (Shape, Gather, Slice,
    Concat, Unsqueeze, Squeeze, Add, Sub, Mul, Div, Mod, Cast, Range, ConstantOfShape, ...) and
    ``attributes`` its attributes as JSON values; ``convcalc.graph.values`` evaluates it."""

    op: str
    attributes: tuple[tuple[str, object], ...] = ()


class TransposeSpec(NamedTuple):
    """Output axis n is input axis ``perm[n]`` (ONNX Transpose, torch.permute)."""

    perm: tuple[int, ...]


class ExpandSpec(NamedTuple):
    """Broadcast the input to ``shape`` (ONNX Expand: a 1 in either keeps the other's size)."""

    shape: tuple[int, ...] = ()


class RecurrentSpec(NamedTuple):
    """LSTM / GRU / RNN over (seq, batch, input) (``batch_first``: (batch, seq, input)); outputs
    Y (seq, directions, batch, hidden) or its batch-first form, then the final states."""

    op: str
    hidden_size: int
    input_size: int
    directions: int = 1
    batch_first: bool = False


class UnknownSpec(NamedTuple):
    """An op convcalc does not model; ``declared`` holds the output shapes the framework itself inferred
    (ONNX shape inference, Keras config), one per output, or None where it gave none."""

    declared: tuple[tuple[Dim, ...] | None, ...] = ()


Spec = Union[
    ConvSpec,
    PoolSpec,
    ResizeSpec,
    PadSpec,
    SliceSpec,
    ConcatSpec,
    BlockSpec,
    FlattenSpec,
    ReshapeSpec,
    DenseSpec,
    ValueSpec,
    TransposeSpec,
    ExpandSpec,
    RecurrentSpec,
    UnknownSpec,
    None,
]

SPEC_OF_KIND: dict[str, type | None] = {
    "conv": ConvSpec,
    "conv_transpose": ConvSpec,
    "pool": PoolSpec,
    "global_pool": None,
    "resize": ResizeSpec,
    "pad": PadSpec,
    "slice": SliceSpec,
    "concat": ConcatSpec,
    "elementwise": None,
    "depth_to_space": BlockSpec,
    "space_to_depth": BlockSpec,
    "shape_preserving": None,
    "flatten": FlattenSpec,
    "reshape": ReshapeSpec,
    "dense": DenseSpec,
    "value": ValueSpec,
    "transpose": TransposeSpec,
    "expand": ExpandSpec,
    "matmul": None,
    "recurrent": RecurrentSpec,
    "unknown": UnknownSpec,
}


@dataclass(frozen=True)
class Node:
    """One operation: its path, the framework's op name, its kind, data tensors in and out, its spec."""

    name: str
    op: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    spec: Spec = None
    layout: str = CHANNELS_FIRST
    operands: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Graph:
    """A model: data inputs, constant operands, nodes in topological order, outputs; ``source`` names the
    file or object it came from and ``framework`` the reader ("onnx", "keras", "pytorch")."""

    source: str
    framework: str
    inputs: tuple[Tensor, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]
    constants: tuple[Tensor, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # Every trainable number of the model (PyTorch's sum of p.numel() over model.parameters(); an ONNX
    # file's floating-point initializers), when the reader can count them; None: the layers' own sum.
    parameters: int | None = None
    # The node where the framework itself refused this input when the reader ran the model (PyTorch by
    # execution): the graph ends there, and a run of it is a failure even where convcalc's rule only
    # flags the node (a merge whose operands disagree).
    refused_at: str | None = None
    rebuild: Callable[[tuple[tuple[int, ...], ...]], Graph] | None = field(
        default=None, compare=False, repr=False
    )

    def checked(self) -> Graph:
        check_graph(self)
        return self


def check_graph(graph: Graph) -> None:
    """The structural contract: known kinds with their specs, unique tensors, topological order."""
    defined = {t.name for t in graph.inputs} | {t.name for t in graph.constants}
    if len(defined) != len(graph.inputs) + len(graph.constants):
        raise ConvCalcError(f"{graph.source}: a tensor name is used twice among inputs and constants")
    for node in graph.nodes:
        where = f"{graph.source}: node {node.name!r} ({node.op})"
        if node.kind not in KINDS:
            raise ConvCalcError(f"{where}: kind must be one of {', '.join(KINDS)}; got {node.kind!r}")
        wanted = SPEC_OF_KIND[node.kind]
        mismatched = wanted is not None and not isinstance(node.spec, wanted)
        if (wanted is None) != (node.spec is None) or mismatched:
            name = "no spec" if wanted is None else wanted.__name__
            raise ConvCalcError(f"{where}: kind {node.kind!r} takes {name}; got {type(node.spec).__name__}")
        if node.layout not in LAYOUTS:
            raise ConvCalcError(f"{where}: layout must be one of {', '.join(LAYOUTS)}; got {node.layout!r}")
        for name in (*node.inputs, *(tensor for _, tensor in node.operands)):
            if name not in defined:
                raise ConvCalcError(
                    f"{where}: input {name!r} is not a graph input, a constant or an earlier node's output "
                    "(the graph has a cycle or a missing tensor)"
                )
        for name in node.outputs:
            if name in defined:
                raise ConvCalcError(f"{where}: output {name!r} is produced twice")
            defined.add(name)
    for name in graph.outputs:
        if name not in defined:
            raise ConvCalcError(f"{graph.source}: graph output {name!r} is produced by no node")
