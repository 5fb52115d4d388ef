"""GX metrics computed in the warehouse: what an expectation asks of a whole table, answered by DuckDB.

GX decides each expectation from metrics (rows, nulls, unexpected rows, a column's sum). Its pandas
engine computes them on a frame held in memory, which grows with the table, and its SQL engine does
not speak DuckDB. Here every metric the expectations of our suites ask for is SQL over the table (or
over the rows a check covers, ``TableMetrics``), in one scan for the row-wise ones, so every row is
covered and memory stays what DuckDB's memory limit allows. The meaning is GX's pandas engine's,
value for value: nulls (NaN too) are left out of column maps, a pair with a missing side counts as
unexpected unless ``ignore_row_if`` leaves the row out, duplicates count every row of a repeated
value, and regular expressions mean what Python's ``re.search`` finds. DuckDB's RE2 cannot say that
for every pattern (lookarounds, Unicode digits, ``$`` before a final newline inside a pattern), so
it narrows the rows down to those it cannot decide and Python decides those. A metric or argument
not covered here is refused, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import duckdb

FLOATS = {"DOUBLE", "FLOAT", "REAL"}
TEXT = "VARCHAR"
PYTHON_BATCH_ROWS = 50_000  # rows Python decides at a time, for the patterns RE2 cannot decide
UNEXPECTED_VALUES = ".unexpected_values"  # GX lists offending values; we never collect them
TABLE = "checked_table"  # the table's name in the queries, for conditions on other rows of it


class UnsupportedExpectation(ValueError):
    """An expectation asks for a metric or an argument the warehouse engine does not compute."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- regular expressions: Python's meaning, RE2's speed -------------------------------------------
@dataclass(frozen=True)
class Pattern:
    """A Python regular expression with two RE2 bounds: ``wider`` finds a match in at least every
    string Python does (None: assume every string), ``narrower`` only in strings Python does
    (None: none known). Rows between the two are left to Python."""

    python: re.Pattern[str]
    wider: str | None
    narrower: str | None


@cache
def pattern(source: str) -> Pattern:
    return Pattern(re.compile(source), _re2(source, wide=True), _re2(source, wide=False))


def _re2(source: str, wide: bool) -> str | None:
    """``source`` rewritten for RE2 as a wider or narrower pattern, or None where that is not
    known: Python's ``\\d`` is any Unicode digit (RE2's is ASCII), its ``$`` also matches before a
    final newline, and RE2 has no lookarounds (dropping one widens a pattern)."""
    out, i, in_class, negated = [], 0, False, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            escaped = source[i + 1:i + 2]
            if escaped == "d":
                unicode_digits = wide != negated if in_class else wide
                out.append(r"\p{Nd}" if unicode_digits else ("0-9" if in_class else "[0-9]"))
            elif escaped in ("n", "t", "r", "f", "v") or (escaped and not escaped.isalnum()):
                out.append("\\" + escaped)
            else:
                return None  # \w \s \b \A \Z, backreferences, ...: not translated
            i += 2
            continue
        if in_class:
            if char == "[":
                return None  # RE2 reads [: as a POSIX class
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            start = i + 1 + (source[i + 1:i + 2] == "^")
            in_class, negated = True, source[i + 1:i + 2] == "^"
            out.append(source[i:start + (source[start:start + 1] == "]")])  # a leading ] is literal
            i = start + (source[start:start + 1] == "]")
            continue
        elif source.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            end = _group_end(source, i)
            if not wide or end is None:
                return None
            i = end + 1
            continue
        elif char == "(" and source.startswith("(?", i) and not source.startswith("(?:", i):
            return None  # named groups, flags, comments
        elif char == "$":  # at the pattern's end, an optional final newline and the end is exact
            out.append(r"(?:\n?\z)" if wide or i == len(source) - 1 else r"\z")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _group_end(source: str, start: int) -> int | None:
    """The index of the parenthesis closing the group opened at ``start``."""
    depth, i, in_class = 0, start, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


# -- the metrics of one table ----------------------------------------------------------------------
@dataclass
class RowCondition:
    """The rows of a column-map or multicolumn metric that are unexpected: ``where`` is SQL for
    the rows surely so; ``undecided`` (with ``decide`` on ``column``) for those Python settles."""

    domain: str  # rows the metric looks at (non-null values, or the rows ignore_row_if keeps)
    where: str
    parameters: list[Any]
    undecided: str | None = None
    undecided_parameters: list[Any] = field(default_factory=list)
    column: str | None = None
    decide: Callable[[str], bool] | None = None  # True when the value is unexpected
    duplicates_of: tuple[str, ...] = ()  # uniqueness: rows whose values in these columns repeat
    # SQL for the rows that may be unexpected: when none are, ``where`` and ``undecided`` need no
    # pass of their own (a PII scan of a clean column evaluates one pattern per row, not three)
    maybe: tuple[str, list[Any]] | None = None


def repeating(relation: str, rows: str, columns: list[str]) -> str:
    """SQL: the rows of ``relation`` (as ``TABLE``) holding in ``columns`` the values one of
    ``rows`` holds, nulls alike: where a repeat of those rows' values can be."""
    same = " and ".join(f"covered.{quote(c)} is not distinct from {TABLE}.{quote(c)}" for c in columns)
    return f"exists (select 1 from {relation} as covered where ({rows}) and {same})"


class TableMetrics:
    """Answers GX metric configurations over ``schema.table`` on an open DuckDB connection, as if
    the table held only ``rows`` (SQL on its columns, the table named ``TABLE``; None: all)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, table: str, rows: str | None = None):
        self.con, self.name, self.rows = con, f"{schema}.{table}", rows
        self.relation = f"{quote(schema)}.{quote(table)}"
        self.source = f"{self.relation} as {TABLE}"
        self.types = dict(con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? "
            "and table_name = ? order by ordinal_position", [schema, table]).fetchall())
        if not self.types:
            raise UnsupportedExpectation(f"table {self.name} does not exist")

    def text_columns(self) -> list[str]:
        return [name for name, data_type in self.types.items() if data_type == TEXT]

    # -- SQL building blocks
    def column(self, name: str) -> str:
        if name not in self.types:
            raise UnsupportedExpectation(f"{self.name} has no column {name!r}")
        return quote(name)

    def is_null(self, name: str) -> str:
        """Null as pandas sees it: NaN of a float column too."""
        column = self.column(name)
        return f"({column} is null or isnan({column}))" if self.types[name] in FLOATS else f"{column} is null"

    # -- resolving
    def resolve(self, configurations: list) -> dict[Any, Any]:
        """Values of GX ``MetricConfiguration``s, by their id: one scan of the rows for every count
        and sum, one query per uniqueness metric, and more only where rows may be unexpected."""
        values: dict[Any, Any] = {}
        scan: dict[Any, tuple[str, list[Any]]] = {}
        counted: dict[Any, RowCondition] = {}
        for configuration in configurations:
            name = configuration.metric_name
            if name.endswith(UNEXPECTED_VALUES):
                values[configuration.id] = []
            elif name.endswith(".unexpected_count"):
                condition = self.condition(configuration)
                if condition.duplicates_of:
                    values[configuration.id] = self._duplicated_rows(condition)
                    continue
                counted[configuration.id] = condition
                where, parameters = condition.maybe or (condition.where, condition.parameters)
                scan[configuration.id] = (f"count(*) filter (where {condition.domain} and {where})",
                                          parameters)
            else:
                scan[configuration.id] = self._aggregate(configuration)
        if scan:
            sql = ", ".join(expression for expression, _ in scan.values())
            row = self.con.execute(f"select {sql} from {self.source}{self._where()}",
                                   [p for _, parameters in scan.values() for p in parameters]).fetchall()[0]
            values.update(zip(scan, row, strict=True))
        for key, condition in counted.items():
            values[key] = self._unexpected(condition, values[key])
        return values

    def _unexpected(self, condition: RowCondition, scanned: int) -> int:
        """The unexpected rows of ``condition``, from the scan's count of its ``maybe`` rows (none:
        none) or of its ``where`` rows, and Python's verdict on the rows RE2 could not decide."""
        if condition.maybe:
            if not scanned:
                return 0
            scanned = self.con.execute(
                f"select count(*) from {self.source} where {condition.domain} and {condition.where}"
                f"{self._checked()}", condition.parameters).fetchall()[0][0]
        if condition.undecided:
            scanned += sum(1 for _ in self._python_rows(condition, []))
        return scanned

    def row_count(self) -> int:
        return self.con.execute(f"select count(*) from {self.source}{self._where()}").fetchall()[0][0]

    def _aggregate(self, configuration) -> tuple[str, list[Any]]:
        name, domain = configuration.metric_name, configuration.metric_domain_kwargs
        _refuse_row_conditions(configuration)
        if name == "table.row_count":
            return "count(*)", []
        if name == "column.sum":
            column = domain["column"]
            return f"coalesce(sum({self.column(column)}) filter (where not {self.is_null(column)}), 0)", []
        if name.endswith(".filtered_row_count"):
            return f"count(*) filter (where {self.condition(configuration).domain})", []
        raise UnsupportedExpectation(f"metric {name} is not computed in the warehouse")

    def condition(self, configuration) -> RowCondition:
        """The unexpected rows of a map metric (``<map metric>.unexpected_count`` and friends)."""
        _refuse_row_conditions(configuration)
        name = configuration.metric_name.rsplit(".", 1)[0]
        domain, value = configuration.metric_domain_kwargs, configuration.metric_value_kwargs
        if "column" in domain:
            column = domain["column"]
            nonnull = f"not {self.is_null(column)}"
            if name == "column_values.nonnull":
                return RowCondition("true", self.is_null(column), [])
            if name == "column_values.between":
                return RowCondition(nonnull, *self._outside(column, value))
            if name == "column_values.in_set":
                if value.get("value_set") is None:
                    return RowCondition(nonnull, "false", [])
                # a semi-join: list_contains would compare every row with every member
                members = f"select unnest(?::{self.types[column]}[])"
                return RowCondition(nonnull, f"not coalesce({self.column(column)} in ({members}), false)",
                                    [list(value["value_set"])])
            if name == "column_values.unique":
                return RowCondition(nonnull, "false", [], duplicates_of=(column,))
            if name == "column_values.match_regex":
                return self._regex(column, [value["regex"]], nonnull, match=True)
            if name == "column_values.not_match_regex_list":
                return self._regex(column, list(value["regex_list"]), nonnull, match=False)
        if "column_A" in domain and name == "column_pair_values.a_greater_than_b":
            a, b = domain["column_A"], domain["column_B"]
            ignore = {"both_values_are_missing": f"({self.is_null(a)} and {self.is_null(b)})",
                      "either_value_is_missing": f"({self.is_null(a)} or {self.is_null(b)})",
                      "neither": "false"}[domain.get("ignore_row_if") or "both_values_are_missing"]
            compare = ">=" if value.get("or_equal") else ">"
            return RowCondition(f"not {ignore}", f"({self.is_null(a)} or {self.is_null(b)} or not "
                                                 f"({self.column(a)} {compare} {self.column(b)}))", [])
        if "column_list" in domain and name == "compound_columns.unique":
            columns = tuple(domain["column_list"])
            nulls = [self.is_null(column) for column in columns]
            ignore = {"all_values_are_missing": " and ".join(nulls),
                      "any_value_is_missing": " or ".join(nulls),
                      "never": "false"}[domain.get("ignore_row_if") or "all_values_are_missing"]
            return RowCondition(f"not ({ignore})", "false", [], duplicates_of=columns)
        raise UnsupportedExpectation(f"metric {configuration.metric_name} is not computed in the warehouse")

    def _outside(self, column: str, value: dict[str, Any]) -> tuple[str, list[Any]]:
        low, high = value.get("min_value"), value.get("max_value")
        if low is None and high is None:
            raise UnsupportedExpectation("min_value and max_value cannot both be None")
        if low is not None and high is not None and low > high:
            raise UnsupportedExpectation("min_value cannot be greater than max_value")
        bounds, parameters = [], []
        if low is not None:
            bounds.append(f"{self.column(column)} {'>' if value.get('strict_min') else '>='} ?")
            parameters.append(low)
        if high is not None:
            bounds.append(f"{self.column(column)} {'<' if value.get('strict_max') else '<='} ?")
            parameters.append(high)
        return f"not ({' and '.join(bounds)})", parameters

    def _regex(self, column: str, sources: list[str], nonnull: str, *, match: bool) -> RowCondition:
        """Unexpected: no match of the pattern (``match``), or a match of any of the patterns."""
        if self.types.get(column) != TEXT:
            raise UnsupportedExpectation(f"{self.name}.{column} is {self.types.get(column)}, not text: "
                                         "regular expressions apply to text columns")
        if not sources:
            raise UnsupportedExpectation("at least one regex must be given")
        patterns = [pattern(source) for source in sources]
        quoted = self.column(column)
        may, may_parameters = self._matches(quoted, [p.wider for p in patterns], wide=True)
        must, must_parameters = self._matches(quoted, [p.narrower for p in patterns], wide=False)
        exact = (may, may_parameters) == (must, must_parameters)  # RE2 means what Python means
        undecided = (None, []) if exact else (f"{may} and not {must}", may_parameters + must_parameters)
        compiled = [p.python for p in patterns]
        if match:  # unexpected: Python finds no match; surely so where even the wider pattern finds none
            return RowCondition(nonnull, f"not {may}", may_parameters, *undecided, column,
                                lambda text: compiled[0].search(text) is None)
        return RowCondition(nonnull, must, must_parameters, *undecided, column,
                            lambda text: any(p.search(text) for p in compiled), maybe=(may, may_parameters))

    def _matches(self, quoted: str, bounds: list[str | None], *, wide: bool) -> tuple[str, list[str]]:
        """SQL for "one of the RE2 ``bounds`` matches", as one alternation. A bound not known (or
        one DuckDB refuses: too large, unknown syntax) matches every row when wide, none when not."""
        known = [bound for bound in bounds if bound is not None]
        either = "|".join(f"(?:{bound})" for bound in known)
        if len(known) < len(bounds) and wide or (known and not self._compiles(either)):
            return ("true", []) if wide else ("false", [])
        return (f"regexp_matches({quoted}, ?)", [either]) if known else ("false", [])

    def _compiles(self, source: str) -> bool:
        try:
            self.con.execute("select regexp_matches('', ?)", [source]).fetchall()
        except duckdb.Error:
            return False
        return True

    # -- the queries besides the scan
    def _where(self) -> str:
        return "" if self.rows is None else f" where {self.rows}"

    def _checked(self) -> str:
        return "" if self.rows is None else f" and ({self.rows})"

    def _duplicated_rows(self, condition: RowCondition) -> int:
        columns = ", ".join(self.column(column) for column in condition.duplicates_of)
        where = f"{condition.domain}{self._checked()}"
        return self.con.execute(
            f"select coalesce(sum(n), 0) from (select count(*) as n from {self.source} where {where} "
            f"group by {columns} having count(*) > 1)").fetchall()[0][0]

    def _python_rows(self, condition: RowCondition, keys: list[str]) -> Iterator[tuple]:
        """Key tuples of the undecided rows Python finds unexpected, in key order."""
        selected = ", ".join([self.column(condition.column), *map(self.column, keys)])
        order = f" order by {', '.join(map(self.column, keys))}" if keys else ""
        where = f"{condition.domain} and {condition.undecided}{self._checked()}"
        result = self.con.execute(f"select {selected} from {self.source} where {where}{order}",
                                  condition.undecided_parameters)
        while batch := result.fetchmany(PYTHON_BATCH_ROWS):
            for text, *key in batch:
                if condition.decide(text):
                    yield tuple(key)

    def offending(self, condition: RowCondition, keys: list[str], limit: int | None) -> list[tuple]:
        """The first ``limit`` unexpected rows' ``keys`` in key order (which rows to look at), or
        with no limit every distinct ``keys`` of them (which tenants they belong to)."""
        selected = ", ".join(map(self.column, keys))
        head = f"select distinct {selected}" if limit is None else f"select {selected}"
        tail = "" if limit is None else f" order by {selected} limit {limit}"
        if condition.duplicates_of:
            partition = ", ".join(map(self.column, condition.duplicates_of))
            return self.con.execute(
                f"{head} from (select * from {self.source} where {condition.domain}{self._checked()} "
                f"qualify count(*) over (partition by {partition}) > 1){tail}").fetchall()
        found = self.con.execute(f"{head} from {self.source} where {condition.domain} and "
                                 f"{condition.where}{self._checked()}{tail}", condition.parameters).fetchall()
        if condition.undecided:
            decided: list[tuple] = []
            for key in self._python_rows(condition, keys):
                if limit is None and key in decided:
                    continue
                decided.append(key)
                if len(decided) == limit:
                    break
            found = sorted(set(found + decided) if limit is None else found + decided,
                           key=lambda key: [(value is None, value) for value in key])
        return found[:limit]


def _refuse_row_conditions(configuration) -> None:
    if configuration.metric_domain_kwargs.get("row_condition") is not None:
        raise UnsupportedExpectation("row_condition is not supported in the warehouse")
