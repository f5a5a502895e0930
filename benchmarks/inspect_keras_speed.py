"""Time of `convcalc inspect` on `.keras` files of 100 and 1000 layers, and the reading cost against json.

The models are U-Net-like Functional configs grown from the committed unet2d.keras (written by real
Keras 3.15.1): its encoder-decoder repeated in depth with Conv2D 'same' stacks, MaxPooling2D,
Conv2DTranspose k2 s2 'same' and Concatenate skips. Printed per model: reading the zip into a Graph
(`read_keras`: bounded zip checks, json, the walk) as a ratio to `json.loads` of the same config text
alone (the floor any reader pays), and the whole analysis (`inspect_graph`) at an odd size that breaks
the skips and at a good one. Target: read plus analysis of 100 layers at most 0.5 s, as for ONNX.
Run: python benchmarks/inspect_keras_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convcalc.inspect.analysis import inspect_graph
from convcalc.inspect.keras_reader import read_keras

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "keras"
TARGET_S = 0.5


def grow(levels: int, convs: int) -> dict[str, Any]:
    """A U-Net config of `levels` levels with `convs` Conv2D per stage, from unet2d's own layer entries."""
    with zipfile.ZipFile(DATA / "unet2d.keras") as archive:
        config = json.loads(archive.read("config.json"))
    by_class = {layer["class_name"]: layer for layer in config["config"]["layers"]}
    layers = [by_class["InputLayer"]]
    channels = {"image": 1}

    def add(cls: str, name: str, inputs: list[str], out_channels: int, **fields: Any) -> str:
        layer = copy.deepcopy(by_class[cls])
        layer["name"] = layer["config"]["name"] = name
        layer["config"].update(fields)
        tensors = [
            {
                "class_name": "__keras_tensor__",
                "config": {"shape": [None, None, None, channels[i]], "keras_history": [i, 0, 0]},
            }
            for i in inputs
        ]
        layer["inbound_nodes"] = [{"args": [tensors if cls == "Concatenate" else tensors[0]], "kwargs": {}}]
        layer["build_config"] = {"input_shape": [None, None, None, channels[inputs[0]]]}
        layers.append(layer)
        channels[name] = out_channels
        return name

    x, skips = "image", []
    for level in range(levels):
        for n in range(convs):
            x = add("Conv2D", f"down{level}_conv{n}", [x], 4, filters=4)
        skips.append(x)
        x = add("MaxPooling2D", f"down{level}_pool", [x], 4)
    for level in reversed(range(levels)):
        x = add("Conv2DTranspose", f"up{level}", [x], 4, filters=4)
        x = add("Concatenate", f"up{level}_skip", [x, skips[level]], 8)
        for n in range(convs):
            x = add("Conv2D", f"up{level}_conv{n}", [x], 4, filters=4)
    config["config"]["layers"] = layers
    config["config"]["output_layers"] = [x, 0, 0]
    return config


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        for levels, convs in ((4, 11), (4, 124)):
            config = grow(levels, convs)
            text = json.dumps(config).encode()
            path = Path(tmp) / f"unet{levels}x{convs}.keras"
            with zipfile.ZipFile(path, "w") as archive:  # stored, as Keras writes it
                archive.writestr("config.json", text)
            graph = read_keras(path)
            read = best(repeat, lambda p=path: read_keras(p))  # type: ignore[misc]
            parse = best(repeat, lambda t=text: json.loads(t))  # type: ignore[misc]
            side = 2**levels
            odd = best(repeat, lambda g=graph, s=side: inspect_graph(g, [(1, 8 * s + 1, 8 * s, 1)]))  # type: ignore[misc]
            good = best(repeat, lambda g=graph, s=side: inspect_graph(g, [(1, 8 * s, 8 * s, 1)]))  # type: ignore[misc]
            layers = len(config["config"]["layers"]) - 1
            print(
                f"{layers} layers, config {len(text) // 1024} KB: read {read:.3f} s "
                f"({read / parse:.1f}x json.loads alone {parse:.3f} s); analysis at an odd size {odd:.3f} s, "
                f"at a good size {good:.3f} s; read + analysis {read + max(odd, good):.3f} s "
                f"(target {TARGET_S} s for 100 layers)"
            )


if __name__ == "__main__":
    main()
