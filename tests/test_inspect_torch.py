"""The PyTorch path of `convcalc inspect`, witnessed by torch's own execution.

Every model runs in torch at several input sizes (odd and even). Forward hooks record the input and
output shape of every layer module; the traced graph run by torch.fx's Interpreter records every
functional node too (cat, add, pad, slicing, interpolate). The reader's graph propagated by convcalc
must give the same shape for every one of them, fail exactly when torch fails, and report a merge
mismatch exactly where torch.cat refuses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from typer.testing import CliRunner  # noqa: E402

from convcalc.cli import app  # noqa: E402
from convcalc.errors import ConvCalcError  # noqa: E402
from convcalc.graph.shapes import Run, propagate  # noqa: E402
from convcalc.inspect.torch_reader import inspect_module, load_target, read_module  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from corpus.witness import eager  # noqa: E402
from inspect_models import UNet, dcgan_discriminator, dcgan_generator, decoder_1d, pix2pix_generator  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """Tiny models: one torch thread is many times faster than several on a loaded machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check_against_torch(model: Any, shape: tuple[int, ...], analyse: bool = False) -> Run:
    """convcalc's shape for every layer and every function call equals eager torch's (CPU, hooks, by
    call site); convcalc fails or flags a merge exactly when torch refuses, at a node torch never
    produced, after every node torch did. With ``analyse``, the shapes are the ones the whole `inspect`
    analysis reports per layer (``inspect_module``), and its exit code agrees."""
    if analyse:
        report = inspect_module(model, shape)
        graph, run = report.graph, report.run
        rows = {row.name: row for row in report.layers}
    else:
        graph = read_module(model, shape, type(model).__name__)
        run, rows = propagate(graph, (shape,)), {}
    truth = eager(model, shape)
    by_name = {n.name: n for n in graph.nodes}
    for name, real in truth.layers.items():
        node = by_name.get(name)
        if node is None:
            continue  # a call on weights or constants only, or an item of a multi-output op
        assert run.shapes.get(node.outputs[0]) == real, (shape, name, real, run.shapes.get(node.outputs[0]))
        if analyse and name in rows:
            assert rows[name].output_shape == real, (shape, name)
    if truth.error is None:
        assert run.ok and not run.stopped, (shape, run.failure, [m.mismatch for m in run.mismatches])
        assert [run.shapes[name] for name in graph.outputs] == truth.outputs
    else:
        assert not run.ok or run.stopped, (shape, truth.error)
        first = run.failure.node if run.failure is not None else None
        if run.mismatches and (first is None or run.mismatches[0].index < run.failure.index):  # type: ignore[union-attr]
            first = run.mismatches[0].node
        first = first or run.stopped[0]
        assert first.name not in truth.layers, (shape, first.name, truth.error)
        index = graph.nodes.index(first)
        assert all(n.name in truth.layers for n in graph.nodes[:index] if n.name in by_name), shape
    if analyse:
        assert report.exit_code == (0 if truth.error is None else 1)
        assert [m.name for m in report.merges] == [m.node.name for m in run.mismatches]
    return run


# -- published models --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 100, 1, 1), (2, 100, 2, 3), (1, 100, 5, 4)])
def test_dcgan_generator(size: tuple[int, ...]) -> None:
    check_against_torch(dcgan_generator(), size, analyse=True)


@pytest.mark.parametrize("size", [64, 65, 63, 100, 16, 15])
def test_dcgan_discriminator(size: int) -> None:
    run = check_against_torch(dcgan_discriminator(), (1, 3, size, size), analyse=True)
    # below 64 the map before the last 4x4 convolution is smaller than 4 (63 -> 31 -> 15 -> 7 -> 3):
    # torch refuses it, convcalc names that layer
    assert (run.failure is not None) == (size < 64)


@pytest.mark.parametrize("hw", [(64, 64), (65, 64), (48, 50), (33, 33), (80, 96), (17, 16)])
def test_unet(hw: tuple[int, int]) -> None:
    run = check_against_torch(UNet(), (1, 3, *hw), analyse=True)
    # a skip connection disagrees exactly when a size is not a multiple of 16
    assert bool(run.mismatches) == any(s % 16 for s in hw)
    assert all(m.node.kind == "concat" for m in run.mismatches)


@pytest.mark.parametrize("hw", [(64, 64), (32, 32), (48, 64), (65, 64), (96, 40)])
def test_pix2pix(hw: tuple[int, int]) -> None:
    check_against_torch(pix2pix_generator(), (1, 3, *hw), analyse=True)


@pytest.mark.parametrize("length", [10, 11, 1, 2])
def test_decoder_1d(length: int) -> None:
    run = check_against_torch(decoder_1d(), (1, 8, length), analyse=True)
    assert run.ok


def test_transposed_layers_keep_pytorchs_own_arguments() -> None:
    graph = read_module(decoder_1d(), (1, 8, 10))
    spec = graph.nodes[4].spec
    assert graph.nodes[4].kind == "conv_transpose" and spec is not None
    assert (spec.framework, spec.padding, spec.output_padding) == ("pytorch", ((1, 1),), (1,))  # type: ignore[union-attr]


@pytest.mark.parametrize(("make", "period"), [(UNet, 16), (pix2pix_generator, 32)])
def test_accepted_sizes_are_the_sizes_torch_runs(make: Any, period: int) -> None:
    """The congruence the report gives for one axis, against torch run at every size from 1 to 2P+5:
    accepted (every merge agrees, no input dropped) is where torch runs and gives the input's own width
    back (pix2pix runs at 33 too, but its first convolution drops the last column: 32 out)."""
    model = make().eval()
    report = inspect_module(model, (1, 3, period, period))
    accepted = report.axes[1].accepted
    assert accepted is not None and (accepted.period, accepted.smallest) == (period, period)
    with torch.no_grad():
        for width in range(1, 2 * period + 6):
            try:
                whole = model(torch.zeros(1, 3, period, width)).shape[-1] == width
            except RuntimeError:
                whole = False
            assert whole == (width % period == 0), width


def test_a_classifier_head_through_view() -> None:
    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.AdaptiveAvgPool2d((2, 3)))
            self.fc = nn.Linear(24, 5)

        def forward(self, x: Any) -> Any:
            x = self.features(x)
            return self.fc(x.view(x.size(0), -1))

    graph = read_module(Head(), (2, 3, 9, 9))
    assert [n.kind for n in graph.nodes] == ["conv", "resize", "reshape", "dense"]
    for size in (9, 16, 3):
        check_against_torch(Head(), (2, 3, size, size))


# -- every layer kind the reader models, against torch ----------------------------------------------


class Zoo(nn.Module):
    """One of every layer the reader reads, in module and functional forms."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, dilation=1, padding_mode="reflect")
        self.same = nn.Conv2d(8, 8, (3, 5), padding="same", dilation=(2, 1), groups=2)
        self.valid = nn.Conv2d(8, 8, 2, padding="valid")
        self.up = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1, groups=4)
        self.up_dilated = nn.ConvTranspose2d(8, 4, 3, stride=3, padding=2, dilation=2, output_padding=2)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, ceil_mode=True)
        self.adaptive = nn.AdaptiveAvgPool2d((5, 7))
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.shuffle = nn.PixelShuffle(2)
        self.unshuffle = nn.PixelUnshuffle(2)
        self.crop = nn.ZeroPad2d((-1, 0, 1, -2))
        self.reflect = nn.ReflectionPad2d(1)
        self.norm = nn.BatchNorm2d(8)
        self.act = nn.LeakyReLU(0.2)
        self.head = nn.Linear(4 * 5 * 7, 3)

    def forward(self, x: Any) -> Any:
        y = self.act(self.norm(self.conv(x)))
        y = self.same(y) + y
        y = self.valid(F.pad(y, (0, 1, 1, 0)))
        y = self.pool(self.up(y))
        y = self.avg(y)
        y = self.unshuffle(self.shuffle(self.upsample(y)))[:, :8]
        y = self.reflect(self.crop(y))[..., 1:, ::2]
        y = F.interpolate(y, scale_factor=(2, 3))
        y = torch.cat([y, F.max_pool2d(y, 3, 1, 1), torch.relu(1 - y * 2)], dim=1)[:, 4:12]
        y = self.adaptive(self.up_dilated(y))
        return self.head(torch.flatten(y, 1))


class Zoo1d3d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(2, 4, 5, stride=3, padding=2)
        self.t1 = nn.ConvTranspose1d(4, 2, 4, stride=3, padding=1, output_padding=2)
        self.p1 = nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True)

    def forward(self, x: Any) -> Any:
        y = self.p1(self.t1(self.c1(x)))
        return F.interpolate(y, size=7, mode="linear") + F.adaptive_max_pool1d(y, 7)


class Zoo3d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv3d(1, 2, 3, stride=(1, 2, 2), padding=(1, 0, 1))
        self.t = nn.ConvTranspose3d(2, 2, 2, stride=2)
        self.p = nn.MaxPool3d(2, ceil_mode=True)

    def forward(self, x: Any) -> Any:
        return self.p(self.t(self.c(x))) * 2


@pytest.mark.parametrize("hw", [(16, 16), (17, 23), (31, 30), (9, 12)])
def test_every_2d_layer_kind(hw: tuple[int, int]) -> None:
    graph = read_module(Zoo(), (2, 3, *hw))
    kinds = {n.kind for n in graph.nodes}
    assert kinds >= {
        "conv",
        "conv_transpose",
        "pool",
        "resize",
        "pad",
        "slice",
        "concat",
        "elementwise",
        "depth_to_space",
        "space_to_depth",
        "shape_preserving",
        "flatten",
        "dense",
    }
    assert "unknown" not in kinds
    check_against_torch(Zoo(), (2, 3, *hw))


@pytest.mark.parametrize("length", [20, 21, 8])
def test_1d_layers(length: int) -> None:
    check_against_torch(Zoo1d3d(), (1, 2, length))


@pytest.mark.parametrize("dhw", [(4, 8, 8), (5, 7, 9)])
def test_3d_layers(dhw: tuple[int, int, int]) -> None:
    check_against_torch(Zoo3d(), (1, 1, *dhw))


EDGE_1D = {
    # PyTorch's 'same' with an even dilated kernel pads the odd element at the end
    "same_even": lambda: nn.Conv1d(1, 1, 4, padding="same", dilation=3, padding_mode="circular"),
    "replicate": lambda: nn.Conv1d(1, 1, 3, stride=2, padding=2, padding_mode="replicate"),
    # ceil_mode: the last window may start in the padding on the left only, never past the input
    "max_ceil": lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
    "avg_ceil": lambda: nn.AvgPool1d(2, stride=3, padding=1, ceil_mode=True),
    "lp_ceil": lambda: nn.LPPool1d(2, 3, stride=2, ceil_mode=True),
    "transposed": lambda: nn.ConvTranspose1d(1, 1, 5, stride=3, padding=4, output_padding=2, dilation=2),
    "upsample_size": lambda: nn.Upsample(size=9),
    "adaptive": lambda: nn.AdaptiveAvgPool1d(5),
    "crop": lambda: nn.ConstantPad1d((-2, 1), 0.5),
}


@pytest.mark.parametrize(
    ("layer", "length"),
    [(layer, n) for layer in sorted(EDGE_1D) for n in range(1, 14)],
)
def test_layer_edges_at_every_small_size(layer: str, length: int) -> None:
    """Every length from 1 to 13 through one layer: the same output, or the same refusal, as torch."""
    check_against_torch(nn.Sequential(EDGE_1D[layer]()), (1, 1, length))


class Scaled(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Any) -> Any:
        return F.interpolate(x, scale_factor=self.scale, mode="nearest")


@pytest.mark.parametrize("scale", [1.5, 0.5, 2.5, 3])
def test_interpolate_scale_factor(scale: float) -> None:
    for n in (1, 2, 5, 7, 10, 13):
        check_against_torch(Scaled(scale), (1, 1, n))
    notes = read_module(Scaled(scale), (1, 1, 4)).notes
    assert any("is not an integer" in note for note in notes) == (scale != int(scale))


class Residual(nn.Module):
    """A residual block whose main path (k2 s2) and shortcut (k1 s2) disagree on odd sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Conv2d(2, 2, 2, stride=2)
        self.shortcut = nn.Conv2d(2, 2, 1, stride=2)

    def forward(self, x: Any) -> Any:
        return torch.relu(self.main(x) + self.shortcut(x))


@pytest.mark.parametrize(
    ("hw", "mismatch"),
    # at 3x3 the main path gives 1x1, which broadcasts against the shortcut's 2x2: torch adds silently
    [((8, 8), False), ((9, 8), True), ((8, 11), True), ((2, 2), False), ((3, 3), False), ((5, 5), True)],
)
def test_an_elementwise_merge_mismatches_exactly_when_torch_refuses_the_add(
    hw: tuple[int, int], mismatch: bool
) -> None:
    run = check_against_torch(Residual(), (1, 2, *hw), analyse=True)
    assert bool(run.mismatches) == mismatch
    assert all(m.node.kind == "elementwise" for m in run.mismatches)


def test_functional_convolutions_read_their_weight() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(4, 3, 3, 3))
            self.wt = nn.Parameter(torch.zeros(4, 2, 4, 4))

        def forward(self, x: Any) -> Any:
            y = F.conv2d(x, self.w, None, 2, 1)
            return F.conv_transpose2d(y, self.wt, stride=2, padding=1, output_padding=1, groups=2)

    graph = read_module(Functional(), (1, 3, 9, 9))
    assert [n.kind for n in graph.nodes] == ["conv", "conv_transpose"]
    for size in (9, 10, 1):
        check_against_torch(Functional(), (1, 3, size, size))


def test_pooling_padding_over_half_the_kernel_is_refused_as_torch_refuses_it() -> None:
    model = nn.Sequential(nn.MaxPool2d(2, padding=2))
    with pytest.raises(
        ConvCalcError, match=r"0: pad should be at most half of kernel size.*pad=2, kernel_size=2"
    ):
        read_module(model, (1, 1, 8, 8))
    with pytest.raises(RuntimeError, match="pad should be"):
        model(torch.zeros(1, 1, 8, 8))


# -- what the graph cannot hold: sizes computed in forward, unknown ops, untraceable models -----------


class PadToMatch(nn.Module):
    """The up block of the widely used milesial/Pytorch-UNet: pad the upsampled map to the skip's size."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(2, 2, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(2, 2, 2, stride=2)

    def forward(self, x: Any) -> Any:
        y = self.up(self.down(x))
        dy, dx = x.size(2) - y.size(2), x.size()[3] - y.size()[3]
        y = F.pad(y, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return torch.cat([x, y], dim=1)


def test_arguments_computed_from_sizes_are_re_executed_for_accepted_sizes() -> None:
    """F.pad with amounts from the sizes: read at the given size as a pad, and since the amounts move
    with the input (checked by capturing again), the graph carries ``rebuild``. Witness: torch runs the
    model at every width from 1 to 20 and gives the input's width back, so every width is accepted."""
    graph = read_module(PadToMatch(), (1, 2, 15, 16))
    pad = next(n for n in graph.nodes if n.op == "pad")
    assert pad.kind == "pad" and graph.rebuild is not None
    run = check_against_torch(PadToMatch(), (1, 2, 15, 16))
    assert run.ok and run.shapes[graph.outputs[0]] == (1, 4, 15, 16)
    report = inspect_module(PadToMatch(), (1, 2, 15, 16))
    accepted = report.axes[1].accepted
    assert report.exit_code == 0 and accepted is not None
    for width in range(1, 21):
        runs = tuple(PadToMatch()(torch.zeros(1, 2, 15, width)).shape) == (1, 4, 15, width)
        assert accepted.contains(width) == runs, width


def test_output_size_in_forward() -> None:
    class Fixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)

        def forward(self, x: Any) -> Any:
            return self.up(x, output_size=[1, 1, 10, 9])

    graph = read_module(Fixed(), (1, 1, 5, 5))
    spec = graph.nodes[0].spec
    assert spec is not None and spec.output_size == (10, 9)  # type: ignore[union-attr]
    check_against_torch(Fixed(), (1, 1, 5, 5))
    run = check_against_torch(
        Fixed(), (1, 1, 7, 5)
    )  # 10 is outside [13, 14]: torch refuses, so does convcalc
    assert run.failure is not None and "valid sizes range" in run.failure.message


def test_unknown_ops_are_named_and_carry_torchs_shape() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: Any) -> Any:
            return torch.rot90(self.conv(torch.roll(x, 1, 2)), 1, (2, 3))

    graph = read_module(Odd(), (1, 3, 10, 12))
    unknown = [n for n in graph.nodes if n.kind == "unknown"]
    assert [(n.op, n.spec.declared) for n in unknown] == [  # type: ignore[union-attr]
        ("roll", ((1, 3, 10, 12),)),
        ("rot90", ((1, 4, 10, 8),)),
    ]
    check_against_torch(Odd(), (1, 3, 10, 12))


class Mixed(nn.Module):
    """Parameters read as data, a functional norm sized from the input, a tuple-valued op."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, 4, 1, 1))
        self.token = nn.Parameter(torch.zeros(1, 2, 1, 1))
        self.scale = nn.Parameter(torch.ones(4))
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: Any) -> Any:
        y = self.conv(x) + self.bias
        y = F.layer_norm(y.transpose(1, 3), y.transpose(1, 3).shape[-1:], self.scale).transpose(1, 3)
        a, b = torch.chunk(y, 2, dim=1)
        y = torch.cat([a, b * x.size(0), self.token.expand(-1, -1, a.size(2), a.size(3))], dim=1)
        return F.group_norm(y, 2)


def test_parameters_tuples_and_sizes() -> None:
    graph = read_module(Mixed(), (1, 3, 7, 6))
    # read as data: bias (added) and the token expanded to the map's size (a constant made in forward,
    # whose size follows the input: the graph is rebuilt at other sizes); the conv weight and the
    # norm's scale are not
    assert {t.name: t.shape for t in graph.constants} == {"bias": (1, 4, 1, 1), "constant": (1, 2, 7, 6)}
    assert graph.rebuild is not None
    kinds = {n.name: n.kind for n in graph.nodes}
    assert kinds["add"] == "elementwise" and kinds["layer_norm"] == "shape_preserving"
    # chunk returns a tuple: each item is a slice of chunk's input
    items = [n for n in graph.nodes if n.op.startswith("chunk")]
    assert [(n.op, n.kind, n.inputs) for n in items] == [
        ("chunk[0]", "slice", ("transpose#3",)),
        ("chunk[1]", "slice", ("transpose#3",)),
    ]
    assert kinds["mul"] == "shape_preserving"  # times a size read in forward: a scalar
    assert kinds["cat"] == "concat" and kinds["group_norm"] == "shape_preserving"
    for hw in ((7, 6), (1, 1), (12, 5)):
        check_against_torch(Mixed(), (1, 3, *hw))
    # at batch 2 the token (batch 1) does not concatenate: torch refuses, convcalc flags that cat
    assert [m.node.name for m in check_against_torch(Mixed(), (2, 3, 7, 6)).mismatches] == ["cat"]


def test_defaulted_forward_arguments_keep_their_default() -> None:
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3)

        def forward(self, x: Any, scale: float = 2.0, skip: bool = False) -> Any:
            return x if skip else self.conv(x) * scale

    graph = read_module(Scaled(), (1, 3, 8, 8))
    assert [(n.op, n.kind) for n in graph.nodes] == [("Conv2d", "conv"), ("mul", "shape_preserving")]
    check_against_torch(Scaled(), (1, 3, 8, 8))


def test_control_flow_on_sizes_reads_what_runs() -> None:
    """torch.fx refused this model; execution reads the branch that runs at each size."""

    class Branchy(nn.Module):
        def forward(self, x: Any) -> Any:
            return x[:, :, 1:] if x.size(2) % 2 else x

    odd = read_module(Branchy(), (1, 1, 5, 5), "Branchy")
    assert [n.kind for n in odd.nodes] == ["slice"] and odd.rebuild is not None
    assert read_module(Branchy(), (1, 1, 6, 5), "Branchy").nodes == ()
    for size in (5, 6, 1):
        check_against_torch(Branchy(), (1, 1, size, 5))


def test_bad_arguments_to_read_module() -> None:
    with pytest.raises(ConvCalcError, match=r"expected a torch\.nn\.Module; got int"):
        read_module(3, (1, 1))
    with pytest.raises(ConvCalcError, match=r"input must be a full shape .* got \(1, 0, 4\)"):
        read_module(nn.Identity(), (1, 0, 4))

    class Two(nn.Module):
        def forward(self, a: Any, b: Any) -> Any:
            return a + b

    with pytest.raises(ConvCalcError, match=r"takes 2 tensor inputs \(a, b\)"):
        read_module(Two(), (1, 1, 4))


def test_without_torch_the_message_gives_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "net.py"
    path.write_text("import torch\n\ndef make():\n    return torch.nn.Identity()\n")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(
        ConvCalcError,
        match=r'reading PyTorch models needs torch; install it with: pip install "convcalc\[torch\]"',
    ):
        load_target(f"{path}:make")
    with pytest.raises(ConvCalcError, match=r"needs torch"):
        read_module(object(), (1, 1))


def test_an_input_that_does_not_fit_the_first_layer() -> None:
    with pytest.raises(
        ConvCalcError,
        match=r"the input shape 1x3x64 has rank 3; UNet's layer 'inc.0' \(Conv2d\) reads rank 4",
    ):
        read_module(UNet(), (1, 3, 64), "UNet")
    with pytest.raises(
        ConvCalcError,
        match=r"the input shape 1x4x64x64 has 4 channels; UNet's layer 'inc.0' \(Conv2d\) reads 3",
    ):
        read_module(UNet(), (1, 4, 64, 64), "UNet")


def test_the_notebook_api_gives_the_whole_report() -> None:
    report = inspect_module(UNet(), (1, 3, 65, 64))
    assert report.headline().startswith("2 findings: 1 skip mismatch at 65x64")
    assert [m.name for m in report.merges] == ["cat#4"]
    accepted = report.axes[0].accepted
    assert accepted is not None and (accepted.period, accepted.smallest) == (16, 16)
    fixed = inspect_module(UNet(), (1, 3, 64, 64))
    assert fixed.exit_code == 0 and not fixed.merges


# -- loading user code -------------------------------------------------------------------------------

MODEL_FILE = """
import torch.nn as nn
from helper import WIDTH  # a sibling module, found as `python model.py` would find it

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(3, WIDTH, 4, stride=2, padding=1)

    def forward(self, x):
        return self.up(x)

def make():
    return Net()

instance = Net()

def needs_arguments(width):
    return Net()

def broken():
    raise RuntimeError("no weights here")

def not_a_module():
    return 42
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    (tmp_path / "helper.py").write_text("WIDTH = 5\n")
    path = tmp_path / "model.py"
    path.write_text(MODEL_FILE)
    return path


@pytest.mark.parametrize("attr", ["make", "Net", "instance"])
def test_load_a_factory_a_class_or_an_instance(model_file: Path, attr: str) -> None:
    module = load_target(f"{model_file}:{attr}")
    assert isinstance(module, nn.Module) and type(module).__name__ == "Net"
    graph = read_module(module, (1, 3, 8, 8))
    assert graph.nodes[0].kind == "conv_transpose" and propagate(graph, ((1, 3, 8, 8),)).shapes["up"] == (
        1,
        5,
        16,
        16,
    )


def test_load_an_importable_module(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(model_file.parent))
    assert type(load_target("model:make")).__name__ == "Net"


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("missing.py:make", r"missing.py: no such Python file"),
        ("model.py:nothing", r"model.py: has no attribute 'nothing'"),
        (
            "model.py:broken",
            r"model.py:broken: calling broken\(\) raised RuntimeError: no weights here \(line 2[0-9]\)",
        ),
        ("model.py:needs_arguments", r"calling needs_arguments\(\) raised TypeError.*zero-argument factory"),
        ("model.py:not_a_module", r"not_a_module\(\) returned a int, not a torch.nn.Module"),
        ("model.py", r"model must be path/to/file.py:factory or package.module:attr"),
    ],
)
def test_bad_targets_name_the_file_and_the_problem(model_file: Path, suffix: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=message):
        load_target(str(model_file.parent / suffix))


def test_a_file_that_raises_on_import(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("import torch\n\nx = 1\nraise ImportError('needs a GPU')\n")
    with pytest.raises(
        ConvCalcError, match=r"bad.py: importing the file raised ImportError: needs a GPU \(line 4\)"
    ):
        load_target(f"{path}:make")
    path.write_text("def (:\n")
    with pytest.raises(ConvCalcError, match=r"bad.py: importing the file raised SyntaxError"):
        load_target(f"{path}:make")
    path.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ConvCalcError, match=r"bad.py: importing the file raised SystemExit"):
        load_target(f"{path}:make")


def test_a_missing_module() -> None:
    with pytest.raises(
        ConvCalcError, match=r"no_such_package_xyz.models: no module named 'no_such_package_xyz'"
    ):
        load_target("no_such_package_xyz.models:make")


runner = CliRunner()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("{dir}/missing.py:make", "missing.py: no such Python file"),
        ("{dir}/model.py:broken", "model.py:broken: calling broken() raised RuntimeError: no weights here"),
        ("{dir}/model.py:nothing", "model.py: has no attribute 'nothing'"),
    ],
)
def test_cli_bad_models_exit_2_with_one_message(model_file: Path, model: str, message: str) -> None:
    target = model.format(dir=model_file.parent)
    result = runner.invoke(app, ["inspect", target, "--input", "1x3x8x8"])
    assert result.exit_code == 2 and message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and result.stdout == ""
    result = runner.invoke(app, ["inspect", target, "--input", "1x3x8x8", "--json"])
    document = json.loads(result.stdout)
    assert result.exit_code == 2 and message in document["error"]["message"]
    assert document["error"]["parameter"] == "model"


def test_cli_input_of_the_wrong_rank_exits_2(model_file: Path) -> None:
    result = runner.invoke(app, ["inspect", f"{model_file}:make", "--input", "1x3x8"])
    assert result.exit_code == 2 and "has rank 3" in result.stderr and "Traceback" not in result.stderr


UNET_FILE = """
import sys
sys.path.insert(0, {tests!r})
from inspect_models import UNet

def make():
    return UNet()
"""


def test_cli_runs_a_python_file_in_a_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "unet_model.py"
    path.write_text(UNET_FILE.format(tests=str(Path(__file__).parent)))
    odd = subprocess.run(
        [sys.executable, "-m", "convcalc", "inspect", f"{path}:make", "--input", "1x3x65x64", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert odd.returncode == 1, odd.stderr
    document = json.loads(odd.stdout)
    assert document["exit_code"] == 1 and [m["node"] for m in document["merges"]] == ["cat#4"]
    layers = {row["name"]: row for row in document["layers"]}
    # torch's own run of the same module at this size: the layer before the failing cat
    truth = eager(UNet(), (1, 3, 65, 64))
    assert truth.error is not None and layers["ups.3"]["output_shape"] == list(truth.layers["ups.3"])


def test_the_table_hides_pytorchs_defaults_as_torchs_own_repr_does() -> None:
    """Witness: nn.Conv*'s extra_repr, which prints padding, dilation, output_padding, groups and
    padding_mode only when they differ from their defaults (stride it always prints: hidden here at 1)."""
    from convcalc.inspect.render import _compact

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.Conv2d(8, 8, 3, padding=1, stride=(2, 1)),
        nn.ConvTranspose2d(8, 4, 4, 2, 1, output_padding=1),
        nn.Conv2d(4, 4, 3, dilation=2, groups=2, padding=2, padding_mode="reflect"),
    )
    report = inspect_module(model, (1, 3, 33, 33))
    convs = [m for m in model if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    rows = [r for r in report.layers if r.kind in ("conv", "conv_transpose")]
    assert len(rows) == len(convs)
    for module, row in zip(convs, rows):
        shown = {word.partition("=")[0] for word in _compact(row.arguments, "pytorch").split()}
        torch_shows = {part.split("=")[0].strip() for part in module.extra_repr().split(",") if "=" in part}
        for name in ("padding", "dilation", "output_padding", "groups", "padding_mode"):
            assert (name in shown) == (name in torch_shows), (module, name, shown)
        assert ("stride" in shown) == (module.stride != (1, 1))
    pool = next(r for r in inspect_module(nn.MaxPool2d(2), (1, 1, 8, 8)).layers if r.kind == "pool")
    assert _compact(pool.arguments, "pytorch", pool=True) == "kernel_size=2"  # stride=None means the window


def test_the_receptive_field_through_a_pad_computed_in_forward_is_torchs() -> None:
    """PadToMatch's F.pad (amounts computed in forward) is read at the given size, so the field of the
    cat it feeds is known. Witness: torch's gradients, widest over the outputs (the report once said
    1x1, the field of the skip operand alone)."""
    shape = (1, 2, 15, 16)
    module = PadToMatch().eval()
    x = torch.randn(shape, requires_grad=True)
    y = module(x)
    widest = 0
    for j in range(min(y.shape[2:])):
        (gradient,) = torch.autograd.grad(y[0, 3, j, j], x, retain_graph=True)
        rows = (gradient.abs().sum(dim=(0, 1, 3)) != 0).nonzero().flatten()
        widest = max(widest, int(rows.max() - rows.min() + 1))
    assert widest > 1
    report = inspect_module(module, shape)
    assert report.fields[0][0] == "cat" and report.fields[0][1][0] == widest
    text = runner.invoke(app, ["inspect", f"{Path(__file__)}:PadToMatch", "--input", "1x2x15x16"]).stdout
    assert "cat: 1x1" not in text


def test_input_given_twice_for_a_one_input_module_is_refused_before_the_file_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = tmp_path / "model.py"
    source.write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n"
        "import torch.nn as nn\nmake = lambda: nn.Conv2d(1, 1, 3)\n"
    )
    done = runner.invoke(app, ["inspect", f"{source}:make", "--input", "1x1x8x8", "--input", "1x1x9x9"])
    assert done.exit_code == 2
    assert "--input gives 2 shapes" in done.stderr and "so give one shape" in done.stderr
    assert "Traceback" not in done.output and not marker.exists()
    assert runner.invoke(app, ["inspect", f"{source}:make", "--input", "1x1x8x8"]).exit_code == 0


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_arguments_with_numbers_are_never_folded(columns: int) -> None:
    import io

    from rich.console import Console

    from convcalc.inspect.render import _compact, inspect_view

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ConvTranspose2d(8, 4, 4, 2, 1, output_padding=1),
        nn.Conv2d(4, 4, 3, dilation=2, groups=2, padding=2),
    )
    report = inspect_module(model, (1, 3, 17, 17))
    console = Console(width=columns, file=io.StringIO(), record=True)
    console.print(inspect_view(report))
    text = console.export_text()
    assert all(len(line) <= columns for line in text.splitlines())
    words = [
        w for row in report.layers for w in _compact(row.arguments, "pytorch", row.kind == "pool").split()
    ]
    assert "output_padding=1x1" in words
    for word in words:
        assert word in text, (columns, word)


class RepeatChannels(nn.Module):
    """torch.repeat_interleave with a tensor of repeats: its output size depends on the data."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 2, 3)
        self.d = nn.Conv2d(3, 2, 3)

    def forward(self, x: Any) -> Any:
        y = torch.repeat_interleave(self.c(x), torch.tensor([1, 2]), dim=1)
        return self.d(y)


def test_shapes_stop_at_an_op_torch_gives_no_meta_shape_for_and_the_exit_code_is_1() -> None:
    module = RepeatChannels().eval()
    assert tuple(module(torch.zeros(1, 1, 9, 9)).shape) == (1, 2, 5, 5)  # torch runs it
    report = inspect_module(module, (1, 1, 9, 9))
    conv = next(r for r in report.layers if r.op == "Conv2d")
    assert conv.output_shape == tuple(
        module.c(torch.zeros(1, 1, 9, 9)).shape
    )  # torch's shape, up to the stop
    assert report.headline().startswith("1 finding: shapes stop at layer repeat_interleave (unknown op ")
    stopped = [f for f in report.findings if f.kind == "stopped"]
    assert len(stopped) == 1 and "PyTorch's repeat_interleave and torch could not" in stopped[0].message
    assert "onnx" not in stopped[0].message.lower() and int(report.exit_code) == 1 and not report.runs
