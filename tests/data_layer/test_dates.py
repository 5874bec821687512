"""Date parsing: every supported shape parses back exactly; everything else is reported with its row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govml.errors import DataError
from govml.io import parse_datetime

EPOCH = dt.datetime(1899, 12, 30)

# (formatter, what survives: "s" seconds, "m" minutes, "d" date)
FORMATS = {
    "slash_seconds": (lambda d: f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}:{d.second:02d}", "s"),
    "iso_date": (lambda d: d.strftime("%Y-%m-%d"), "d"),
    "iso_minutes": (lambda d: d.strftime("%Y-%m-%d %H:%M"), "m"),
    "iso_seconds_t": (lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"), "s"),
    "unpadded_dash": (lambda d: f"{d.year}-{d.month}-{d.day} {d.hour}:{d.minute}:{d.second}", "s"),
    "compact": (lambda d: d.strftime("%Y%m%d"), "d"),
    "compact_time": (lambda d: d.strftime("%Y%m%d%H%M%S"), "s"),
    "chinese": (lambda d: f"{d.year}年{d.month}月{d.day}日", "d"),
    "chinese_time": (lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日 {d.hour:02d}:{d.minute:02d}", "m"),
    "dots": (lambda d: d.strftime("%Y.%m.%d"), "d"),
    "slash_date": (lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}", "d"),
    "serial_text": (lambda d: repr((d - EPOCH).total_seconds() / 86400), "s"),
}


def _truncate(d: dt.datetime, keep: str) -> dt.datetime:
    if keep == "d":
        return d.replace(hour=0, minute=0, second=0)
    if keep == "m":
        return d.replace(second=0)
    return d


#: exactly 1970-01-01 00:00 / 08:00 are what systems write for "no time" and read as no time (io.PLACEHOLDER_TIMES,
#: session 20): not drawn
datetimes = st.datetimes(min_value=dt.datetime(1960, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0)).filter(lambda d: d.replace(hour=0, minute=0, second=0) != dt.datetime(1970, 1, 1))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@settings(max_examples=40, deadline=None)
@given(values=st.lists(datetimes, min_size=1, max_size=8))
def test_each_format_parses_back_exactly(fmt: str, values: list[dt.datetime]) -> None:
    formatter, keep = FORMATS[fmt]
    s = pd.Series([formatter(v) for v in values], dtype="str")
    parsed = parse_datetime(s)
    assert parsed.dtype == "datetime64[ns]"
    assert [p.to_pydatetime() for p in parsed] == [_truncate(v, keep) for v in values]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(datetimes, min_size=1, max_size=8))
def test_excel_serial_numbers_and_real_datetimes(values: list[dt.datetime]) -> None:
    serials = pd.Series([(v - EPOCH).total_seconds() / 86400 for v in values], dtype="float64")
    assert [p.to_pydatetime() for p in parse_datetime(serials)] == values
    mixed = pd.Series([v if i % 2 else (v - EPOCH).total_seconds() / 86400 for i, v in enumerate(values)],
                      dtype=object)  # what openpyxl gives for a column of half dates, half numbers
    assert [p.to_pydatetime() for p in parse_datetime(mixed)] == values


def test_examples_from_real_exports() -> None:
    s = pd.Series(["2019/2/28 11:25:05", "2019-02-28", "2019-02-28 11:25", "20190228", "2019年2月28日",
                   "2019.02.28", "43524", "２０１９－０２－２８", " 2019-02-28 ", None])
    got = parse_datetime(s)
    assert got.iloc[0] == pd.Timestamp("2019-02-28 11:25:05")
    assert got.iloc[2] == pd.Timestamp("2019-02-28 11:25")
    assert (got.iloc[[1, 3, 4, 5, 6, 7, 8]] == pd.Timestamp("2019-02-28")).all()
    assert pd.isna(got.iloc[9])
    compact_ints = pd.Series([20190228, 43524], dtype="int64")
    assert (parse_datetime(compact_ints) == pd.Timestamp("2019-02-28")).all()


def test_twelve_hour_clocks_of_chinese_and_us_exports() -> None:
    s = pd.Series(["2019/2/28 下午 3:25:05", "2019/2/28 上午 12:05", "2019-2-28 下午12:30", "2019/2/28 上午 9:00",
                   "2019/2/28 晚上 11:00"])
    assert parse_datetime(s).dt.strftime("%H:%M").tolist() == ["15:25", "00:05", "12:30", "09:00", "23:00"]
    us = pd.Series(["02/28/2019 03:25:05 PM", "12/31/2019 12:00:00 AM", "01/05/2019 12:40:41 PM"])
    assert parse_datetime(us).tolist() == [pd.Timestamp("2019-02-28 15:25:05"), pd.Timestamp("2019-12-31 00:00"),
                                           pd.Timestamp("2019-01-05 12:40:41")]


def test_day_or_month_first_decided_per_column_never_guessed() -> None:
    # one value with a day above 12 settles the column's order; the others follow it
    assert parse_datetime(pd.Series(["28/02/2019", "01/03/2019 10:00"])).tolist() == [
        pd.Timestamp("2019-02-28"), pd.Timestamp("2019-03-01 10:00")]
    assert parse_datetime(pd.Series(["02/28/2019", "01/03/2019"])).tolist() == [
        pd.Timestamp("2019-02-28"), pd.Timestamp("2019-01-03")]
    # every value ambiguous, or both orders in one column: refused with the rows, not guessed
    for values in (["01/02/2019", "03/04/2019"], ["28/02/2019", "02/28/2019"]):
        with pytest.raises(DataError) as exc:
            parse_datetime(pd.Series(values), file="m.csv", column="t")
        assert [p.row for p in exc.value.problems] == [2, 3]


def test_timezones_and_datetime_columns() -> None:
    aware = pd.Series(pd.to_datetime(["2024-01-01 08:00"]).tz_localize("Asia/Shanghai"))
    assert parse_datetime(aware).iloc[0] == pd.Timestamp("2024-01-01 08:00")  # already Beijing's clock
    utc = pd.Series(pd.to_datetime(["2024-01-01 00:00"]).tz_localize("UTC"))
    assert parse_datetime(utc).iloc[0] == pd.Timestamp("2024-01-01 08:00")  # a zone is converted to Beijing time
    # times written with an offset are converted to Beijing time (UTC+8): one instant, one clock time
    offsets = pd.Series(["2024-01-01T08:00:00+08:00", "2024-01-01T00:00:00Z", "2023-12-31T19:00:00-05:00",
                         "2024-01-01 00:00:00 +0000", "2024/1/1 08:00:00 +08:00"])
    assert (parse_datetime(offsets) == pd.Timestamp("2024-01-01 08:00")).all()
    naive = pd.Series(pd.to_datetime(["2024-01-01 08:00"]))
    assert parse_datetime(naive).iloc[0] == pd.Timestamp("2024-01-01 08:00")


@pytest.mark.parametrize("bad", ["2019-02-30", "2019-13-01", "昨天", "01/02/2019", "2019", "12345", "hello",
                                 "2019-02-28 25:00", "1500-01-01"])
def test_unparseable_values_are_reported_with_row_and_column(bad: str) -> None:
    s = pd.Series(["2019-02-28", bad])
    with pytest.raises(DataError) as exc:
        parse_datetime(s, file="m.csv", column="created_at")
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column, p.found) == ("m.csv", 3, "created_at", bad)
    assert "a date/time" in p.expected
    assert pd.isna(parse_datetime(s, errors="coerce").iloc[1])


def test_rows_argument_and_truncation() -> None:
    s = pd.Series(["x"] * 5)
    with pytest.raises(DataError) as exc:
        parse_datetime(s, rows=[10, 11, 12, 13, 14], max_problems=2)
    assert [p.row for p in exc.value.problems] == [10, 11] and exc.value.truncated
