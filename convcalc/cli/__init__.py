"""The command line: parse, call the features, pick a renderer, map errors to exit codes.

``app`` declares the application and the options shared by every layer command; importing the command
modules registers their commands on it. ``run`` is the console script.
"""

import gc

# Importing typer, click and the commands allocates tens of thousands of objects that all live until
# the process ends: a garbage collection while they are built finds nothing to free and costs about a
# tenth of `convcalc shape`'s start-up (benchmarks/cli_startup.py). Collection is paused for the
# import only; ``run`` also freezes these objects out of the collections the command triggers.
_collecting = gc.isenabled()
gc.disable()
try:
    from convcalc.cli import commands, diff_command, layer_commands
    from convcalc.cli.app import NumbersMayBeNegative, app, run
finally:
    if _collecting:
        gc.enable()

# --help lists the commands in the order a user meets them.
ORDER = ("shape", "explain", "solve", "port", "verify", "sweep", "chain", "inspect", "diff")
for _info in app.registered_commands:
    _info.cls = NumbersMayBeNegative  # `shape -5 -k 3`: -5 is the size, refused by name
app.registered_commands.sort(key=lambda info: ORDER.index(info.name or info.callback.__name__))  # type: ignore[union-attr]

__all__ = ["app", "commands", "diff_command", "layer_commands", "run"]
