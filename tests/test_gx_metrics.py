"""The suites' expectations decided from metrics DuckDB computes over whole tables.

Two yardsticks from outside the code under test: GX's own pandas engine, given the same rows
(tricky ones: nulls, NaN, pairs with a missing side, repeated keys with nulls, text RE2 and Python
read differently), must reach the same verdict and counts; and in a table larger than DuckDB's
row groups, a violation planted in the last row, or a duplicate split between the first and the
last, must fail its expectation and name those rows by key, for every expectation type the
shipped suites use.
"""

from __future__ import annotations

import itertools
import tracemalloc
from datetime import UTC, datetime

import duckdb
import great_expectations as gx
import pandas as pd
import pytest

from assets.gx import EXPECTATIONS_DIR, _context, load_suite, validate
from assets.gx_metrics import UnsupportedExpectation, pattern
from assets.marts import models
from assets.pii import PATTERNS
from pipelines.ingest.columns import NONE, PSEUDONYMOUS
from pipelines.privacy.register import raw_field

HEX = "f80587e6f1b97b50cdb3faff551608d5dcc6c021935d3ea8c0cdba80db73e739"
ROWS = 130_000  # more than one DuckDB row group (122,880 rows)
LAST = ROWS - 1
_names = itertools.count()


def expectation(type_: str, severity: str = "critical", **kwargs) -> dict:
    return {"type": f"expect_{type_}", "kwargs": kwargs, "severity": severity}


def warehouse_table(frame: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema s")
    con.register("rows_", frame)
    con.execute("create table s.t as select * from rows_")
    return con


def gx_pandas(expectations: list[dict], frame: pd.DataFrame) -> list:
    """GX's own verdicts, its pandas engine on the frame."""
    name = f"oracle_{next(_names)}"
    batch = (_context().data_sources.add_or_update_pandas(name).add_dataframe_asset(name)
             .add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame}))
    return batch.validate(gx.ExpectationSuite(name=name, expectations=expectations)).results


def in_warehouse(expectations: list[dict], con: duckdb.DuckDBPyConnection, key: list[str] | None = None):
    suite = {"name": "t", "meta": {"key": key or []}, "expectations": expectations}
    return validate(suite, con, "s", "t", {})


# -- the same verdicts as GX's pandas engine ---------------------------------------------------------
TRICKY = pd.DataFrame({
    "id": pd.array([1, 2, 2, 3, None, 5, 6, 6, 8, 9, 10, 11], dtype="Int64"),
    "status": ["open", "solved", None, "open", "weird", "open", "open", "open", None, None, "new", "open"],
    "ratio": [0.5, 1.3, float("nan"), None, -0.1, 1.0, 0.0, 0.2, 0.3, 0.4, 1.0, 0.9],
    "a": pd.array([3, 1, None, 5, None, 2, 7, 7, 1, 0, 4, 4], dtype="Int64"),
    "b": pd.array([2, 1, 4, None, None, 3, 7, 8, 0, 0, 4, 5], dtype="Int64"),
    "key": [HEX, HEX + "\n", HEX.upper(), "abc", None, HEX, HEX, HEX[:-1], HEX, HEX, "x" + HEX, HEX],
    "note": ["ok", "mail jane.doe@example.com", "+31 6 1234 5678", "call ٥٥٥-١٢٣-٤٥٦٧", None,
             "ref x555-123-4567", "2026-01-10 09:00:00+00", "(020) 555 0100", "v1795611523.5047948",
             "555-123-4567\n", "id/555-123-4567", "+K1pL1Te7O7KqQ"],
    "at": pd.to_datetime(["2024-01-01", "1999-12-31", "2030-01-01", None, "2025-06-01", "2024-01-01",
                          "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01",
                          "2024-01-01"], utc=True),
})
CASES = [
    expectation("column_values_to_not_be_null", column="id"),
    expectation("column_values_to_not_be_null", column="ratio"),
    expectation("column_values_to_be_between", column="ratio", min_value=0, max_value=1),
    expectation("column_values_to_be_between", column="ratio", min_value=0, strict_min=True),
    expectation("column_values_to_be_between", column="id", max_value=6, strict_max=True),
    expectation("column_values_to_be_between", column="at", min_value=datetime(2000, 1, 1, tzinfo=UTC),
                max_value=datetime(2026, 1, 1, tzinfo=UTC)),
    expectation("column_values_to_be_in_set", column="status", value_set=["open", "solved", "new"]),
    expectation("column_values_to_match_regex", column="key", regex="^[0-9a-f]{64}$"),
    expectation("column_values_to_match_regex", column="note", regex=r"\d$"),  # Unicode digits: Python
    expectation("column_values_to_match_regex", column="note", regex=r"^\S+$"),  # not RE2's: Python
    expectation("column_values_to_not_match_regex_list", column="note", regex_list=list(PATTERNS.values())),
    expectation("column_values_to_be_unique", column="id"),
    expectation("column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b", or_equal=True),
    expectation("column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b", or_equal=True,
                ignore_row_if="either_value_is_missing"),
    expectation("column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b",
                ignore_row_if="neither"),
    expectation("compound_columns_to_be_unique", column_list=["a", "b"]),
    expectation("compound_columns_to_be_unique", column_list=["id", "status"],
                ignore_row_if="any_value_is_missing"),
    expectation("column_sum_to_be_between", column="a", min_value=30, max_value=34),
    expectation("column_sum_to_be_between", column="ratio", max_value=5),
    expectation("table_row_count_to_be_between", min_value=13),
    expectation("table_row_count_to_equal", value=12),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['type']}({case['kwargs']})"[:90])
def test_the_warehouse_reaches_gx_pandas_verdict_and_counts(case):
    con = warehouse_table(TRICKY)
    frame = con.execute("select * from s.t").df()  # the rows exactly as the warehouse holds them
    [expected] = gx_pandas([case], frame)
    found = in_warehouse([case], con).result.results[0]  # then the PII scan of the text columns
    assert found.success == expected.success
    for figure in ("element_count", "unexpected_count", "missing_count", "observed_value"):
        if figure in expected.result:
            assert found.result[figure] == pytest.approx(expected.result[figure]), figure


def test_the_tricky_rows_do_decide_something():
    """The yardstick is only as good as its rows: both verdicts occur, and the regex rows need Python."""
    con = warehouse_table(TRICKY)
    verdicts = {result.success for result in in_warehouse(CASES, con).result.results}
    assert verdicts == {True, False}
    phone = pattern(PATTERNS["phone"])
    assert phone.narrower is None and phone.wider is not None  # lookarounds: RE2 only narrows down
    key = pattern("^[0-9a-f]{64}$")  # a final $: an optional newline, then the end, in both engines
    assert key.narrower == key.wider == r"^[0-9a-f]{64}(?:\n?\z)"
    assert pattern("^a$|^b").narrower == r"^a\z|^b"  # elsewhere RE2 only narrows down


# -- the rows a load changed: row-wise rules on them, the rest on the whole table ---------------------
LOADED = ["old", "new"] * 6  # which load wrote each of the tricky rows
WHOLE_TABLE = ("unique", "sum_to_be_between", "row_count_to_be_between", "row_count_to_equal")
ROW_WISE = [case for case in CASES if not case["type"].endswith(WHOLE_TABLE)]


def scoped(expectations: list[dict], con: duckdb.DuckDBPyConnection, key: list[str] | None = None):
    suite = {"name": "t", "meta": {"key": key or []}, "expectations": expectations}
    return validate(suite, con, "s", "t", {}, rows="load = 'new'")


@pytest.mark.parametrize("case", ROW_WISE, ids=lambda case: f"{case['type']}({case['kwargs']})"[:90])
def test_row_wise_rules_on_the_new_rows_reach_gx_pandas_verdict_on_those_rows(case):
    con = warehouse_table(TRICKY.assign(load=LOADED))
    frame = con.execute("select * exclude (load) from s.t where load = 'new'").df()
    [expected] = gx_pandas([case], frame)
    outcome = scoped([case], con)
    found = outcome.result.results[0]
    assert found.success == expected.success
    for figure in ("unexpected_count", "missing_count"):
        if figure in expected.result:
            assert found.result[figure] == expected.result[figure], figure
    assert (outcome.rows, outcome.checked) == (12, 6)


def test_the_old_rows_hold_failures_the_new_rows_do_not():
    """Else the test above could not tell a check of the new rows from a check of all of them."""
    con = warehouse_table(TRICKY.assign(load=LOADED))
    whole = [r.success for r in in_warehouse(ROW_WISE, con).result.results]
    new = [r.success for r in scoped(ROW_WISE, con).result.results]
    assert any(n and not w for w, n in zip(whole, new, strict=True))


def test_uniqueness_counts_every_row_repeating_a_value_of_a_new_row():
    """GX counts each row of a repeated value; here those of the values a new row holds, old rows
    too, and not a repeat among old rows only (the check that passed before saw it)."""
    con = warehouse_table(pd.DataFrame({
        "row": range(7),
        "id": [1, 1, 2, 2, 3, 4, 4],
        "a": pd.array([None, None, 5, 5, 6, 7, 8], dtype="Int64"),
        "load": ["old", "new", "old", "old", "new", "old", "new"],
    }))
    unique_id = expectation("column_values_to_be_unique", column="id")
    unique_pair = expectation("compound_columns_to_be_unique", column_list=["id", "a"])
    outcome = scoped([unique_id, unique_pair, expectation("table_row_count_to_equal", value=7)], con, ["row"])
    by_type = {f.expectation.split("(")[0]: f for f in outcome.failures}
    assert set(by_type) == {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
    assert by_type["expect_column_values_to_be_unique"].unexpected == 4  # rows 0, 1 (id 1) and 5, 6 (id 4)
    assert by_type["expect_column_values_to_be_unique"].keys == [{"row": r} for r in (0, 1, 5, 6)]
    # (1, null) twice: a missing value in one column of the pair still counts as a value
    assert by_type["expect_compound_columns_to_be_unique"].unexpected == 2
    assert by_type["expect_compound_columns_to_be_unique"].keys == [{"row": 0}, {"row": 1}]


def test_a_share_of_the_rows_is_checked_on_the_whole_table():
    """``mostly`` speaks of the whole table: a suite that uses it checks every row."""
    con = warehouse_table(TRICKY.assign(load=LOADED))
    outcome = scoped([expectation("column_values_to_not_be_null", column="status", mostly=0.9)], con)
    assert outcome.checked == outcome.rows == 12
    assert outcome.result.results[0].result["unexpected_count"] == 3


# -- violations planted at the far end of a large table ------------------------------------------------
@pytest.fixture(scope="module")
def large():
    """ROWS rows that pass every case below; ``row`` names a row."""
    con = duckdb.connect()
    con.execute("create schema s")
    con.execute(f"""
        create table s.t as select
            i as row, 'acme' as tenant_id, i as id, sha256(i::varchar) as key, 'ticket ' || i as note,
            (i % 100) / 100.0 as ratio, i + 1 as a, i as b, 'open' as status, 1 as one,
            timestamptz '2024-01-01 00:00:00+00' + to_seconds(i) as stamp
        from range({ROWS}) as r(i)""")
    return con


PLANTED = {
    "not_null": (expectation("column_values_to_not_be_null", column="status"),
                 "update s.t set status = null where row = {last}", [LAST]),
    "between": (expectation("column_values_to_be_between", column="ratio", min_value=0, max_value=1),
                "update s.t set ratio = 1.5 where row = {last}", [LAST]),
    "between time": (expectation("column_values_to_be_between", column="stamp",
                                 max_value=datetime(2030, 1, 1, tzinfo=UTC)),
                     "update s.t set stamp = timestamptz '9999-12-31 23:59:59+00' where row = {last}",
                     [LAST]),
    "in_set": (expectation("column_values_to_be_in_set", column="status", value_set=["open"]),
               "update s.t set status = 'closed' where row = {last}", [LAST]),
    "match_regex": (expectation("column_values_to_match_regex", column="key", regex="^[0-9a-f]{64}$"),
                    "update s.t set key = upper(key) where row = {last}", [LAST]),
    "pii email": (expectation("column_values_to_not_match_regex_list", column="note",
                              regex_list=list(PATTERNS.values())),
                  "update s.t set note = 'write to jane@example.com' where row = {last}", [LAST]),
    "pii phone": (expectation("column_values_to_not_match_regex_list", column="note",
                              regex_list=list(PATTERNS.values())),
                  "update s.t set note = 'call ٥٥٥-١٢٣-٤٥٦٧' where row = {last}", [LAST]),
    "unique": (expectation("column_values_to_be_unique", column="id"),
               "update s.t set id = 0 where row = {last}", [0, LAST]),
    "compound unique": (expectation("compound_columns_to_be_unique", column_list=["tenant_id", "key"]),
                        "update s.t set key = sha256('0') where row = {last}", [0, LAST]),
    "pair": (expectation("column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b",
                         ignore_row_if="either_value_is_missing"),
             "update s.t set b = a where row = {last}", [LAST]),
    "sum": (expectation("column_sum_to_be_between", column="one", min_value=ROWS, max_value=ROWS),
            "update s.t set one = 2 where row = {last}", []),
    "row count between": (expectation("table_row_count_to_be_between", max_value=ROWS),
                          "insert into s.t select * from s.t where row = {last}", []),
    "row count equal": (expectation("table_row_count_to_equal", value=ROWS),
                        "delete from s.t where row = {last}", []),
}


def test_every_expectation_type_of_the_suites_has_a_planted_violation():
    shipped = {e["type"] for path in EXPECTATIONS_DIR.glob("*/*.json")
               for e in load_suite(path)["expectations"]}
    planted = {case["type"] for case, _, _ in PLANTED.values()}
    assert shipped | {"expect_column_values_to_not_match_regex_list"} <= planted


@pytest.mark.parametrize("name", PLANTED)
def test_a_violation_at_the_far_end_fails_and_names_its_rows(large, name):
    case, plant, rows = PLANTED[name]
    con = large.cursor()
    con.execute("begin")
    try:
        assert in_warehouse([case], con, ["row"]).passed, "the clean table must pass"
        con.execute(plant.format(last=LAST))
        outcome = in_warehouse([case], con, ["row"])
    finally:
        con.execute("rollback")
    assert not outcome.passed
    failure = next(f for f in outcome.failures if f.expectation.startswith(case["type"]))
    assert failure.keys == [{"row": row} for row in rows]
    if rows:
        assert failure.unexpected == len(rows) and failure.tenants == ["acme"]
    else:
        assert failure.observed in (ROWS + 1, ROWS - 1) and failure.unexpected is None


def test_a_failure_names_keys_and_counts_never_the_offending_value(large):
    con = large.cursor()
    con.execute("begin")
    try:
        con.execute(f"update s.t set note = 'jane@example.com' where row = {LAST}")
        outcome = in_warehouse(PLANTED["pii email"][:1], con, ["tenant_id", "row"])
    finally:
        con.execute("rollback")
    line = outcome.failures[0].describe()
    assert line == (f"expect_column_values_to_not_match_regex_list(note): 1 row; first offending: "
                    f"tenant_id=acme, row={LAST}")
    assert "jane" not in str(outcome.metadata()) + str(outcome.result)


def test_what_the_warehouse_does_not_compute_is_refused_not_guessed():
    con = warehouse_table(TRICKY)
    with pytest.raises(UnsupportedExpectation, match="not computed in the warehouse"):
        in_warehouse([expectation("column_median_to_be_between", column="ratio", min_value=0)], con)
    with pytest.raises(UnsupportedExpectation, match="not text"):
        in_warehouse([expectation("column_values_to_match_regex", column="id", regex="1")], con)


def test_every_shipped_suite_names_rows_by_key_columns_that_name_no_person():
    """A failure names rows by these columns, so none may be personal (a name, an e-mail, free text)."""
    mart_columns = {node["name"]: node["columns"] for node in models()}
    for path in EXPECTATIONS_DIR.glob("*/*.json"):
        key = load_suite(path)["meta"].get("key")
        assert key, path
        for column in key:
            if path.parent.name == "marts":
                pii = mart_columns[path.stem][column]["meta"]["pii"]
            else:
                pii = raw_field(path.parent.name, path.stem, column).pii
            assert pii in (NONE, PSEUDONYMOUS), (path, column, pii)


def test_a_check_holds_none_of_its_table_in_python():
    """Python's allocations while a suite runs are the same for 10,000 rows as for 200,000: the rows
    stay in the warehouse (a frame of them would take tens of MiB more)."""
    suite = [expectation("column_values_to_not_be_null", column="note"),
             expectation("column_values_to_be_unique", column="id"),
             expectation("column_sum_to_be_between", column="id", min_value=0)]
    peaks = []
    for rows in (10_000, 200_000):
        con = duckdb.connect()
        con.execute("create schema s")
        con.execute(f"create table s.t as select i as id, 'ticket ' || i as note, sha256(i::varchar) as key "
                    f"from range({rows}) as r(i)")
        in_warehouse(suite, con)  # GX's imports and caches, once
        tracemalloc.start()
        assert in_warehouse(suite, con).passed
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] - peaks[0] < 2**20, peaks
