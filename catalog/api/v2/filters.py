"""The v2 listing's filters (docs/api.md#v2-filters), each declared once in FILTERS by the name
the API spells it with; a parameter named nowhere is a property filter. Every value is checked
before the database sees it: a bad one is a 400 with Glance's message, where Glance itself
answers some of them with a 500 (docs/api.md#v2-differences).
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, Exists, Field, Q

from catalog.compiled import Param
from catalog.models import MAX_INT32, MAX_INT64, PROPERTY_VALUE_INDEX_PREFIX, Image
from catalog.timestamps import TimestampError, parse_timestamp

from ..errors import BadRequest
from ..filters import ImageFilter, can_be_stored, echo

# Text Python's int() reads, ASCII only: signs, digits, underscores between digits.
INTEGER = re.compile(r"\s*[+-]?[0-9]+(?:_[0-9]+)*\s*", re.ASCII)
TIME_OPERATORS = ("gt", "gte", "lt", "lte", "eq", "neq")


@dataclass
class Lookup:
    """One filter's part of the query: `key` names what shapes its SQL (catalog.compiled),
    `values` fill its Params, `condition()` builds its Q (only when the shape is new), and
    `empty` says no image can match, so no query is needed."""

    key: Any
    values: dict = field(default_factory=dict)
    condition: Callable[[], Q] | None = None
    empty: bool = False


NOTHING = Lookup(key="nothing", empty=True)


def _param(name: str, value, column: str) -> Param:
    field = Image._meta.get_field(column)
    assert isinstance(field, Field)  # a column of the image
    return Param(name, value, field)


def split_operator(expression: str) -> tuple[str, str]:
    """`in:a,b` -> ("in", "a,b"); no operator is `eq`. A value that is a time as a whole
    (`2016-01-01T10:00:00`, whose colons are not an operator's) is `eq` too, as in Glance."""
    left, colon, right = expression.partition(":")
    if not colon:
        return "eq", expression
    try:
        parse_timestamp(expression)
    except TimestampError:
        return left, right
    return "eq", expression


def split_list(text: str) -> list[str]:
    """The values of an `in:` list: separated by commas; a value in double quotes may hold
    commas, and `\\"` is a quote inside it (docs/api.md#v2-filters). Glance keeps the
    backslash, so such a value could never match; here it is a quote."""
    values, position = [], 0
    while position < len(text):
        if text[position] == '"':
            end, chars = position + 1, []
            while end < len(text) and text[end] != '"':
                if text[end] == "\\" and end + 1 < len(text) and text[end + 1] == '"':
                    end += 1
                chars.append(text[end])
                end += 1
            if end >= len(text):
                raise BadRequest(f"Invalid filter value {echo(text)}. The quote is not closed.")
            if end + 1 < len(text) and text[end + 1] != ",":
                raise BadRequest(
                    f"Invalid filter value {echo(text)}. "
                    "There is no comma after closing quotation mark."
                )
            values.append("".join(chars))
            position = end + 2
            continue
        end = text.find(",", position)
        end = len(text) if end < 0 else end
        item = text[position:end]
        quote = re.search(r'(?<!\\)"', item)
        if quote:
            raise BadRequest(
                f"Invalid filter value {echo(text)}. "
                "There is no comma before opening quotation mark."
            )
        values.append(item)
        position = end + 1
    return values


class TextFilter:
    """`name`, `status`, `container_format`, `disk_format`: `eq:` (or no operator) or `in:`,
    exact and case-sensitive (docs/api.md#v2-filters)."""

    def lookup(self, name: str, text: str) -> Lookup:
        operator, value = split_operator(text)
        if operator == "in":
            return self.matching(name, split_list(value))
        if operator == "eq":
            return self.matching(name, [value])
        raise BadRequest(f"Unable to filter by unknown operator '{echo(operator)}'.")

    def matching(self, name: str, values: list[str]) -> Lookup:
        values = [self.stored(value) for value in values]
        values = list(dict.fromkeys(value for value in values if value is not None))
        if not values:
            return NOTHING
        slots = {f"{name}{index}": value for index, value in enumerate(values)}

        def condition():
            params = [_param(slot, value, self.column(name)) for slot, value in slots.items()]
            if len(params) == 1:
                return Q(**{self.column(name): params[0]})
            return Q(**{f"{self.column(name)}__in": params})

        return Lookup(key=(name, len(slots)), values=slots, condition=condition)

    def column(self, name: str) -> str:
        return name

    def stored(self, value: str):
        """The value as stored, or None when no stored value can equal it."""
        return value if can_be_stored(value) else None


class IdFilter(TextFilter):
    """`id`: compared as Glance compares it, as text, so only the canonical spelling of a
    UUID (hyphenated, lower case) matches."""

    def column(self, name: str) -> str:
        return "id"

    def stored(self, value: str):
        try:
            pk = uuid.UUID(value)
        except ValueError:
            return None
        return pk if str(pk) == value else None


class TimeFilter:
    """`created_at`, `updated_at`: `gt:`, `gte:`, `lt:`, `lte:`, `eq:` (or none), `neq:` and
    an ISO 8601 time (docs/api.md#v2-filters)."""

    LOOKUPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact", "neq": "exact"}

    def lookup(self, name: str, text: str) -> Lookup:
        operator, value = split_operator(text)
        try:
            moment = parse_timestamp(value)
        except TimestampError:
            raise BadRequest(
                f'Bad "{name}" query filter format. Use ISO 8601 DateTime notation.'
            ) from None
        if operator not in TIME_OPERATORS:
            raise BadRequest("Unable to filter on a unknown operator.")

        def condition():
            compared = Q(**{f"{name}__{self.LOOKUPS[operator]}": _param(name, moment, name)})
            return ~compared if operator == "neq" else compared

        return Lookup(key=(name, operator), values={name: moment}, condition=condition)


def _integer(text: str) -> int | None:
    """The integer Python's int() would read, or None; a number too long to matter becomes
    an infinity of its sign (no 10,000-digit conversion)."""
    if not INTEGER.fullmatch(text):
        return None
    digits = text.strip().replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 25:
        return sign * 10**25
    return sign * int(digits)


class RangeFilter:
    """`size_min`, `size_max` (and the same for `virtual_size`, `min_ram`, `min_disk`):
    inclusive bounds, any integer; an image without the value never matches."""

    def __init__(self, column: str, lookup: str, maximum: int):
        self.column, self.operator, self.maximum = column, lookup, maximum

    def lookup(self, name: str, text: str) -> Lookup:
        value = _integer(text)
        if value is None:
            raise BadRequest("Unable to filter on a range with a non-numeric value.")
        # Beyond the column's range: nothing, or every image with a value.
        low, high = -self.maximum - 1, self.maximum
        if (self.operator == "gte" and value > high) or (self.operator == "lte" and value < low):
            return NOTHING
        value = min(max(value, low), high)
        column, operator = self.column, self.operator
        return Lookup(
            key=name,
            values={name: value},
            condition=lambda: Q(**{f"{column}__{operator}": _param(name, value, column)}),
        )


class EqualFilter:
    """`min_ram`, `min_disk`, `size`, `virtual_size`: equal to an integer. Glance hands the
    text to the database, which fails on `min_ram=abc` with a 500; here it is a 400."""

    def __init__(self, maximum: int):
        self.maximum = maximum

    def lookup(self, name: str, text: str) -> Lookup:
        value = _integer(text)
        if value is None:
            raise BadRequest(
                f"Invalid value '{echo(text)}' for '{name}' filter. Valid values are integers."
            )
        if not -self.maximum - 1 <= value <= self.maximum:
            return NOTHING
        return Lookup(
            key=name,
            values={name: value},
            condition=lambda: Q(**{name: _param(name, value, name)}),
        )


class StringFilter:
    """`owner`, `checksum`: exact text."""

    def lookup(self, name: str, text: str) -> Lookup:
        if not can_be_stored(text):
            return NOTHING
        return Lookup(
            key=name,
            values={name: text},
            condition=lambda: Q(**{name: Param(name, text, CharField())}),
        )


class NothingFilter:
    """A field no image of the catalog has a value for (Glance's tags, multihash, deletion
    time of a shown image): any value matches nothing."""

    def lookup(self, name: str, text: str) -> Lookup:
        return NOTHING


FILTERS: dict[str, Any] = {
    "name": TextFilter(),
    "id": IdFilter(),
    "status": TextFilter(),
    "container_format": TextFilter(),
    "disk_format": TextFilter(),
    "created_at": TimeFilter(),
    "updated_at": TimeFilter(),
    "size_min": RangeFilter("size", "gte", MAX_INT64),
    "size_max": RangeFilter("size", "lte", MAX_INT64),
    "virtual_size_min": RangeFilter("virtual_size", "gte", MAX_INT64),
    "virtual_size_max": RangeFilter("virtual_size", "lte", MAX_INT64),
    "min_ram_min": RangeFilter("min_ram", "gte", MAX_INT32),
    "min_ram_max": RangeFilter("min_ram", "lte", MAX_INT32),
    "min_disk_min": RangeFilter("min_disk", "gte", MAX_INT32),
    "min_disk_max": RangeFilter("min_disk", "lte", MAX_INT32),
    "min_ram": EqualFilter(MAX_INT32),
    "min_disk": EqualFilter(MAX_INT32),
    "size": EqualFilter(MAX_INT64),
    "virtual_size": EqualFilter(MAX_INT64),
    "owner": StringFilter(),
    "checksum": StringFilter(),
    "tag": NothingFilter(),
    "tags": NothingFilter(),
    "os_hash_algo": NothingFilter(),
    "os_hash_value": NothingFilter(),
    "deleted_at": NothingFilter(),
}


def property_lookup(position: int, key: str, value: str) -> Lookup:
    """`<key>=<value>`: the image has that property with exactly that value (the v1
    listing's `property-<key>`, matched through the same index)."""
    if not (can_be_stored(key) and can_be_stored(value)):
        return NOTHING
    whole = len(value) >= PROPERTY_VALUE_INDEX_PREFIX
    slots = {"key": key, "prefix": value[:PROPERTY_VALUE_INDEX_PREFIX]}
    if whole:
        slots["value"] = value
    slots = {f"property{position}_{part}": text for part, text in slots.items()}

    def condition():
        params = [Param(slot, text, CharField()) for slot, text in slots.items()]
        return Q(Exists(ImageFilter.property_match(*params)))

    return Lookup(key=("property", whole), values=slots, condition=condition)
