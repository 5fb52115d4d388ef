"""Business minutes of the ground truth, worked out by hand: weekends, holidays, daylight saving, 24/7.

The same cases as the dbt unit tests of int_business_calendar__day_interval and
int_business_minutes__ticket (Amsterdam, Good Friday 2024 a holiday, summer time from Sunday 31
March), so the Python truth and the SQL are held to the same hand-worked figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipelines.world.model import Holiday, Schedule
from pipelines.world.truth import business_minutes

CREATED = datetime(2020, 1, 1, tzinfo=UTC)
WEEKDAYS = tuple((day * 1440 + 9 * 60, day * 1440 + 17 * 60) for day in range(1, 6))
GOOD_FRIDAY = Holiday(1, "Good Friday", date(2024, 3, 29), date(2024, 3, 29))
OFFICE = Schedule(1, "Office", "Amsterdam", "Europe/Amsterdam", WEEKDAYS, (GOOD_FRIDAY,), CREATED)
ALWAYS = Schedule(2, "24/7", "Amsterdam", "Europe/Amsterdam", ((0, 7 * 1440),), (), CREATED)
NEW_YORK = Schedule(3, "US office", "Eastern Time (US & Canada)", "America/New_York", WEEKDAYS, (), CREATED)


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


def test_reply_across_a_holiday_a_weekend_and_the_clock_change():
    # Thursday 16:30 local (15:30 UTC) to Monday 09:30 local (07:30 UTC, summer time)
    assert business_minutes(OFFICE, utc(28, 15, 30), utc(1, 7, 30, month=4)) == 60
    assert business_minutes(OFFICE, utc(28, 15, 30), utc(2, 8, month=4)) == 570


def test_a_weekend_counts_nothing():
    assert business_minutes(OFFICE, utc(30, 10), utc(30, 11)) == 0
    assert business_minutes(OFFICE, utc(30, 10), utc(2, 8, month=4)) == 540


def test_before_opening_time_counts_from_opening():
    assert business_minutes(OFFICE, utc(28, 7), utc(28, 9)) == 60


def test_a_holiday_counts_nothing():
    assert business_minutes(OFFICE, utc(29, 8), utc(29, 16)) == 0


@pytest.mark.parametrize(("start", "end"), [
    (utc(30, 12), utc(31, 12)),  # across the spring-forward night: 24 calendar hours
    (datetime(2024, 10, 26, 12, tzinfo=UTC), datetime(2024, 10, 27, 23, 30, tzinfo=UTC)),  # fall back
    (utc(1, 0), utc(1, 0, 1)),
])
def test_a_24_7_schedule_gives_the_calendar_minutes(start, end):
    assert business_minutes(ALWAYS, start, end) == (end - start).total_seconds() / 60


def test_the_clock_change_moves_opening_hours_in_utc():
    # New York moves to summer time on 10 March 2024: 09:00 local is 14:00 UTC before, 13:00 after
    assert business_minutes(NEW_YORK, utc(8, 14), utc(8, 15)) == 60
    assert business_minutes(NEW_YORK, utc(11, 13), utc(11, 14)) == 60
    assert business_minutes(NEW_YORK, utc(11, 12), utc(11, 13)) == 0


def test_missing_ends_give_none():
    assert business_minutes(OFFICE, None, utc(1, 0)) is None
    assert business_minutes(None, utc(1, 0), utc(1, 1)) is None
