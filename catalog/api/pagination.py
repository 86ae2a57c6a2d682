"""Order and keyset paging of the listings (docs/api.md#paging).

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
from django.db import router
from django.db.models import F, Field, Func, Q
from django.db.models.lookups import GreaterThan, LessThan
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from catalog import compiled
from catalog.compiled import Param
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


def _after(column: str, value) -> Param:
    field = Image._meta.get_field(column)
    assert isinstance(field, Field)  # a sort key is a column
    return Param(f"after_{column}", value, field)


class MarkerPagination(BasePagination):
    """docs/api.md#paging: `limit`, `marker`, `sort_key`, `sort_dir`, the keyset query and the
    `{"images": [...]}` envelope.

    The parameters are read by `read_parameters`, which the view calls before any filter is
    validated: their errors come first (docs/api.md#validation-order). Rows are dicts of the
    view's `columns` (listing key -> field or expression).
    """

    def read_parameters(self, request) -> PageRequest:
        self.page = PageRequest.from_params(request.query_params)
        return self.page

    def paginate_queryset(  # type: ignore[override]  # rows are dicts, not model instances
        self, selection, request, view=None
    ) -> list[dict]:
        """The page of `selection` (filters.Selection). An unknown or invisible marker is a
        400, as in Glance; the marker need not match the filters, only the read policy."""
        page, regions, after = self.page, self.page.regions(), None
        using = router.db_for_read(Image)
        if page.marker is not None:
            after = self.marker_row(selection, using)
            for index, region in enumerate(regions):
                if _in_region(region, page.sort_key, after):
                    regions = regions[index:]
                    break
        if page.limit == 0 or selection.empty:
            return []
        names, expressions = tuple(view.columns), tuple(view.columns.values())
        rows: list[dict] = []
        for position, region in enumerate(regions):
            wanted = page.limit - len(rows)
            start = after if position == 0 else None
            values = selection.values
            if start is not None:
                values = {**values, **{f"after_{c}": start[c] for c in region.columns}}
            key: tuple = ("page", selection.key, names, page.sort_key, page.sort_dir)
            key += (region.columns, start is not None, wanted)

            def build(region=region, start=start, wanted=wanted):
                query = self.region_page(selection.build(), region, start, wanted)
                return query.values_list(*expressions)

            rows += [
                dict(zip(names, row, strict=True))
                for row in compiled.rows(key, build, values, using)
            ]
            if len(rows) >= page.limit:
                break
        return rows

    def marker_row(self, selection, using: str) -> dict:
        """The marker image's order columns, if the caller may name it."""
        page, scope = self.page, selection.scope
        columns = tuple(dict.fromkeys((page.sort_key, "created_at", "id")))
        named = {"caller": scope.caller, "changes_since": scope.changes_since, "named": True}

        def build():
            images = Image.objects.for_caller(**named)
            marker = Param("marker", page.marker, Image._meta.pk)
            return images.filter(pk=marker).values_list(*columns)[:1]

        key = ("marker", Image.objects.policy_key(**named), columns)
        values = {"project": scope.caller.project, "marker": page.marker}
        found = compiled.rows(key, build, values, using)
        if not found:
            raise BadRequest("Invalid marker. Image could not be found.")
        return dict(zip(columns, found[0], strict=True))

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
                RowValue(*(_after(column, after[column]) for column in region.columns)),
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
