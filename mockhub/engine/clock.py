"""The mock's clock: real time, or an instant pinned by ``--clock`` that moves only on writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

WRITE_STEP = timedelta(seconds=1)
"""How far a pinned clock moves at each write, so records written in turn differ."""


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant (``2021-01-01T00:00:00Z``); naive times are taken as UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {text!r} (try 2021-01-01T00:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first instant Python can hold
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC") from None


class Clock:
    """Gives the time of each write. Pinned clocks advance by :data:`WRITE_STEP` per write."""

    __slots__ = ("_pinned",)

    def __init__(self, pinned: datetime | None = None) -> None:
        self._pinned = pinned

    def now(self) -> datetime:
        """The current instant, without moving a pinned clock."""
        if self._pinned is None:
            return datetime.now(UTC)
        return self._pinned

    def tick(self) -> datetime:
        """The instant of a write: real time, or the pinned instant, which then moves on."""
        if self._pinned is None:
            return datetime.now(UTC)
        current = self._pinned
        if current < datetime.max.replace(tzinfo=UTC) - WRITE_STEP:  # at the end of year 9999 it stays there
            self._pinned = current + WRITE_STEP
        return current

    def copy(self) -> Clock:
        return Clock(self._pinned)


def portal_time(instant: datetime) -> str:
    """The Portal API's form, .NET round-trip with 7 fractional digits: 2020-10-13T02:42:26.9932101Z."""
    if instant.year < 1000:  # isoformat pads the year to four digits, strftime does not
        return instant.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    return instant.isoformat(timespec="microseconds")[:26] + "0Z"  # twice as fast as strftime


def era_time(instant: datetime) -> str:
    """The Era form, centiseconds: 2019-08-28T13:34:16.42Z."""
    if instant.year < 1000:
        return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 10000:02d}Z"
    return instant.isoformat(timespec="microseconds")[:22] + "Z"  # five times as fast as strftime
