"""One JSON error shape for the whole API: {"error": code, "message": text}."""

from __future__ import annotations

from flask import jsonify


class ApiError(Exception):
    """Raised anywhere below a view; turned into a JSON error response by the app's handler."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


# HTTP statuses werkzeug raises on its own, with the code our clients see.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
}
