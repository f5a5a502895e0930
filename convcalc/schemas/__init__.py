"""JSON Schemas (draft 2020-12) of every command's `--json` document, shipped with the package.

`schema("shape")` returns the schema of `convcalc shape --json`; `schema("error")` that of the error
object every command prints with `--json` on invalid input or a usage error.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

COMMANDS = ("shape", "explain", "solve", "port", "verify", "sweep", "chain", "inspect", "diff", "error")


def schema(command: str) -> dict[str, Any]:
    """The JSON Schema of one command's document."""
    if command not in COMMANDS:
        raise ValueError(f"no schema for {command!r}; known: {', '.join(COMMANDS)}")
    text = resources.files(__name__).joinpath(f"{command}.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
