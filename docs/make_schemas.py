"""Draft the JSON Schema of each command from real documents: `python docs/make_schemas.py`.

The schema states each key's JSON type (several where documents differ, e.g. null or a list), which keys
every document has, and the item types of lists. It is a starting point that is committed and reviewed;
tests/test_schemas.py validates fresh documents, from other arguments, against it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES: dict[str, list[list[str]]] = {
    "shape": [
        ["shape", "63", "-k", "4", "-s", "2", "-p", "1"],
        ["shape", "2", "-k", "2", "-s", "5", "-p", "2"],  # no twin: reversal.restored is null
        [
            "shape",
            "32x32",
            "-k",
            "3",
            "-s",
            "2",
            "-p",
            "1",
            "-t",
            "--in-channels",
            "4",
            "--out-channels",
            "2",
        ],
        ["shape", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "keras"],
        ["shape", "1", "-k", "1", "-s", "2", "-p", "0:1"],
        ["shape", "8", "-k", "3", "-s", "2", "-p", "same"],
        ["shape", "6", "-k", "2", "-s", "2", "-t", "-f", "tensorflow"],
    ],
    "explain": [
        ["explain", "4x4", "-k", "3"],
        ["explain", "3", "-k", "4", "-s", "3", "-t", "--section", "overlap"],
        ["explain", "40x40", "-k", "3", "-s", "2"],
        ["explain", "3", "-k", "3", "-s", "2", "-t"],
        ["explain", "3", "-k", "3", "-s", "2", "-t", "--section", "contributions,direct", "--layers", "2"],
    ],
    "solve": [
        ["solve", "32", "64"],
        ["solve", "64", "32"],
        ["solve", "2", "500"],
        ["solve", "5", "10", "-f", "keras", "--top", "2", "--verify"],
        ["solve", "23x40", "46x80", "--top", "3"],
    ],
    "port": [
        ["port", "16x16", "-k", "3", "-s", "2", "-p", "same", "-t", "--from", "keras", "--to", "pytorch"],
        [
            "port",
            "16",
            "-k",
            "3",
            "-s",
            "2",
            "-p",
            "1",
            "--from",
            "pytorch",
            "--to",
            "onnx",
            "--verify",
            "--in-channels",
            "4",
            "--out-channels",
            "2",
        ],
    ],
    "verify": [
        ["verify", "8", "-k", "3", "-s", "2"],
        ["verify", "5", "-k", "3", "-s", "2", "-p", "same", "-t", "-f", "keras"],
    ],
    "sweep": [["sweep", "--sizes", "1-3", "--kernel-sizes", "1-2", "--ndims", "1"]],
    "chain": [
        ["chain", "conv k3 s2 p1 | pool k2 | tconv k3 s2 p1 op1 | up2 | conv k3 p1", "63", "--range", "1:40"],
        ["chain", "conv k3 s2 p1 | tconv k3 s2 p1"],
        # strides of product 8192 > MAX_PERIOD: the given size answered, accepted sizes null with a note
        ["chain", " | ".join(["conv k3 s2 p1"] * 13 + ["tconv k3 s2 p1 op1"] * 13), "100"],
    ],
    "inspect": [
        ["inspect", "tests/data/keras/unet2d.keras", "--input", "1x16x16x1"],
        ["inspect", "tests/data/keras/unet2d.keras", "--input", "1x17x17x1", "--target", "tensorflow"],
        ["inspect", "tests/data/keras/residual_add.keras", "--input", "1x15x12x2"],
        ["inspect", "tests/data/keras/seq_conv2d.keras", "--input", "1x23x30x3", "--target", "onnx"],
        ["inspect", "tests/data/keras/two_inputs.keras", "--input", "1x16x16x1", "--input", "1x7x8x2"],
        ["inspect", "tests/data/keras/dcgan_generator.keras"],
        ["inspect", "tests/inspect_models.py:UNet", "--input", "1x3x65x64"],
        # Unmodelled ops on every input path: accepted sizes and receptive fields not worked out (null).
        ["inspect", "tests/data/tflite_h5/unet.tflite"],
    ],
    "error": [["shape", "3", "-k", "0"], ["shape"], ["solve", "3", "x"]],
}

TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def run(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc", *args, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def infer(values: list[Any]) -> dict[str, Any]:
    """The schema of every value in ``values`` at one place of the documents."""
    types = sorted(
        {
            "object" if isinstance(v, dict) else "array" if isinstance(v, list) else TYPES[type(v)]
            for v in values
        }
    )
    if types == ["null"]:
        return {}  # only ever null in the samples: no constraint rather than a guess
    out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    objects = [v for v in values if isinstance(v, dict)]
    if objects:
        keys = sorted(
            {k for o in objects for k in o}, key=lambda k: min(list(o).index(k) for o in objects if k in o)
        )
        out["properties"] = {k: infer([o[k] for o in objects if k in o]) for k in keys}
        out["required"] = [k for k in keys if all(k in o for o in objects)]
    items = [item for v in values if isinstance(v, list) for item in v]
    if items:
        out["items"] = infer(items)
    if "integer" in types and "number" in types:
        out["type"] = [t for t in types if t != "integer"]
    return out


def main() -> None:
    folder = ROOT / "convcalc" / "schemas"
    for command, samples in SAMPLES.items():
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"convcalc {command} --json" if command != "error" else "convcalc error object (--json)",
            **infer([run(args) for args in samples]),
        }
        (folder / f"{command}.schema.json").write_text(json.dumps(schema, indent=1) + "\n")


if __name__ == "__main__":
    main()
