"""The overview page: the catalog's counts and charts, read from the tally in a fixed number
of queries whatever the catalog's size."""

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from catalog.admin.charts import column_chart, nice_ceiling
from catalog.services import MemberData, image_create, image_soft_delete

pytestmark = pytest.mark.django_db

URL = "/admin/catalog/image/overview/"


def create(name, *, created, properties=None, members=(), **fields):
    defaults = {
        "name": name,
        "status": "active",
        "disk_format": "qcow2",
        "owner": "project-a",
        "created_at": created,
        "updated_at": created,
    }
    return image_create(
        fields=defaults | fields,
        properties=properties or {},
        members=[MemberData(member) for member in members],
    )


@pytest.fixture
def catalog():
    """Five images whose every count is known."""
    now = timezone.now()
    create("a", created=datetime(2024, 1, 10, tzinfo=UTC), is_public=True,
           properties={"__os_type": "Linux"})  # fmt: skip
    create("b", created=datetime(2024, 3, 5, tzinfo=UTC), status="queued", disk_format="iso",
           properties={"__os_type": "Windows"})  # fmt: skip
    create("c", created=datetime(2024, 3, 20, tzinfo=UTC), disk_format=None,
           owner="23f4cb75768d4febb39542ef6fe169f3", members=["project-x"])  # fmt: skip
    recent = create("d", created=datetime(2024, 3, 21, tzinfo=UTC), owner="project-c")
    image_soft_delete(image=recent, now=now - timedelta(days=3))
    old = create("e", created=datetime(2024, 5, 1, tzinfo=UTC), owner="project-c")
    image_soft_delete(image=old, now=now - timedelta(days=40))


def table(response, key):
    for _, name, rows in response.context["tables"]:
        if name == key:
            return {row.label: row.count for row in rows}
    raise KeyError(key)


def test_the_overview_counts_a_known_catalog(admin_client, catalog):
    response = admin_client.get(URL)
    assert response.status_code == 200
    assert response.context["total"] == 5
    assert response.context["hidden_windows"] == 1
    assert response.context["recent_deletes"] == 1
    assert table(response, "status") == {"queued": 1, "active": 2, "deleted": 2}
    assert table(response, "visibility") == {"public": 1, "private": 3, "shared": 1}
    assert table(response, "os-type") == {"Linux": 1, "Windows": 1, "not set": 3}
    assert table(response, "disk-format") == {"iso": 1, "qcow2": 3, "not set": 1}
    owners = [(str(owner["project"]), owner["count"]) for owner in response.context["owners"]]
    assert owners == [
        ('<span class="catalog-id" title="project-a">project-a</span>', 2),
        ('<span class="catalog-id" title="project-c">project-c</span>', 2),
        (
            '<span class="catalog-id" title="23f4cb75768d4febb39542ef6fe169f3">23f4cb75…</span>',
            1,
        ),
    ]
    page = response.content.decode()
    assert '<strong data-count="total">5</strong>' in page
    assert "The largest owners (3 of 3)" in page


def test_the_monthly_chart_covers_the_catalogs_lifetime(admin_client, catalog):
    chart = admin_client.get(URL).context["per_month"]
    titles = [bar.title for bar in chart.bars]
    assert titles == [
        "2024-01: 1 image created",
        "2024-02: 0 images created",
        "2024-03: 3 images created",
        "2024-04: 0 images created",
        "2024-05: 1 image created",
    ]
    heights = [float(bar.height) for bar in chart.bars]
    assert heights[2] == pytest.approx(3 * heights[0])
    assert heights[1] == 0
    assert [label.text for label in chart.labels] == ["2024"]
    page = admin_client.get(URL).content.decode()
    svg = re.search(r'<svg class="catalog-chart"[^>]*id="chart-per-month".*?</svg>', page, re.S)
    assert svg.group(0).count('<rect class="bar"') == 5
    assert "<title>2024-03: 3 images created</title>" in svg.group(0)


def test_the_deletes_chart_shows_the_last_30_days(admin_client, catalog):
    chart = admin_client.get(URL).context["per_day"]
    assert len(chart.bars) == 30
    deleted = [bar.title for bar in chart.bars if " 0 images" not in bar.title]
    day = (timezone.now() - timedelta(days=3)).astimezone(UTC)
    assert deleted == [f"{day:%Y-%m-%d}: 1 image deleted"]


def test_every_count_links_to_the_images_it_counts(admin_client, catalog):
    response = admin_client.get(URL)
    counted = [
        (row.label, row.link, row.count)
        for _, _, rows in response.context["tables"]
        for row in rows
    ] + [(owner["project"], owner["link"], owner["count"]) for owner in response.context["owners"]]
    assert len(counted) == 3 + 3 + 3 + 3 + 3
    for label, link, count in counted:
        listed = admin_client.get(link).context["cl"].result_list
        assert len(listed) == count, (label, link)


def test_the_overview_reads_a_fixed_number_of_queries(
    admin_client, image_factory, django_assert_num_queries
):
    image_factory()
    with django_assert_num_queries(5) as few:  # session, user, then the tally three times
        admin_client.get(URL)
    for n in range(30):
        image_factory(
            owner=f"project-{n}",
            created_at=datetime(2020 + n % 5, 1 + n % 12, 1, tzinfo=UTC),
            properties={"__os_type": "Linux"},
        )
    with django_assert_num_queries(5) as many:
        response = admin_client.get(URL)
    assert response.context["total"] == 31
    tally_queries = [q["sql"] for q in many.captured_queries if "imagetally" in q["sql"]]
    assert len(tally_queries) == 3
    assert not any('catalog_image"' in sql or "catalog_image " in sql for sql in tally_queries)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_an_empty_catalog_says_so(admin_client):
    response = admin_client.get(URL)
    assert response.status_code == 200
    assert response.context["total"] == 0
    assert "No images yet." in response.content.decode()


def test_the_index_and_the_image_list_link_to_the_overview(admin_client):
    assert f'href="{URL}"' in admin_client.get("/admin/").content.decode()
    assert f'href="{URL}"' in admin_client.get("/admin/catalog/image/").content.decode()


def test_viewers_see_the_overview_and_others_do_not(client):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Catalog viewers"))
    client.force_login(viewer)
    assert client.get(URL).status_code == 200
    outsider = User.objects.create_user("outsider", is_staff=True)
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 0), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (180, 200), (920_234, 1_000_000)],
)
def test_chart_scales_end_on_round_numbers(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_column_chart_labels_do_not_run_into_each_other():
    months = [(f"{2000 + n // 12}-{n % 12 + 1:02d}", n) for n in range(240)]
    chart = column_chart(
        months,
        title="t",
        describe=lambda key, n: key,
        label=lambda index, key: key,  # asks for a label under every column
    )
    xs = [float(label.x) for label in chart.labels]
    assert all(b - a >= 44 for a, b in pairwise(xs))
    assert len(chart.bars) == 240
    assert float(chart.bars[-1].x) + float(chart.bars[-1].width) <= chart.width
