"""Pairing a browser: a request the reader approves, or a one-time code the reader types.

Tokens and codes are stored hashed; a token is shown once, to the browser that collects it. A code can
be guessed only a few times: after CODE_MOST_FAILURES wrong codes the live code is burnt and redemption
locked for CODE_LOCK_MINUTES (a new code from the reader lifts the lock). Only one code lives at a time,
and only a few requests may wait, each for REQUEST_MINUTES.
"""

from __future__ import annotations

import secrets

from .security import hash_secret, new_token

CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_MOST_FAILURES = 5
CODE_LOCK_MINUTES = 15
REQUEST_MINUTES = 10
REQUESTS_WAITING = 5
MAX_ID = 2**63 - 1


class PairingError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        return "Browser"
    # Lone surrogates and control characters cannot be stored or shown: they become spaces.
    name = "".join(" " if ch < " " or "\ud800" <= ch <= "\udfff" or ch == "\x7f" else ch for ch in name[:400])
    return " ".join(name.split())[:80] or "Browser"


def request_pairing(store, name: str, origin: str | None) -> dict:
    poll = secrets.token_urlsafe(24)
    request_id = store.insert_pair_request(clean_name(name), origin, hash_secret(poll),
                                           minutes=REQUEST_MINUTES, most=REQUESTS_WAITING)
    if request_id is None:
        raise PairingError(429, "too_many_requests",
                           f"{REQUESTS_WAITING} browsers are already waiting to pair: approve or refuse them in "
                           f"Crosscurrent, or ask again in {REQUEST_MINUTES} minutes.")
    return {"status": "pending", "request_id": request_id, "poll": poll,
            "expires_in": REQUEST_MINUTES * 60}


def _request_id(value) -> int:
    # bool is an int in Python, and floats (NaN, Infinity, 1e30) are not ids.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PairingError(400, "bad_request", "request_id must be a whole number.")
    try:
        number = int(value)
    except ValueError:
        raise PairingError(400, "bad_request", "request_id must be a whole number.") from None
    if not 1 <= number <= MAX_ID:
        raise PairingError(404, "not_found", "No such pairing request.")
    return number


def poll_pairing(store, request_id, poll) -> dict:
    request_id = _request_id(request_id)
    req = store.pair_request(request_id)
    if req is None or not isinstance(poll, str) or len(poll) > 200 \
            or not secrets.compare_digest(hash_secret(poll), req["poll_hash"]):
        raise PairingError(404, "not_found", "No such pairing request.")
    if req["status"] == "pending":
        if all(r["id"] != request_id for r in store.pending_pair_requests(REQUEST_MINUTES)):
            raise PairingError(404, "not_found", "This pairing request expired before it was approved; ask again.")
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
    """A fresh one-time code; any earlier code stops working."""
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    store.insert_pair_code(hash_secret(code), minutes=CODE_MINUTES)
    return code


def redeem_code(store, code, name: str, origin: str | None) -> dict:
    text = str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
    digits = "".join(ch for ch in text[:40] if ch in "0123456789")
    token = new_token()
    # A malformed code counts as a wrong guess too: every attempt goes through the same counter.
    outcome, detail = store.redeem_pair_code(
        hash_secret(digits if len(digits) == CODE_DIGITS else "malformed:" + secrets.token_hex(8)),
        clean_name(name), origin, hash_secret(token),
        most_failures=CODE_MOST_FAILURES, lock_minutes=CODE_LOCK_MINUTES)
    if outcome == "approved":
        return {"status": "approved", "token": token}
    if outcome == "locked":
        raise PairingError(429, "too_many_attempts",
                           f"Too many wrong codes: pairing by code is locked until {detail} (UTC). "
                           "Ask Crosscurrent for a new code, or approve the browser's request instead.")
    raise PairingError(403, "bad_code", "That code is wrong or has expired: ask Crosscurrent for a new one.")
