"""The one exception type for user mistakes, and the process exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every convcalc command."""

    OK = 0
    VERIFICATION_FAILED = 1
    INVALID_INPUT = 2


class ConvCalcError(ValueError):
    """Raised for anything the user got wrong; the message names the parameter, the rule and the value."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter
