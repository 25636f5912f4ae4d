"""The session type, for layers above the store that hold one but must not import SQLAlchemy.

The web page opens a session per request and hands it to the store's
functions; it names the type through here so that only `ivr.store`
imports sqlalchemy.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

__all__ = ["Session"]
