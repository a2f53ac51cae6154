"""Errors that services raise for views and the API to turn into responses."""


class ServiceError(Exception):
    """A request the domain refuses; ``fields`` maps field names to messages."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class BadInput(ServiceError):
    """A request no form could have sent (a NUL character in a field): 400."""

    status = 400
    code = "bad_request"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class SigningUnavailable(ServiceError):
    """The key or the time-stamping service cannot sign now (a token removed, a wrong PIN,
    the TSA down): nothing was issued, and the message names the cause."""

    status = 503
    code = "signing_unavailable"
