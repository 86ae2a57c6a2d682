"""Queries compiled once per shape and run again with each request's values.

The API's queries take the same few shapes over and over: the default listing of an admin,
a name filter of a member, a page after a marker in name order. Building such a query with
the ORM (`filter()`, `resolve_expression`, the compiler) cost more CPU than the database
spent answering it. A shape is therefore built once, with its request values as `Param`s,
compiled, and kept as SQL with the place of each `Param` noted; a later request of the same
shape fills in its own values and sends the same SQL.

What a caller must guarantee: the key names everything that changes the SQL (which filters
are present, the order, the limit, who is asking and which branch of the read policy that
takes), and every value that differs between requests of one shape reaches the query as a
`Param`. `tests/test_api_compiled.py` answers requests of one shape with different values
with and without the cache and compares them.
"""

import contextvars
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, QuerySet, Value

# Off: every query is built and compiled anew (the tests compare both ways).
ENABLED = True
# Enough for every combination of filters a real client sends; when full, the cache starts
# again rather than tracking use (a shape costs one build, about a millisecond).
MAX_SHAPES = 512

_recording = contextvars.ContextVar("recording", default=False)


@dataclass(frozen=True)
class Slot:
    """Where a `Param` sits in a compiled query's parameters."""

    name: str
    field: Field


class Param(Value):
    """A request's value in a query: an ordinary `Value`, named so that a compiled shape
    knows where to put the next request's value."""

    def __init__(self, name: str, value: Any, output_field: Field):
        if value is None:
            raise ValueError(f"{name}: a null changes the SQL, so it belongs in the shape's key")
        super().__init__(value, output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        if _recording.get():
            return "%s", [Slot(self.name, self.output_field)]
        return super().as_sql(compiler, connection)


@dataclass(frozen=True)
class Shape:
    sql: str
    params: tuple  # constants and Slots
    converters: tuple  # (position, converter functions, expression), as Django's compiler


_shapes: dict[tuple, Shape] = {}


def rows(
    key: Hashable, build: Callable[[], QuerySet], values: Mapping[str, Any], using: str
) -> list[tuple]:
    """The rows of the query `build()` returns (a `values_list` queryset), with `values` for
    its `Param`s; `build` runs only the first time `key` is asked for on `using`."""
    shape = _shapes.get((using, key)) if ENABLED else None
    if shape is None:
        shape = compile_shape(build(), using)
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        _shapes[using, key] = shape
    connection = connections[using]
    params = [
        p.field.get_db_prep_value(values[p.name], connection) if isinstance(p, Slot) else p
        for p in shape.params
    ]
    with connection.cursor() as cursor:
        cursor.execute(shape.sql, params)
        fetched = cursor.fetchall()
    if not shape.converters:
        return fetched
    converted = []
    for row in fetched:
        row = list(row)
        for position, functions, expression in shape.converters:
            for function in functions:
                row[position] = function(row[position], expression, connection)
        converted.append(tuple(row))
    return converted


def compile_shape(queryset: QuerySet, using: str) -> Shape:
    compiler = queryset.query.get_compiler(using)
    token = _recording.set(True)
    try:
        sql, params = compiler.as_sql()
    finally:
        _recording.reset(token)
    columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
    converters = tuple(
        (position, tuple(functions), expression)
        for position, (functions, expression) in compiler.get_converters(columns).items()
    )
    return Shape(sql, tuple(params), converters)


def forget() -> None:
    """Drops every compiled shape (tests that change the schema or the settings)."""
    _shapes.clear()
