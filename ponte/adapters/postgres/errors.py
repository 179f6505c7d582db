"""Which database errors are the data's fault (never fixed by a retry)."""

from __future__ import annotations

import psycopg
from pydantic import ValidationError


def is_data_error(exc: BaseException) -> bool:
    """A value PostgreSQL refuses (class 22: NUL in text, invalid input, out of range) or an
    event that does not validate; not a lost connection, a deadlock or a constraint race."""
    return isinstance(exc, psycopg.DataError | ValidationError)
