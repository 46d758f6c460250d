"""Errors the API answers with: ``{"error": message, "status": code}``.

Mirrors Toxiproxy's sentinel table (api.go): each fixed message has one status, and
``joined`` adds detail after a colon (``bad request body: <decoder error>``). An error
with no status of its own (a failed bind, an unresolvable address) is a 500 carrying
Go's error text, because that is what clients of the real server see.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "bad_request_body",
    "invalid_stream",
    "invalid_toxic_type",
    "missing_field",
    "proxy_already_exists",
    "proxy_not_found",
    "toxic_already_exists",
    "toxic_not_found",
]


class ApiError(Exception):
    """An error reply: HTTP status ``status`` with body ``{"error": message, "status": status}``."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


def bad_request_body(detail: str) -> ApiError:
    return ApiError(f"bad request body: {detail}", 400)


def missing_field(detail: str) -> ApiError:
    return ApiError(f"missing required field: {detail}", 400)


def proxy_not_found() -> ApiError:
    return ApiError("proxy not found", 404)


def proxy_already_exists() -> ApiError:
    return ApiError("proxy already exists", 409)


def invalid_stream() -> ApiError:
    return ApiError("stream was invalid, can be either upstream or downstream", 400)


def invalid_toxic_type() -> ApiError:
    return ApiError("invalid toxic type", 400)


def toxic_already_exists() -> ApiError:
    return ApiError("toxic already exists", 409)


def toxic_not_found() -> ApiError:
    return ApiError("toxic not found", 404)
