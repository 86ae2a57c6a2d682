"""Speed by design: a fixed number of SQL queries per request, whatever the page size."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.catalog_file import CatalogEntry
from catalog.models import Image, ImageProperty
from catalog.services import images_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_catalog(db):
    base = datetime(2020, 1, 1, tzinfo=UTC)
    entries = [
        CatalogEntry(
            name=f"image-{n:04d}",
            status="active",
            size=n + 1,
            is_public=True,
            owner="project-a",
            created_at=base + timedelta(seconds=n),
            updated_at=base + timedelta(seconds=n),
            properties={"__os_type": "Linux", "n": str(n)},
            members=[{"member_id": "project-b"}] if n % 10 == 0 else [],
        )
        for n in range(1000)
    ]
    images_import(entries=entries)
    assert ImageProperty.objects.count() == 2000


def count_queries(client, path, params):
    client.get(path, params)  # warm up: a first use of a token records its time once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(response.json()["images"]), len(queries.captured_queries)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort_key": "name", "sort_dir": "asc"},
        {"property-__os_type": "Linux", "size_min": "1"},
        {"changes-since": "2000-01-01"},
    ],
)
def test_the_detailed_listing_issues_the_same_queries_for_1_and_1000_images(
    member_api, big_catalog, params
):
    small = count_queries(member_api, "/v1.1/images/detail", {**params, "limit": "1"})
    large = count_queries(member_api, "/v1.1/images/detail", {**params, "limit": "1000"})
    assert small == (1, 2)  # the token, then the page with its properties
    assert large == (1000, 2)


def test_a_marker_costs_one_more_query(member_api, big_catalog):
    marker = str(Image.objects.order_by("-created_at").values_list("id", flat=True)[5])
    for limit in ("1", "1000"):
        _, queries = count_queries(
            member_api, "/v1.1/images/detail", {"limit": limit, "marker": marker}
        )
        assert queries == 3  # token, marker, page


def test_a_page_crossing_into_null_sort_keys_costs_one_more_query(member_api, image_factory):
    image_factory(name="named")
    image_factory(name=None)
    for limit in ("1", "1000"):
        params = {"sort_key": "name", "sort_dir": "asc", "limit": limit}
        _, queries = count_queries(member_api, "/v1.1/images/detail", params)
        assert queries == (2 if limit == "1" else 3)


def test_the_brief_listing_needs_no_properties_query(member_api, big_catalog):
    for limit in ("1", "1000"):
        _, queries = count_queries(member_api, "/v1.1/images", {"limit": limit})
        assert queries == 2


def test_head_issues_a_fixed_number_of_queries(member_api, big_catalog, django_assert_num_queries):
    image = Image.objects.first()
    member_api.head(f"/v1.1/images/{image.id}")
    with django_assert_num_queries(2):  # token, image with its properties
        response = member_api.head(f"/v1.1/images/{image.id}")
    assert response.status_code == 200


def test_listing_queries_use_no_offset_and_no_count(member_api, big_catalog):
    marker = str(Image.objects.order_by("-created_at").values_list("id", flat=True)[500])
    with CaptureQueriesContext(connection) as queries:
        response = member_api.get("/v1.1/images/detail", {"limit": "1000", "marker": marker})
    assert response.status_code == 200
    assert len(response.json()["images"]) == 499  # the ones after the 501st
    sql = " ".join(query["sql"].upper() for query in queries.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
