"""The command line: parse, call the features, pick a renderer, map errors to exit codes.

``app`` declares the application and the options shared by every layer command; importing the command
modules registers their commands on it. ``run`` is the console script.
"""

from convcalc.cli import commands, layer_commands
from convcalc.cli.app import app, run

__all__ = ["app", "commands", "layer_commands", "run"]
