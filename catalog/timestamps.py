"""Reading and writing times the way the legacy API does (docs/api.md#timestamps)."""

from datetime import UTC, datetime

import iso8601


class TimestampError(ValueError):
    pass


def parse_timestamp(text: str) -> datetime:
    """Parse what Glance's `changes-since` accepted, returning an aware UTC datetime.

    Dates (`2016-01-01`, `20160101`), date and time with or without seconds and fractions,
    `T` or a space between them, and `Z`, `+hh:mm`, `-hh:mm` or `+hhmm` offsets; no offset
    means UTC.
    """
    if not isinstance(text, str) or not text or "\x00" in text:
        raise TimestampError(f"not an ISO 8601 time: {text!r}")
    try:
        moment = iso8601.parse_date(text, default_timezone=UTC)
    except (iso8601.ParseError, ValueError, OverflowError) as error:
        raise TimestampError(f"not an ISO 8601 time: {text!r}") from error
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00:00+01:00
        raise TimestampError(f"out of range: {text!r}") from error


def format_timestamp(moment: datetime | None) -> str | None:
    """`2016-05-22T06:04:20.425843`: UTC, six fraction digits, no offset."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")
