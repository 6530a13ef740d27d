"""Pairing a browser: a request the reader approves, or a one-time code the reader types.

Tokens and codes are stored hashed; a token is shown once, to the browser that collects it.
"""

from __future__ import annotations

import secrets

from .security import hash_secret, new_token

CODE_DIGITS = 6
CODE_MINUTES = 10


class PairingError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        return "Browser"
    return " ".join(name.split())[:80]


def request_pairing(store, name: str, origin: str | None) -> dict:
    poll = secrets.token_urlsafe(24)
    request_id = store.insert_pair_request(clean_name(name), origin, hash_secret(poll))
    return {"status": "pending", "request_id": request_id, "poll": poll}


def poll_pairing(store, request_id, poll) -> dict:
    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        raise PairingError(400, "bad_request", "request_id must be a number") from None
    req = store.pair_request(request_id)
    if req is None or not isinstance(poll, str) or not secrets.compare_digest(hash_secret(poll), req["poll_hash"]):
        raise PairingError(404, "not_found", "No such pairing request.")
    if req["status"] == "pending":
        return {"status": "pending"}
    if req["status"] == "refused":
        raise PairingError(403, "pair_refused", "The pairing request was refused in Crosscurrent.")
    if req["status"] == "collected":
        raise PairingError(404, "not_found", "This pairing request was already used; ask again.")
    token = new_token()
    if store.collect_pair_request(request_id, hash_secret(token)) is None:
        raise PairingError(404, "not_found", "This pairing request was already used; ask again.")
    return {"status": "approved", "token": token}


def new_code(store) -> str:
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    store.insert_pair_code(hash_secret(code), minutes=CODE_MINUTES)
    return code


def redeem_code(store, code, name: str, origin: str | None) -> dict:
    digits = "".join(ch for ch in str(code) if ch.isdigit()) if isinstance(code, (str, int)) else ""
    token = new_token()
    if len(digits) != CODE_DIGITS or store.redeem_pair_code(hash_secret(digits), clean_name(name), origin,
                                                            hash_secret(token)) is None:
        raise PairingError(403, "bad_code", "That code is wrong or has expired: ask Crosscurrent for a new one.")
    return {"status": "approved", "token": token}
