"""docs/api.md#v2-sorting and docs/api.md#v2-paging: the order, its tie-breakers, and pages
that visit every image exactly once in both directions, nulls included (where Glance, which
compares a null as `''`, skips or repeats images)."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from functools import cmp_to_key
from http import HTTPStatus

import pytest

from catalog import compiled

pytestmark = pytest.mark.django_db

IMAGES = "/v2/images"
T0 = datetime(2022, 1, 1, tzinfo=UTC)


def page(client, params):
    response = client.get(IMAGES, params)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def ids(client, params):
    return [image["id"] for image in page(client, params)["images"]]


def walk(client, params):
    """Follow `next` as glanceclient and openstacksdk do, until it is missing."""
    seen, body = [], page(client, params)
    for _ in range(200):
        seen += [image["id"] for image in body["images"]]
        if "next" not in body:
            return seen
        response = client.get(body["next"])
        assert response.status_code == HTTPStatus.OK, response.content
        body = response.json()
    raise AssertionError("paging did not end")


@pytest.fixture
def tricky(image_factory):
    """Ties and nulls in every nullable sort key, three images to each created_at."""
    made = []
    values = itertools.cycle(
        [
            {"name": "alpha", "size": 10, "disk_format": "raw", "status": "active"},
            {"name": None, "size": None, "disk_format": None, "container_format": None},
            {"name": "beta", "size": 10, "disk_format": "qcow2", "status": "queued"},
            {"name": "alpha", "size": None, "disk_format": "raw", "status": "saving"},
            {"name": None, "size": 5, "disk_format": "iso", "status": "active"},
        ]
    )
    for n in range(17):
        made.append(
            image_factory(
                id=uuid.UUID(int=(n * 7919) % 65536 + 1),
                created_at=T0 + timedelta(minutes=n // 3),
                updated_at=T0 + timedelta(minutes=n % 4),
                **{"checksum": None, **next(values)},
            )
        )
    return made


def expected(images, ordering):
    """Glance's order in Python: each key in its direction, a null after every value (last
    ascending, first descending), as PostgreSQL orders."""

    def compare(a, b):
        for key, direction in ordering:
            x, y = getattr(a, key), getattr(b, key)
            if x == y:
                continue
            # A null is greater than every value.
            bigger = x is None if x is None or y is None else x > y
            return (1 if bigger else -1) * (1 if direction == "asc" else -1)
        return 0

    return [str(image.id) for image in sorted(images, key=cmp_to_key(compare))]


ORDERS = [
    ({}, [("created_at", "desc"), ("id", "desc")]),
    ({"sort_dir": "asc"}, [("created_at", "asc"), ("id", "asc")]),
    ({"sort_key": "name"}, [("name", "desc"), ("created_at", "desc"), ("id", "desc")]),
    (
        {"sort_key": "name", "sort_dir": "asc"},
        [("name", "asc"), ("created_at", "asc"), ("id", "asc")],
    ),
    (
        {"sort_key": "size", "sort_dir": "asc"},
        [("size", "asc"), ("created_at", "asc"), ("id", "asc")],
    ),
    ({"sort_key": "id", "sort_dir": "asc"}, [("id", "asc")]),
    ({"sort_key": "updated_at"}, [("updated_at", "desc"), ("created_at", "desc"), ("id", "desc")]),
    # One direction for several keys applies to all, tie-breakers included.
    (
        {"sort_key": ["disk_format", "name"], "sort_dir": "asc"},
        [("disk_format", "asc"), ("name", "asc"), ("created_at", "asc"), ("id", "asc")],
    ),
    # Several directions: each key its own, the tie-breakers `desc`.
    (
        {"sort_key": ["name", "size"], "sort_dir": ["asc", "desc"]},
        [("name", "asc"), ("size", "desc"), ("created_at", "desc"), ("id", "desc")],
    ),
    (
        {"sort": "name:asc,created_at:desc"},
        [("name", "asc"), ("created_at", "desc"), ("id", "desc")],
    ),
    ({"sort": "name"}, [("name", "desc"), ("created_at", "desc"), ("id", "desc")]),
    (
        {"sort": "status:asc,size:asc,name:desc"},
        [
            ("status", "asc"),
            ("size", "asc"),
            ("name", "desc"),
            ("created_at", "desc"),
            ("id", "desc"),
        ],
    ),
    (
        {"sort": "size:asc"},
        [("size", "asc"), ("created_at", "asc"), ("id", "asc")],
    ),
    # A key given twice counts where it first appears.
    (
        {"sort": "name:asc,name:desc"},
        [("name", "asc"), ("created_at", "desc"), ("id", "desc")],
    ),
    ({"sort_key": ["id", "name"]}, [("id", "desc")]),
]


@pytest.mark.parametrize(("params", "ordering"), ORDERS)
def test_the_order_and_its_tie_breakers(member_api, tricky, params, ordering):
    assert ids(member_api, {**params, "limit": "100"}) == expected(tricky, ordering)


@pytest.mark.parametrize(("params", "ordering"), ORDERS)
@pytest.mark.parametrize("page_size", [1, 2, 4])
def test_pages_visit_every_image_exactly_once(member_api, tricky, params, ordering, page_size):
    assert walk(member_api, {**params, "limit": str(page_size)}) == expected(tricky, ordering)


@pytest.mark.parametrize(
    "params",
    [{"sort_key": "name", "sort_dir": "asc"}, {"sort": "name:asc,size:desc"}, {"sort_key": "size"}],
)
def test_a_marker_in_the_null_region_continues_within_it(member_api, tricky, params):
    everything = ids(member_api, {**params, "limit": "100"})
    for position, marker in enumerate(everything):
        rest = ids(member_api, {**params, "limit": "100", "marker": marker})
        assert rest == everything[position + 1 :]


def test_the_marker_need_not_match_the_filters(member_api, image_factory):
    made = [image_factory(name=name) for name in ("a", "b", "a", "b")]
    assert ids(member_api, {"name": "a", "marker": str(made[3].id)}) == [
        str(made[2].id),
        str(made[0].id),
    ]


@pytest.mark.parametrize(
    ("params", "kind"),
    [
        ({}, "regions"),
        ({"sort_key": "name", "sort_dir": "asc"}, "regions"),
        ({"sort_key": ["status", "size"], "sort_dir": "asc"}, "general"),
        ({"sort": "name:asc,size:desc"}, "general"),
        ({"sort_key": ["name", "size"]}, "general"),
    ],
)
def test_one_direction_with_only_the_first_key_nullable_pages_by_row_values(params, kind):
    """The v1 listing's row-value comparison where it applies; the key-by-key condition
    elsewhere (both walked above)."""
    from django.http import QueryDict

    from catalog.api.v2.paging import regions
    from catalog.api.v2.parameters import ordering, read_sort

    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    split = regions(ordering(*read_sort(query)))
    assert ("general" if split is None else "regions") == kind


def test_listing_queries_use_no_offset_and_no_count(member_api, image_factory):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = [image_factory(name=None if n % 2 else "x") for n in range(4)]
    with CaptureQueriesContext(connection) as captured:
        page(member_api, {"sort_key": "name", "sort_dir": "asc", "marker": str(made[1].id)})
        page(member_api, {"sort": "name:asc,size:desc", "marker": str(made[1].id)})
    for query in captured.captured_queries:
        assert "OFFSET" not in query["sql"].upper()
        assert "COUNT(" not in query["sql"].upper()


@pytest.fixture
def many(image_factory):
    for n in range(30):
        image_factory(
            name=None if n % 5 == 0 else f"n{n % 7}",
            properties={"__os_type": "Linux", "n": str(n)},
            is_public=n % 3 != 0,
            members=["project-a"] if n % 4 == 0 else (),
        )


@pytest.mark.parametrize(
    ("params", "queries"),
    [
        ({}, 2),  # the token, the page (with properties and visibility folded in)
        ({"visibility": "shared", "member_status": "all"}, 2),
        ({"__os_type": "Linux", "min_ram": "0"}, 2),
        ({"sort": "name:asc,size:desc"}, 2),
        ({"sort_key": "name", "sort_dir": "asc"}, 3),  # the page crosses into null names
    ],
)
@pytest.mark.parametrize("limit", ["1", "1000"])
def test_a_page_costs_the_same_queries_for_1_and_1000_images(
    member_api, many, django_assert_num_queries, params, queries, limit
):
    page(member_api, {"limit": "0"})  # the token's first use is recorded, once
    crossing = limit == "1000" and params.get("sort_key") == "name"
    with django_assert_num_queries(queries if crossing else min(queries, 2)):
        page(member_api, {**params, "limit": limit})


def test_a_marker_costs_one_more_query(member_api, many, django_assert_num_queries):
    marker = ids(member_api, {"limit": "1"})[0]  # and the token's first use is recorded
    with django_assert_num_queries(3):
        page(member_api, {"marker": marker, "limit": "1000"})


def test_one_image_costs_two_queries(member_api, many, django_assert_num_queries):
    marker = ids(member_api, {"limit": "1"})[0]
    with django_assert_num_queries(2):
        assert member_api.get(f"{IMAGES}/{marker}").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "requests",
    [
        [{"name": "n1"}, {"name": "n2"}],
        [{"name": "in:n1,n2"}, {"name": "in:n3,n4"}],
        [{"__os_type": "Linux", "n": "4"}, {"__os_type": "Linux", "n": "8"}],
        [{"created_at": "gt:2020-01-01T00:00:05Z"}, {"created_at": "gt:2020-01-01T00:00:20Z"}],
        [{"size_min": "3000"}, {"size_min": "20000"}],
        [
            {"sort": "name:asc,size:desc", "limit": "3"},
            {"sort": "name:asc,size:desc", "limit": "3"},
        ],
    ],
)
def test_one_compiled_shape_answers_each_requests_own_values(api_as, many, requests):
    """catalog.compiled: requests of one shape, with and without the cache, agree."""
    clients = [api_as("project-a"), api_as("project-b"), api_as("project-admin", ("admin",))]
    for params in requests:
        for client in clients:
            cached = walk(client, params)
            compiled.ENABLED = False
            try:
                assert walk(client, params) == cached
            finally:
                compiled.ENABLED = True
