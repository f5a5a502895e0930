"""Time and memory of `convcalc inspect file.py:factory` (the PyTorch route, executed on the meta device).

Each measurement runs in a fresh subprocess so that imports are counted apart:
* import torch (the floor every PyTorch tool pays), then torch's first meta-device op (torch loads its
  meta kernels and sympy on first use: paid once per process by any meta or fake-tensor tool);
* a model of 200 modules (a U-Net of Conv2d / BatchNorm2d / ReLU blocks with pooling, transposed
  convolutions and skip concatenations): read_module (capture at the given size plus the captures that
  test the graph at other sizes) and the whole report (inspect_module), at a size that runs and at an
  odd size that breaks a skip. Target: at most 1 s beyond the imports (TARGET_S).
* a model of 1.0e9 parameters (Linear and Conv2d layers) built by its factory under the meta device:
  peak resident memory of the whole `convcalc inspect` process, against `import torch` alone. Target:
  under 1 GB (TARGET_BYTES).
Run: python benchmarks/inspect_torch_speed.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

TARGET_S = 1.0
TARGET_BYTES = 1 << 30

MODELS = '''
import torch
from torch import nn


def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
    )


class UNet200(nn.Module):
    """4 levels, 6 blocks per level on the way down, one on the way up: 6 modules a block, 200 in all."""

    def __init__(self, width=8, levels=4, repeat=6):
        super().__init__()
        widths = [width * 2**n for n in range(levels + 1)]
        self.stem = nn.Conv2d(3, widths[0], 3, padding=1)
        self.down = nn.ModuleList(
            nn.Sequential(*[block(widths[n], widths[n]) for _ in range(repeat)]) for n in range(levels)
        )
        self.pool = nn.MaxPool2d(2)
        self.widen = nn.ModuleList(nn.Conv2d(widths[n], widths[n + 1], 1) for n in range(levels))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[n + 1], widths[n], 2, stride=2) for n in range(levels)
        )
        self.fuse = nn.ModuleList(block(2 * widths[n], widths[n]) for n in range(levels))
        self.head = nn.Conv2d(widths[0], 2, 1)

    def forward(self, x):
        x = self.stem(x)
        skips = []
        for n, down in enumerate(self.down):
            x = down(x)
            skips.append(x)
            x = self.widen[n](self.pool(x))
        for n in reversed(range(len(self.up))):
            x = self.fuse[n](torch.cat([skips[n], self.up[n](x)], dim=1))
        return self.head(x)


def unet200():
    return UNet200()


def billion():
    """1.0e9 parameters: 15 Linear(8192, 8192) and 4 Conv2d(1024, 1024, 3x3)."""
    layers = [nn.Conv2d(1024, 1024, 3, padding=1) for _ in range(4)]
    dense = [nn.Linear(8192, 8192) for _ in range(15)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 8192), *dense)
'''

TIMING = """
import json, sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
meta = torch.empty(1, 1, 4, 4, device="meta")
torch.nn.functional.conv2d(meta, torch.empty(1, 1, 3, 3, device="meta"))
t2 = time.perf_counter()
torch.set_num_threads(1)
from convcalc.inspect.torch_reader import inspect_module, load_target, read_module
t3 = time.perf_counter()
model = load_target(sys.argv[1] + ":unet200")
modules = sum(1 for _ in model.modules())
t4 = time.perf_counter()
out = {"import torch": t1 - t0, "first meta op": t2 - t1, "import convcalc": t3 - t2}
out.update({"build": t4 - t3, "modules": modules})
model.eval()
with torch.no_grad():
    model(torch.empty(1, 3, 64, 64, device="meta"))
    a = time.perf_counter()
    model(torch.empty(1, 3, 64, 64, device="meta"))
    out["plain meta forward"] = time.perf_counter() - a
from convcalc.inspect.torch_capture import Capture
capture = Capture(torch, model, "unet200")
a = time.perf_counter()
capture.run((1, 3, 64, 64))
out["one capture"] = time.perf_counter() - a
for size in (64, 65):
    a = time.perf_counter()
    graph = read_module(model, (1, 3, size, size))
    b = time.perf_counter()
    report = inspect_module(model, (1, 3, size, size))
    c = time.perf_counter()
    out[f"read {size}"] = b - a
    out[f"report {size}"] = c - b
    out[f"nodes {size}"] = len(graph.nodes)
    out[f"exit {size}"] = int(report.exit_code)
print(json.dumps(out))
"""

MEMORY = """
import json, resource, sys
mode = sys.argv[2]
if mode == "torch":
    import torch
    meta = torch.empty(1, 1, 4, 4, device="meta")
    torch.nn.functional.conv2d(meta, torch.empty(1, 1, 3, 3, device="meta"))
else:
    from convcalc.inspect import inspect_model
    report = inspect_model(sys.argv[1] + ":billion", [(1, 1024, 64, 64)])
    params = sum(row.parameters or 0 for row in report.layers)
    print(json.dumps({"parameters": params, "exit": int(report.exit_code)}), file=sys.stderr)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def run(script: str, *args: str) -> str:
    command = [sys.executable, "-c", script, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout.strip() + ("\n" + done.stderr.strip() if done.stderr.strip() else "")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        models = Path(folder) / "models.py"
        models.write_text(textwrap.dedent(MODELS))
        timing = json.loads(run(TIMING, str(models)).splitlines()[0])
        print(
            f"import torch {timing['import torch']:.2f} s; torch's first meta op "
            f"{timing['first meta op']:.2f} s "
            f"(once per process); import convcalc's reader {timing['import convcalc']:.2f} s"
        )
        print(f"model: {timing['modules']} modules, built on meta in {timing['build']:.3f} s")
        plain, one = timing["plain meta forward"], timing["one capture"]
        print(
            f"  one forward on meta {plain:.3f} s (torch's own floor); one capture {one:.3f} s = "
            f"{one / plain:.2f} x the forward"
        )
        for size in (64, 65):
            read, report = timing[f"read {size}"], timing[f"report {size}"]
            print(
                f"  {size}x{size}: {timing[f'nodes {size}']} nodes, exit {timing[f'exit {size}']}: "
                f"read {read:.2f} s, whole report {report:.2f} s = {report / TARGET_S:.2f} x the "
                f"{TARGET_S:.0f} s target"
            )
        base = int(run(MEMORY, str(models), "torch").splitlines()[0])
        lines = run(MEMORY, str(models), "model").splitlines()
        peak, detail = int(lines[0]), json.loads(lines[1])
        print(
            f"1e9-parameter model ({detail['parameters']:,} parameters, exit {detail['exit']}): peak RSS "
            f"{peak / 2**20:.0f} MiB = {peak / TARGET_BYTES:.2f} x the 1 GiB target "
            f"(import torch and one meta op alone: {base / 2**20:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
