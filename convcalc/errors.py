"""The one exception type for user mistakes (and its budget refusal), and the process exit codes."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every convcalc command."""

    OK = 0
    VERIFICATION_FAILED = 1
    INVALID_INPUT = 2
    # The reader closed the pipe (`convcalc ... | head`): 128 + SIGPIPE, as a shell reports it.
    CLOSED_PIPE = 141


class ConvCalcError(ValueError):
    """Raised for anything the user got wrong; the message names the parameter, the rule and the value."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class BudgetExceeded(ConvCalcError):
    """Raised when a request needs more work or memory than a named budget allows.

    ``budget`` names the limit (``"MAX_WORK"``), ``limit`` is its value and ``requested`` the amount the
    request needs, so that a caller decides on the budget, never on the message's text.

    >>> error = BudgetExceeded("too big", budget="MAX_WORK", limit=10, requested=12)
    >>> (error.budget, error.limit, error.requested, error.parameter, isinstance(error, ConvCalcError))
    ('MAX_WORK', 10, 12, 'size', True)
    """

    def __init__(
        self, message: str, *, budget: str, limit: int, requested: int, parameter: str | None = "size"
    ) -> None:
        super().__init__(message, parameter=parameter)
        self.budget = budget
        self.limit = limit
        self.requested = requested


NO_VALUE = object()


def keyword(name: str, value: object = NO_VALUE) -> str:
    """A parameter as the Python API spells it: ``kernel_size=``, ``kernel_size=3``, ``framework='jax'``."""
    return f"{name}=" if value is NO_VALUE else f"{name}={value!r}"


# How messages name a parameter: the Python API's keyword unless the command line, which spells its
# options (``--kernel-size (-k)``, ``--kernel-size 3``), sets its own for the command it runs.
SPELLING: ContextVar[Callable[[str, object], str]] = ContextVar("convcalc_spelling", default=keyword)


def option(name: str, value: object = NO_VALUE) -> str:
    """The parameter ``name`` (given ``value``, when there is one) as the user in front of us spells it.

    >>> option("kernel_size"), option("kernel_size", 3), option("transposed", True)
    ('kernel_size=', 'kernel_size=3', 'transposed=True')
    """
    return SPELLING.get()(name, value)
