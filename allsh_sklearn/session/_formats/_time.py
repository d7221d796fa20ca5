"""The times of label files: ISO 8601 or seconds since 1970, 1970 to 9999."""

import math
from datetime import datetime, timezone

from ._cells import PLAIN_NUMBER, is_bool, is_missing, kind_of

__all__ = ["TIME_RANGE", "format_time", "parse_time", "same_time"]

#: The range of times a label file may give (seconds since 1970-01-01 UTC):
#: from 1970-01-01 to the last second of 9999, what every export can write.
TIME_RANGE = (0.0, 253402300799.0)


def format_time(seconds):
    """A time as ISO 8601 in UTC with microseconds, as the exports write it.

    Rounded to the nearest microsecond, so that
    ``format_time(parse_time(format_time(t))) == format_time(t)``: a label
    file's times come back exactly through an import and an export.

    Parameters
    ----------
    seconds : float
        Since 1970-01-01 UTC.

    Returns
    -------
    text : str
        Empty for a time outside :data:`TIME_RANGE` (one an older version
        stored from a hostile file), so that an export never fails on it.

    Examples
    --------
    >>> format_time(1714648800.0)
    '2024-05-02T11:20:00.000000Z'
    >>> format_time(parse_time("2024-05-02T11:20:00.123456Z"))
    '2024-05-02T11:20:00.123456Z'
    """
    seconds = float(seconds)
    low, high = TIME_RANGE
    if not (math.isfinite(seconds) and low <= seconds <= high):
        return ""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value):
    """Seconds since 1970 from a label file's time; None when the cell is empty.

    Accepts ISO 8601 (``2024-05-02T11:20:00Z``; a time without a zone is
    UTC) and numbers of seconds since 1970-01-01 UTC (also as text).

    Parameters
    ----------
    value : str, number or None

    Returns
    -------
    seconds : float or None

    Raises
    ------
    ValueError
        A time that cannot be read, or one outside :data:`TIME_RANGE` (1970
        to 9999), with what was received.
    """
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if is_bool(value):
        raise ValueError(f"expected a date and time, got {kind_of(value)}")
    number = None
    if isinstance(value, str):
        text = value.strip()
        if PLAIN_NUMBER.fullmatch(text) or text.lower() in ("nan", "inf", "-inf"):
            number = float(text)
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(
                    f"expected an ISO 8601 date and time such as "
                    f"'2024-05-02T11:20:00Z' or seconds since 1970, got {text!r}"
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            try:
                number = moment.timestamp()
            except (OverflowError, ValueError, OSError):
                number = math.inf
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"expected a date and time, got {kind_of(value)}"
            ) from None
    low, high = TIME_RANGE
    if not (math.isfinite(number) and low <= number <= high):
        hint = (
            " (this looks like milliseconds: divide by 1000)"
            if math.isfinite(number) and high < number <= high * 1000
            else ""
        )
        raise ValueError(
            f"expected a time between 1970-01-01 and 9999-12-31, got {value!r}{hint}"
        )
    return float(number)


def same_time(first, second):
    """Whether two label file times are the same to the microsecond (two
    missing ones are the same; one that cannot be read matches nothing)."""
    try:
        first, second = parse_time(first), parse_time(second)
    except ValueError:
        return False
    if first is None or second is None:
        return first is None and second is None
    return format_time(first) == format_time(second)
