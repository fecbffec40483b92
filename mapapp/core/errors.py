"""Domain errors: services raise them, one table turns them into HTTP answers and CLI messages."""

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on: a machine-readable code, a status and a human message."""

    code = "error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """The error body every endpoint answers with."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
