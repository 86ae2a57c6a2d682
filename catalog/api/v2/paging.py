"""Order, keyset paging and the `first`/`next` links of the v2 listing (docs/api.md#v2-paging).

A page starts strictly after the marker image in the request's order, which always ends with
the unique `id`. As in the v1 listing (api/pagination.py), a null sorts after every value
(last in `asc`, first in `desc`, PostgreSQL's default), and the marker's position is found by
comparing values, never by an OFFSET. Glance compares a null as if it were `''`, so its pages
skip or repeat images around nulls; here every image is on exactly one page, in either
direction.

Two ways to compare, one per kind of order:

* every key in one direction, only the first one nullable (the default order, and every
  order a single `sort_key` or `sort_dir` gives): the v1 listing's way, a row value
  `(key, created_at, id) > (...)` per region of null and non-null keys, which the database
  answers by walking one index from the marker on;
* anything else (several directions, several nullable keys): one condition spelled out key
  by key, `k1 > m1 OR (k1 = m1 AND k2 < m2) OR ...`, where a null is greater than every value.
"""

import uuid
from urllib.parse import urlencode

from django.db import router
from django.db.models import F, Field, Q
from django.db.models.lookups import GreaterThan, LessThan
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from catalog import compiled
from catalog.compiled import Param
from catalog.models import Image

from ..errors import BadRequest
from ..pagination import NULLABLE_SORT_KEYS, Region, RowValue, _in_region
from .parameters import Page
from .serialization import COLUMNS, image

NAMES, EXPRESSIONS = tuple(COLUMNS), tuple(COLUMNS.values())
# Repeatable parameters: every value counts, so the links keep every value (Glance's keep
# only the last of each, and its `next` page is then in another order).
REPEATED = ("sort_key", "sort_dir", "tag")


def _after(column: str, value) -> Param:
    field = Image._meta.get_field(column)
    assert isinstance(field, Field)  # a sort key is a column
    return Param(f"after_{column}", value, field)


def regions(ordering) -> list[Region] | None:
    """The regions of a one-direction order whose only nullable key is the first, or None."""
    columns = tuple(key for key, _ in ordering)
    nullable = tuple(key for key in columns if key in NULLABLE_SORT_KEYS)
    if len({direction for _, direction in ordering}) != 1 or nullable not in ((), columns[:1]):
        return None
    if not nullable:
        return [Region(Q(), columns)]
    key = columns[0]
    values = Region(Q(**{f"{key}__isnull": False}), columns)
    nulls = Region(Q(**{f"{key}__isnull": True}), columns[1:])
    return [nulls, values] if ordering[0][1] == "desc" else [values, nulls]


def beyond(ordering, marker: dict) -> Q | None:
    """The images after `marker` in any order: `k1` beyond `m1`, or equal and `k2` beyond
    `m2`, and so on, a null being greater than every value. None when no image is."""
    disjuncts, equal = [], Q()
    for key, direction in ordering:
        value = marker[key]
        nullable = key in NULLABLE_SORT_KEYS
        if value is None:
            step = Q(**{f"{key}__isnull": False}) if direction == "desc" else None
            same = Q(**{f"{key}__isnull": True})
        else:
            lookup = "gt" if direction == "asc" else "lt"
            step = Q(**{f"{key}__{lookup}": _after(key, value)})
            if direction == "asc" and nullable:
                step |= Q(**{f"{key}__isnull": True})
            same = Q(**{key: _after(key, value)})
        if step is not None:
            disjuncts.append(equal & step)
        equal &= same
    if not disjuncts:
        return None
    condition = disjuncts[0]
    for disjunct in disjuncts[1:]:
        condition |= disjunct
    return condition


def ordered(columns, ordering):
    """ORDER BY with a null after every value, on both databases."""
    directions = dict(ordering)
    expressions = []
    for column in columns:
        nulls = column in NULLABLE_SORT_KEYS
        if directions[column] == "desc":
            expressions.append(F(column).desc(nulls_first=True if nulls else None))
        else:
            expressions.append(F(column).asc(nulls_last=True if nulls else None))
    return expressions


def link(pairs) -> str:
    return f"/v2/images?{urlencode(pairs)}" if pairs else "/v2/images"


class LinkPagination(BasePagination):
    """docs/api.md#v2-paging: the keyset query and the `{"images", "first", "next", "schema"}`
    envelope, whose links are the request's own parameters (and the next marker)."""

    def paginate_queryset(  # type: ignore[override]  # rows are dicts, not model instances
        self, selection, request, view=None
    ) -> list[dict]:
        page: Page = view.parameters.page
        self.request, self.page = request, page
        using = router.db_for_read(Image)
        after = None
        if page.marker is not None:
            after = self.marker_row(selection, page, using)
        if page.limit == 0 or selection.empty:
            return []
        split = regions(page.ordering)
        if split is None:
            rows = self.general_page(selection, page, after, using)
        else:
            rows = self.region_pages(selection, page, split, after, using)
        return [image(row) for row in rows]

    def marker_row(self, selection, page: Page, using: str) -> dict:
        """The marker image's order columns, if the caller may name it: as a v1 marker
        (docs/api.md#v2-paging). Unknown and not visible are the same 400."""
        assert page.marker is not None  # asked for only when a marker is given
        message = f"No image found with ID {page.marker[:100]}"
        try:
            pk = uuid.UUID(page.marker)
        except ValueError:
            raise BadRequest(message) from None
        if str(pk) != page.marker:  # Glance compares ids as text
            raise BadRequest(message)
        caller = selection.scope.caller
        columns = tuple(key for key, _ in page.ordering)

        def build():
            images = Image.objects.for_caller(caller, named=True)
            return images.filter(pk=Param("marker", pk, Image._meta.pk)).values_list(*columns)

        key = ("v2-marker", Image.objects.policy_key(caller, named=True), columns)
        values = {"project": caller.project, "marker": pk}
        found = compiled.rows(key, build, values, using)
        if not found:
            raise BadRequest(message)
        return dict(zip(columns, found[0], strict=True))

    def region_pages(self, selection, page: Page, split, after, using) -> list[tuple]:
        if after is not None:
            key = page.ordering[0][0]
            for index, region in enumerate(split):
                if _in_region(region, key, after):
                    split = split[index:]
                    break
        descending = page.ordering[0][1] == "desc"
        rows: list[tuple] = []
        for position, region in enumerate(split):
            wanted = page.limit - len(rows)
            start = after if position == 0 else None
            values = selection.values
            if start is not None:
                values = {**values, **{f"after_{c}": start[c] for c in region.columns}}
            shape: tuple = ("v2-page", selection.key, page.ordering, region.columns)
            shape += (start is not None, wanted)

            def build(region=region, start=start, wanted=wanted):
                images = selection.build().filter(region.condition)
                if start is not None:
                    compare = LessThan if descending else GreaterThan
                    images = images.filter(
                        compare(
                            RowValue(*(F(c) for c in region.columns)),
                            RowValue(*(_after(c, start[c]) for c in region.columns)),
                        )
                    )
                images = images.order_by(*ordered(region.columns, page.ordering))
                return images[:wanted].values_list(*EXPRESSIONS)

            rows += compiled.rows(shape, build, values, using)
            if len(rows) >= page.limit:
                break
        return rows

    def general_page(self, selection, page: Page, after, using) -> list[tuple]:
        values, nulls = selection.values, None
        if after is not None:
            nulls = tuple(after[key] is None for key, _ in page.ordering)
            condition = beyond(page.ordering, after)
            if condition is None:
                return []
            values = {**values, **{f"after_{k}": v for k, v in after.items() if v is not None}}
        columns = tuple(key for key, _ in page.ordering)
        key = ("v2-general", selection.key, page.ordering, nulls, page.limit)

        def build():
            images = selection.build()
            if after is not None:
                images = images.filter(beyond(page.ordering, after))
            images = images.order_by(*ordered(columns, page.ordering))
            return images[: page.limit].values_list(*EXPRESSIONS)

        return compiled.rows(key, build, values, using)

    def get_paginated_response(self, data):
        query = self.request.query_params
        pairs = []
        for name in query:
            if name == "marker":
                continue
            given = query.getlist(name)
            pairs += [(name, value) for value in (given if name in REPEATED else given[-1:])]
        body = {"images": data, "first": link(pairs), "schema": "/v2/schemas/images"}
        if data and len(data) == self.page.limit:
            body["next"] = link([*pairs, ("marker", data[-1]["id"])])
        return Response(body)
