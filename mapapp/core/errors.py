"""Domain errors: services raise them, one table turns them into HTTP answers and CLI messages."""

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on: a machine-readable code, a status and a human message."""

    code = "error"
    status = 400
    retry_after: int | None = None  # seconds; answers with 429 and 503 carry it as Retry-After

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """The error body every endpoint answers with: always code, message and details."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def headers(self) -> dict[str, str]:
        """The HTTP headers that go with the answer (Retry-After when the caller should come back)."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


# --- malformed requests, framework errors and faults (issue 8): every one in the shape above ---------


class InvalidRequest(DomainError):
    """A request that cannot be read: NUL or broken UTF-8 in the URL, a body that is not a JSON object (400);
    or parameters that fail validation (422, with the problems field by field as the details)."""

    code = "invalid_request"
    status = 400

    def __init__(self, message: str, *, problems: list[dict[str, str]] | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.problems = problems
        if problems is not None:
            self.status = 422

    def to_body(self) -> dict[str, Any]:
        """The usual body; for failed validation the details are the list of problems."""
        if self.problems is None:
            return super().to_body()
        return {"error": {"code": self.code, "message": self.message, "details": self.problems}}


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (down, restarting, refusing connections): come back shortly."""

    code = "database_unavailable"
    status = 503
    retry_after = 5


class Busy(DomainError):
    """The server is at a capacity limit (image decoding, database connections): come back in a moment."""

    code = "busy"
    status = 503
    retry_after = 5


class InternalError(DomainError):
    """A bug: the traceback goes to the log, never to the client."""

    code = "internal_error"
    status = 500
