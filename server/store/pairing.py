"""Pairing: tokens, pair requests and one-time codes."""

from __future__ import annotations



from .base import _ago, _later, utcnow


class PairingStore:
    # -- pairing and tokens ------------------------------------------------------------------------
    def insert_token(self, conn, name: str, origin: str | None, token_hash: str) -> int:
        return conn.execute(
            "INSERT INTO tokens (name, origin, token_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, origin, token_hash, utcnow()),
        ).lastrowid

    def token_by_hash(self, token_hash: str) -> dict | None:
        return self._one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))

    def touch_token(self, token_id: int) -> None:
        with self.write() as conn:
            conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (utcnow(), token_id))

    def origin_is_paired(self, origin: str) -> bool:
        return self.reader.execute(
            "SELECT 1 FROM tokens WHERE origin = ? AND revoked_at IS NULL LIMIT 1", (origin,)
        ).fetchone() is not None

    def list_tokens(self) -> list[dict]:
        return self._rows(
            "SELECT id, name, origin, created_at, last_used_at, revoked_at FROM tokens ORDER BY revoked_at IS NOT NULL, id DESC"
        )

    def revoke_token(self, token_id: int) -> bool:
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utcnow(), token_id))
            return cur.rowcount > 0

    def insert_pair_request(self, name: str, origin: str | None, poll_hash: str, *, minutes: int,
                            most: int) -> int | None:
        """A new pending request, or None when `most` requests younger than `minutes` already wait."""
        with self.write() as conn:
            # Stale requests are forgotten rather than piling up in the companion.
            conn.execute("DELETE FROM pair_requests WHERE created_at < ?", (_ago(hours=24),))
            waiting = conn.execute("SELECT count(*) FROM pair_requests WHERE status = 'pending' AND created_at >= ?",
                                   (_ago(minutes=minutes),)).fetchone()[0]
            if waiting >= most:
                return None
            return conn.execute(
                "INSERT INTO pair_requests (name, origin, poll_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, origin, poll_hash, utcnow()),
            ).lastrowid

    def pair_request(self, request_id: int) -> dict | None:
        return self._one("SELECT * FROM pair_requests WHERE id = ?", (request_id,))

    def pending_pair_requests(self, minutes: int = 10) -> list[dict]:
        """Requests still waiting, oldest first, each with the moment it stops being approvable."""
        rows = self._rows(
            "SELECT id, name, origin, created_at FROM pair_requests WHERE status = 'pending' AND created_at >= ? "
            "ORDER BY id", (_ago(minutes=minutes),))
        for row in rows:
            row["expires_at"] = _later(row["created_at"], minutes)
        return rows

    def decide_pair_request(self, request_id: int, approve: bool, minutes: int = 10) -> bool:
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE pair_requests SET status = ? WHERE id = ? AND status = 'pending' AND created_at >= ?",
                ("approved" if approve else "refused", request_id, _ago(minutes=minutes)),
            )
            return cur.rowcount > 0

    def collect_pair_request(self, request_id: int, token_hash: str) -> int | None:
        """Turn an approved request into a token, once."""
        with self.write() as conn:
            req = conn.execute("SELECT * FROM pair_requests WHERE id = ? AND status = 'approved'", (request_id,)).fetchone()
            if req is None:
                return None
            token_id = self.insert_token(conn, req["name"], req["origin"], token_hash)
            conn.execute("UPDATE pair_requests SET status = 'collected', token_id = ? WHERE id = ?", (token_id, request_id))
            return token_id

    def insert_pair_code(self, code_hash: str, minutes: int = 10) -> None:
        """The one live code: it replaces any earlier one and lifts a lock left by wrong guesses."""
        with self.write() as conn:
            conn.execute("DELETE FROM pair_codes")
            conn.execute("INSERT INTO pair_codes (code_hash, expires_at) VALUES (?, ?)", (code_hash, _ago(minutes=-minutes)))
            conn.execute("DELETE FROM pair_guard")

    def redeem_pair_code(self, code_hash: str, name: str, origin: str | None, token_hash: str, *,
                         most_failures: int, lock_minutes: int) -> tuple[str, int | str | None]:
        """("approved", token id), ("wrong", failures left) or ("locked", until when).

        Wrong codes are counted; at `most_failures` the live code is burnt and redemption locked, so the
        reader must show a new code (which lifts the lock) or wait."""
        now = utcnow()
        with self.write() as conn:
            guard = conn.execute("SELECT failures, locked_until FROM pair_guard WHERE id = 1").fetchone()
            failures, locked_until = (guard["failures"], guard["locked_until"]) if guard else (0, None)
            if locked_until and locked_until > now:
                return "locked", locked_until
            conn.execute("DELETE FROM pair_codes WHERE expires_at < ?", (now,))
            if conn.execute("DELETE FROM pair_codes WHERE code_hash = ?", (code_hash,)).rowcount:
                conn.execute("DELETE FROM pair_guard")
                return "approved", self.insert_token(conn, name, origin, token_hash)
            failures += 1
            locked_until = None
            if failures >= most_failures:
                conn.execute("DELETE FROM pair_codes")
                failures, locked_until = 0, _ago(minutes=-lock_minutes)
            conn.execute("INSERT OR REPLACE INTO pair_guard (id, failures, locked_until) VALUES (1, ?, ?)",
                         (failures, locked_until))
        # Answered after the commit: the caller turns this into an error, and the guess must stay counted.
        return ("locked", locked_until) if locked_until else ("wrong", most_failures - failures)
