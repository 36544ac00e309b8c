"""The mock's clock: real time, or an instant pinned by ``--clock`` that moves only on writes; either can be
set or moved on per session (``POST /__mockhub/clock``), so a test makes a token expire without waiting."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

WRITE_STEP = timedelta(seconds=1)
"""How far a pinned clock moves at each write, so records written in turn differ."""
LATEST = datetime.max.replace(tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"P(?:(?P<weeks>[0-9]+)W)?(?:(?P<days>[0-9]+)D)?"
                       r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+(?:[.,][0-9]+)?)S)?)?")


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


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds (``P30D``, ``PT1H30M``,
    ``PT0.5S``). Years and months are refused: their length depends on the date they start from."""
    given = text.strip().upper()
    found = _DURATION.fullmatch(given)
    if found is None or not any(found.groupdict().values()) or given.endswith("T"):
        date_part = given.partition("T")[0]
        hint = " (years and months have no fixed length: give days)" if re.search(r"[0-9][YM]", date_part) else ""
        raise ValueError(f"not an ISO 8601 duration: {text!r}{hint}; try P30D or PT1H30M")
    parts = {name: float(value.replace(",", ".")) for name, value in found.groupdict().items() if value}
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ValueError(f"the duration {text!r} is longer than any clock can move") from None


class Clock:
    """Gives the time of each write. Pinned clocks advance by :data:`WRITE_STEP` per write; a real-time clock
    may run ahead of real time (or behind it) by an offset that :meth:`set` and :meth:`advance` change."""

    __slots__ = ("_pinned", "_offset", "_second", "_second_text")

    def __init__(self, pinned: datetime | None = None, offset: timedelta = timedelta(0)) -> None:
        self._pinned = pinned
        self._offset = offset
        self._second = -1
        """The last second :meth:`portal_tick` formatted on real time (seconds since the epoch), and its text."""
        self._second_text = ""

    @property
    def pinned(self) -> bool:
        """Whether the clock is pinned (it moves only on writes and when set or advanced)."""
        return self._pinned is not None

    def now(self) -> datetime:
        """The current instant, without moving a pinned clock."""
        if self._pinned is None:
            if not self._offset:
                return datetime.now(UTC)
            try:
                return datetime.now(UTC) + self._offset
            except OverflowError:  # set near the end of year 9999, and real time went on: it stays there
                return LATEST
        return self._pinned

    def stamp(self) -> int | datetime:
        """The current instant as cheaply as it can be taken: on a real-time clock that runs on time, nanoseconds
        since the epoch (the clock datetime.now reads), else :meth:`now`. :func:`instant_of` makes it the instant
        :meth:`now` would have given."""
        if self._pinned is None and not self._offset:
            return time.time_ns()
        return self.now()

    def tick(self) -> datetime:
        """The instant of a write: real time, or the pinned instant, which then moves on."""
        if self._pinned is None:
            return self.now()
        current = self._pinned
        if current < LATEST - WRITE_STEP:  # at the end of year 9999 it stays there
            self._pinned = current + WRITE_STEP
        return current

    def portal_tick(self) -> str:
        """:func:`portal_time` of :meth:`tick` (the time of a write as the Portal API writes it). On real time,
        the date and the time of day are written once a second and the microseconds each time."""
        if self._pinned is not None or self._offset:
            return portal_time(self.tick())
        second, nanoseconds = divmod(time.time_ns(), 1_000_000_000)  # the clock datetime.now reads, in full
        if second != self._second:
            self._second_text = portal_time(datetime.fromtimestamp(second, UTC))[:19]
            self._second = second
        return f"{self._second_text}.{nanoseconds // 1000:06d}0Z"  # as datetime.now: microseconds rounded down

    def set(self, instant: datetime) -> datetime:
        """Make ``instant`` the current time: a pinned clock stays pinned there, a real-time clock runs on from
        it. Returns the new current time."""
        if self._pinned is not None:
            self._pinned = instant
        else:
            self._offset = instant - datetime.now(UTC)
        return self.now()

    def advance(self, by: timedelta) -> datetime:
        """Move the clock on by ``by`` (``ValueError`` past the year 9999); returns the new current time."""
        now = self.now()
        if by > LATEST - now:
            raise ValueError(f"the clock cannot move past the year 9999 (it is {now.isoformat()})")
        if self._pinned is not None:
            self._pinned = now + by
        else:
            self._offset += by
        return self.now()

    def copy(self) -> Clock:
        return Clock(self._pinned, self._offset)


def instant_of(stamp: int | datetime) -> datetime:
    """The instant of a :meth:`Clock.stamp` (as datetime.now: microseconds rounded down)."""
    return stamp if isinstance(stamp, datetime) else EPOCH + timedelta(microseconds=stamp // 1000)


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
