"""`convcalc port`: the target layer as code to paste, in the target framework's own API, with its fix.

The layer is written by the target's convention (``Convention.layer_code``, from the same spelled
arguments as the tables); here the fix goes around it: a pad or slice of the input before a
convolution, of the output after a transposed one.
"""

from __future__ import annotations

from convcalc.conventions import convention
from convcalc.conventions.code import LayerCode
from convcalc.port.translate import Translation


def _removed(t: Translation) -> list[tuple[int, int]]:
    """Elements the fix removes per axis: a transposed layer's positive crops of its output, a
    convolution's negative pads of its input."""
    sign = 1 if t.source.is_transposed else -1
    return [(max(sign * b, 0), max(sign * a, 0)) for b, a in t.fix]


def _slices(t: Translation, channels_last: bool) -> str | None:
    """The slice that removes the fix's elements, or None when nothing is removed."""
    removes = _removed(t)
    if all(r == (0, 0) for r in removes):
        return None
    parts = [f"{b or ''}:{-a if a else ''}" for b, a in removes]
    return f"[:, {', '.join(parts)}, :]" if channels_last else f"[..., {', '.join(parts)}]"


def _adds(t: Translation) -> list[tuple[int, int]] | None:
    """Zeros the fix adds per axis (after a transposed layer, before a convolution)."""
    sign = 1 if t.source.is_transposed else -1
    adds = [(max(-sign * b, 0), max(-sign * a, 0)) for b, a in t.fix]
    return None if all(a == (0, 0) for a in adds) else adds


def _layer_code(t: Translation) -> LayerCode:
    if t.channels is None:
        c_in, c_out, groups = "in_channels", "out_channels", 1
    else:
        c = t.channels
        c_in, c_out, groups = str(c.in_channels), str(c.out_channels), c.groups
    return LayerCode(
        ndim=t.target.args.ndim,
        transposed=t.source.is_transposed,
        arguments=t.arguments,
        output=t.target.output,
        in_channels=c_in,
        out_channels=c_out,
        groups=groups,
    )


def snippet(t: Translation) -> str:
    """Paste-ready code: the target layer, applied to ``x``, then the slice or pad that makes it exact."""
    target = convention(t.target.framework)
    transposed = t.source.is_transposed
    cut, adds = _slices(t, target.channels_last), _adds(t)
    lines: list[str] = []
    if not transposed and adds:
        lines.append(f"x = {target.pad_code('x', adds)}  # fix: zero padding")
    if not transposed and cut:
        lines.append(f"x = x{cut}  # fix: crop the input")
    lines += target.layer_code(_layer_code(t))
    if transposed:
        if cut:
            lines.append(f"y = y{cut}  # fix: crop the output")
        if adds:
            lines.append(f"y = {target.pad_code('y', adds)}  # fix: zero padding")
    if not target.fix_in_code and not t.exact:
        lines.append(
            f"# the fix, as a Slice/Pad node (ONNX) or Crop layer (Caffe): {'; '.join(t.fix_steps())}"
        )
    imports = target.code_import
    if "jnp." in "\n".join(lines):
        imports += "\nimport jax.numpy as jnp"
    return "\n".join([imports.strip(), *lines] if imports.strip() else lines)
