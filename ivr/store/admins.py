"""Admins who may sign in to the web page, with slow salted password hashes.

Passwords are hashed with scrypt from the standard library (RFC 7914) and a
random 16-byte salt; the stored string names its parameters, so they can be
raised later without breaking old hashes. Comparison is constant-time, and
an unknown name costs as much as a wrong password, so timing does not tell
which names exist.

`session_version` is bumped whenever an admin's sessions must end (password
changed, signed out): the web page stores it in the signed cookie and
refuses a cookie whose version is stale.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.names import ADMIN_NAME_MAX, InvalidName, check_name
from ivr.store.models import Admin, utcnow

# scrypt work factors: about 0.1 s and 32 MiB per hash on a 2-core server.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AdminError(ValueError):
    """An admin cannot be added, changed or removed; the message says why."""


# ---- hashing ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """`scrypt$N$r$p$salt$key`, each binary part base64url without padding."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES
    )
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so that costs as much as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def check_password_rules(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AdminError(f"a password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AdminError(f"a password must be at most {MAX_PASSWORD} characters")
    if not password.strip():
        raise AdminError("a password must not be blank")
    return password


def _check_name(name: str) -> str:
    try:
        name = check_name(name, "an admin name", ADMIN_NAME_MAX)
    except InvalidName as exc:
        raise AdminError(str(exc)) from None
    if not _NAME.match(name):
        raise AdminError(
            f"{name!r} is not a valid admin name: 1 to 64 letters, digits or . _ @ -, "
            "starting with a letter or digit"
        )
    return name


# ---- admins -------------------------------------------------------------------------


def find_admin(session: Session, name: str) -> Admin | None:
    return session.scalar(select(Admin).where(Admin.name == name.strip()))


def get_admin(session: Session, admin_id: int) -> Admin | None:
    return session.get(Admin, admin_id)


def add_admin(session: Session, name: str, password: str) -> Admin:
    name = _check_name(name)
    check_password_rules(password)
    if find_admin(session, name) is not None:
        raise AdminError(f"an admin called {name!r} already exists")
    admin = Admin(name=name, password_hash=hash_password(password))
    session.add(admin)
    session.flush()
    return admin


def list_admins(session: Session) -> list[Admin]:
    return list(session.scalars(select(Admin).order_by(Admin.name)))


def _admin(session: Session, name: str) -> Admin:
    admin = find_admin(session, name)
    if admin is None:
        raise AdminError(f"no admin called {name.strip()!r} (see ivr admins list)")
    return admin


def remove_admin(session: Session, name: str) -> Admin:
    admin = _admin(session, name)
    session.delete(admin)
    session.flush()
    return admin


def set_password(session: Session, name: str, password: str, now: datetime | None = None) -> Admin:
    """Change a password; every session the admin has open ends."""
    admin = _admin(session, name)
    check_password_rules(password)
    admin.password_hash = hash_password(password)
    admin.password_changed_at = now or utcnow()
    admin.session_version += 1
    session.flush()
    return admin


def end_sessions(session: Session, admin: Admin) -> None:
    """Make every signed cookie issued to this admin so far worthless."""
    admin.session_version += 1
    session.flush()


def authenticate(session: Session, name: str, password: str, now: datetime) -> Admin | None:
    """The admin if the name and password match, else None (in the same time either way)."""
    admin = find_admin(session, name) if _NAME.match(name.strip()) else None
    if admin is None:
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, admin.password_hash):
        return None
    admin.last_login_at = now
    session.flush()
    return admin


def admin_as_dict(admin: Admin) -> dict[str, object]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "name": admin.name,
        "created_at": iso(admin.created_at),
        "password_changed_at": iso(admin.password_changed_at),
        "last_login_at": iso(admin.last_login_at),
    }
