"""Order and keyset paging of the listings (legacy-api.md §3).

The order is `sort_key`, then `created_at`, then `id`, all in `sort_dir`: a total order, so
pages never repeat or skip an image. A page starts strictly after the marker image, found by
comparing row values `(sort_key, created_at, id) > (marker's values)`, which both databases
answer by walking the matching index from that point: no OFFSET, no COUNT.

A null sorts after every value (as PostgreSQL orders by default). The rows with a null sort
key are walked as a region of their own, so every query still compares non-null values
against one index; a page that crosses from one region to the next costs one more query.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Field, Func, Q, Value
from django.db.models.lookups import GreaterThan, LessThan
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from catalog.models import Image

from .errors import BadRequest

SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
)
SORT_DIRS = ("asc", "desc")
NULLABLE_SORT_KEYS = frozenset({"name", "container_format", "disk_format", "size"})


class RowValue(Func):
    """`(a, b, c)`: compared as a whole, in the order of the columns."""

    function = ""
    arg_joiner = ", "
    template = "(%(expressions)s)"
    output_field = Field()


@dataclass(frozen=True)
class Region:
    """Part of the order: the rows matching `condition`, ordered by `columns`."""

    condition: Q
    columns: tuple[str, ...]


@dataclass(frozen=True)
class PageRequest:
    limit: int
    marker: uuid.UUID | None
    sort_key: str
    sort_dir: str

    @classmethod
    def from_params(cls, params) -> "PageRequest":
        return cls(
            limit=_limit(params.get("limit")),
            marker=_marker(params.get("marker")),
            sort_key=_choice(params.get("sort_key"), SORT_KEYS, "created_at", "sort_key"),
            sort_dir=_choice(params.get("sort_dir"), SORT_DIRS, "desc", "sort_dir"),
        )

    @property
    def descending(self) -> bool:
        return self.sort_dir == "desc"

    def regions(self) -> list[Region]:
        key = self.sort_key
        tail = tuple(column for column in ("created_at", "id") if column != key)
        if key == "id":
            tail = ()  # the id alone is a total order
        if key not in NULLABLE_SORT_KEYS:
            return [Region(Q(), (key, *tail))]
        values = Region(Q(**{f"{key}__isnull": False}), (key, *tail))
        nulls = Region(Q(**{f"{key}__isnull": True}), tail)
        return [nulls, values] if self.descending else [values, nulls]


def _limit(text: str | None) -> int:
    if text is None:
        return settings.CATALOG_DEFAULT_LIMIT
    # What int() accepts, without converting a 10,000-digit number: sign, ASCII digits.
    stripped = text.strip()
    sign, digits = (stripped[0], stripped[1:]) if stripped[:1] in ("-", "+") else ("", stripped)
    if not (digits.isascii() and digits.isdecimal()):
        raise BadRequest("limit param must be an integer")
    digits = digits.lstrip("0")
    if sign == "-" and digits:
        raise BadRequest("limit param must be positive")
    if len(digits) > len(str(settings.CATALOG_MAX_LIMIT)):
        return settings.CATALOG_MAX_LIMIT
    return min(int(digits or 0), settings.CATALOG_MAX_LIMIT)


def _marker(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        marker = uuid.UUID(text)
    except ValueError:
        raise BadRequest("Invalid marker format") from None
    # uuid.UUID() reads its digits with int(), which also takes spaces around them and "_"
    # between them; Glance took the UUID forms only (hyphens, braces, urn:uuid:, any case).
    spelled = text.replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    if spelled.lower() != marker.hex:
        raise BadRequest("Invalid marker format")
    return marker


def _choice(text: str | None, allowed: tuple[str, ...], default: str, name: str) -> str:
    if text is None:
        return default
    if text not in allowed:
        raise BadRequest(f"Unsupported {name}. Acceptable values: {', '.join(allowed)}")
    return text


def _comparable(column: str, value) -> Value:
    return Value(value, output_field=Image._meta.get_field(column))


class MarkerPagination(BasePagination):
    """legacy-api.md §3: `limit`, `marker`, `sort_key`, `sort_dir`, the keyset query and the
    `{"images": [...]}` envelope.

    The parameters are read by `read_parameters`, which the view calls before any filter is
    validated: their errors come first (README, "Errors"). Rows are dicts of the view's
    `columns` (listing key -> field or expression).
    """

    def read_parameters(self, request) -> PageRequest:
        self.page = PageRequest.from_params(request.query_params)
        return self.page

    def paginate_queryset(self, queryset, request, view=None) -> list[dict]:
        """An unknown or invisible marker is a 400, as in Glance; the marker need not match
        the filters, only the read policy (`named_by_caller`)."""
        page, regions, after = self.page, self.page.regions(), None
        if page.marker is not None:
            order_columns = {page.sort_key, "created_at", "id"}
            marker = queryset.named_by_caller().filter(pk=page.marker)
            marker = marker.values(*order_columns).first()
            if marker is None:
                raise BadRequest("Invalid marker. Image could not be found.")
            for index, region in enumerate(regions):
                if _in_region(region, page.sort_key, marker):
                    regions, after = regions[index:], marker
                    break
        if page.limit == 0:
            return []
        rows: list[dict] = []
        for position, region in enumerate(regions):
            wanted = page.limit - len(rows)
            query = self.region_page(queryset, region, after if position == 0 else None, wanted)
            values = query.values_list(*view.columns.values())
            rows += [dict(zip(view.columns, row, strict=True)) for row in values]
            if len(rows) >= page.limit:
                break
        return rows

    def region_page(self, queryset, region: Region, after: dict | None, limit: int):
        """The first `limit` images of `region`, after the marker's row values `after`."""
        query = self.keyset(queryset.filter(region.condition), region, after)
        return query.order_by(*self.ordering(region.columns))[:limit]

    def keyset(self, queryset, region: Region, after: dict | None):
        if after is None:
            return queryset
        compare = LessThan if self.page.descending else GreaterThan
        return queryset.filter(
            compare(
                RowValue(*(F(column) for column in region.columns)),
                RowValue(*(_comparable(column, after[column]) for column in region.columns)),
            )
        )

    def ordering(self, columns):
        return [F(c).desc() if self.page.descending else F(c).asc() for c in columns]

    def get_paginated_response(self, data):
        return Response({"images": data})


def _in_region(region: Region, sort_key: str, row: dict) -> bool:
    if not region.condition:
        return True
    is_null = row[sort_key] is None
    return is_null if sort_key not in region.columns else not is_null
