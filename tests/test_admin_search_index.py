"""On PostgreSQL the admin's name search is served by a trigram index, not a table scan."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory

from catalog.models import Image

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's (pg_trgm)"
)
def test_name_search_uses_the_trigram_index(image_factory):
    image_factory(name="staging-api-oe2203")
    admin = site._registry[Image]
    queryset, _ = admin.get_search_results(
        RequestFactory().get("/"), Image.objects.all(), "ging-api-oe"
    )
    assert list(queryset.values_list("name", flat=True)) == ["staging-api-oe2203"]
    with connection.cursor() as cursor:
        # On a handful of rows a walk of the whole table (or of the order's index) is cheaper;
        # forbid both to see whether an index can find the matches.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "image_name_trgm_idx" in plan
