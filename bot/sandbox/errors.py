"""Errors raised by the sandbox provider; its web edge turns each into a 4xx with its `code`."""

from __future__ import annotations


class SandboxError(Exception):
    """Base class of the sandbox provider's errors; `code` is the machine-readable reason."""

    code = "sandbox_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidInput(SandboxError):
    """Raised when a request's body, path or query is malformed; `code` names the problem."""

    code = "invalid_input"


class NotFound(SandboxError):
    """Raised when the customer, transaction or ticket asked for does not exist."""

    code = "not_found"


class CustomerNotFound(NotFound):
    """Raised when no customer has the given meter number or customer id."""

    code = "customer_not_found"


class TransactionNotFound(NotFound):
    """Raised when no transaction has the given reference."""

    code = "transaction_not_found"


class TicketNotFound(NotFound):
    """Raised when no complaint ticket has the given id."""

    code = "ticket_not_found"


class Conflict(SandboxError):
    """Raised when a well-formed request does not fit the state it addresses."""

    code = "conflict"


class NotPrepaid(Conflict):
    """Raised when a token is quoted or ordered for a postpaid customer."""

    code = "not_prepaid"


class NotPostpaid(Conflict):
    """Raised when a bill is asked for a prepaid customer, who has none."""

    code = "not_postpaid"


class TransactionExpired(Conflict):
    """Raised when an order is paid after its virtual account expired."""

    code = "transaction_expired"
