"""Sign-in rules for the web page: the cookie's contents, CSRF tokens, throttling, the key.

The session is a cookie signed with the site key (Starlette's
SessionMiddleware, itsdangerous): HttpOnly, SameSite=Strict, Secure when
configured, and refused once older than the session lifetime, which is
counted from sign-in, not from the last click. It holds the admin's id, the
admin's `session_version` (so a password change or sign-out ends it
everywhere), the sign-in time and a per-session CSRF token that every form
posts back. Throttling of failed sign-ins is in `throttle`.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

CSRF_FIELD = "csrf_token"
_KEY_BYTES = 32


def load_or_create_secret(path: Path) -> str:
    """The site key from `path`, made (random, mode 0600) if the file does not exist yet."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(_KEY_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_or_create_secret(path)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        return key
    if len(key) < 32:
        raise ValueError(f"{path}: the secret key is too short (at least 32 characters)")
    return key


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """This session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get("csrf")
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def start_session(
    session: MutableMapping[str, Any], admin_id: int, version: int, now: datetime
) -> None:
    """A fresh session for a signed-in admin: nothing from before sign-in is kept."""
    session.clear()
    session["admin"] = admin_id
    session["v"] = version
    session["at"] = int(now.timestamp())
    session["csrf"] = secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SessionClaim:
    admin_id: int
    version: int


def session_claim(
    session: MutableMapping[str, Any], now: datetime, lifetime: timedelta
) -> SessionClaim | None:
    """Who the cookie says is signed in, or None if nobody or the sign-in is too old."""
    admin_id, version, at = session.get("admin"), session.get("v"), session.get("at")
    if not (isinstance(admin_id, int) and isinstance(version, int) and isinstance(at, int)):
        return None
    age = now.timestamp() - at
    if age < -60 or age > lifetime.total_seconds():
        return None
    return SessionClaim(admin_id, version)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return "/"
    return target
