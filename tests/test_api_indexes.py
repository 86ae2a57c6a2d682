"""On PostgreSQL the listing's costly branches are served by the indexes made for them
(catalog/models.py): the region of null sort keys, and min_ram/min_disk with the read policy's
columns in the index."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import PROJECT_B

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="partial covering indexes and their plans are PostgreSQL's",
    ),
]

DETAIL = "/v1.1/images/detail"


def page_plan(client, params) -> str:
    """EXPLAIN of the request's first image query, with table scans ruled out (on a handful of rows
    they are cheaper than any index)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DETAIL, params)
    assert response.status_code == HTTPStatus.OK
    # The first: in descending order, the region of null sort keys comes first.
    sql = next(q["sql"] for q in queries if 'FROM "catalog_image"' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def catalog(image_factory):
    for number in range(4):
        image_factory(name=None if number % 2 else f"image {number}", owner=PROJECT_B)


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"sort_key": "name", "sort_dir": "desc", "limit": "1"}, "image_null_name_idx"),
        ({"sort_key": "size", "sort_dir": "desc", "limit": "1"}, "image_null_size_idx"),
        ({"min_ram": "2048"}, "image_min_ram_visible_idx"),
        ({"min_disk": "40"}, "image_min_disk_visible_idx"),
    ],
)
def test_the_branch_reads_its_own_index(catalog, member_api, params, index):
    assert index in page_plan(member_api, params)
