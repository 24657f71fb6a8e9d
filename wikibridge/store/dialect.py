"""The few statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the session's database."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database {name}")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp, to group by: date() on SQLite (a 'YYYY-MM-DD'
    string), date_trunc on PostgreSQL (midnight, in UTC whatever the session's time zone).
    The constants are SQL literals, so the GROUP BY repeats the very same expression."""
    if is_postgres(session):
        utc = func.timezone(literal_column("'UTC'"), column)
        return func.date_trunc(literal_column("'day'"), utc)
    return func.date(column)


def as_date(value: Any) -> date:
    """A day as :func:`day_of` returns it, on either database."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
