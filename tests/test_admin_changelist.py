"""The image change list: columns, filters, search, date drill-down, paging without counting."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.admin.display import human_size
from catalog.services import MemberData, image_soft_delete

pytestmark = pytest.mark.django_db


URL = "/admin/catalog/image/"


def listed(response):
    return [image.name for image in response.context["cl"].result_list]


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (None, None),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (13_167_616, "12.6 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (2**63 - 1, "8.0 EiB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size, shown):
    assert human_size(size) == shown


def test_change_list_shows_the_columns_staff_scan(admin_client, image_factory):
    image_factory(
        name="cirros",
        size=13_167_616,
        is_public=False,
        owner="project-b",
        protected=True,
        properties={"__os_type": "Linux"},
        members=["project-c"],
    )
    response = admin_client.get(URL)
    assert response.status_code == 200
    row = response.content.decode()
    for text in ("cirros", "12.6 MiB", "shared", "project-b", "Linux", "qcow2", "bare", "active"):
        assert text in row
    image = response.context["cl"].result_list[0]
    assert str(image.pk)[:8] in row
    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers[1:] == [
        "name",
        "id",
        "status",
        "disk / container",
        "size",
        "visibility",
        "owner",
        "pro\u00adtected",  # a soft hyphen: the header may break instead of widening
        "os type",
        "updated",
    ]


def test_long_values_are_shortened_and_whole_on_hover(admin_client, image_factory):
    owner = "23f4cb75768d4febb39542ef6fe169f3"
    name = "Ubuntu 22.04 server 64bit, the gold image of the production clusters, 2026 edition"
    image = image_factory(
        name=name, owner=owner, updated_at=datetime(2026, 3, 1, 9, 15, 30, tzinfo=UTC)
    )
    page = admin_client.get(URL).content.decode()
    # The name is cut to two lines by the stylesheet; its title holds all of it.
    assert f'<span class="catalog-two-lines" title="{name}">{name}</span>' in page
    # The owner by its first characters; hovering shows it all, a click filters by it.
    assert f'<a class="catalog-id" href="?owner={owner}" title="{owner}">23f4cb75…</a>' in page
    assert f'<span class="catalog-id" title="{image.pk}">{str(image.pk)[:8]}</span>' in page
    assert (
        '<time datetime="2026-03-01T09:15:30+00:00" title="2026-03-01 09:15:30 UTC">'
        "2026-03-01</time>"
    ) in page
    filtered = admin_client.get(f"{URL}?owner={owner}")  # where the owner links to
    assert [i.pk for i in filtered.context["cl"].result_list] == [image.pk]
    assert f'value="{owner}"' in filtered.content.decode()  # the filter box shows it whole


def test_a_short_owner_is_shown_whole(admin_client, image_factory):
    image_factory(owner="project-b")
    page = admin_client.get(URL).content.decode()
    assert 'title="project-b">project-b</a>' in page


def test_formats_and_statuses_are_spelled_as_the_api_spells_them(admin_client, image_factory):
    image_factory(status="pending_delete", disk_format="zvhd2", container_format="ova")
    response = admin_client.get(URL, {"status__exact": "pending_delete"})
    page = response.content.decode()
    # pending_delete may break after its underscore rather than widen its column.
    assert '<td class="field-status_value">pending_<wbr>delete</td>' in page
    assert '<td class="field-formats">zvhd2<br><span class="quiet">ova</span></td>' in page
    assert '<a href="?status__exact=pending_delete">pending_delete</a>' in page
    assert "Pending Delete" not in page
    assert "Zvhd2" not in page


@pytest.mark.parametrize(
    ("fields", "members", "visibility"),
    [
        ({"is_public": True}, [], "public"),
        ({"is_public": True}, ["project-c"], "public"),
        ({"is_public": False}, [], "private"),
        ({"is_public": False}, ["project-c"], "shared"),
    ],
)
def test_visibility_column_and_filter_agree(
    admin_client, image_factory, fields, members, visibility
):
    image = image_factory(name="subject", members=members, **fields)
    image_factory(name="other-public", is_public=True)
    response = admin_client.get(URL, {"visibility": visibility})
    assert "subject" in listed(response)
    row = next(row for row in response.context["cl"].result_list if row.pk == image.pk)
    assert response.context["cl"].model_admin.visibility(row) == visibility


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["windows", "plain", "linux"]),
        ({"status__exact": "killed"}, ["plain"]),
        ({"disk_format__exact": "raw"}, ["windows"]),
        ({"container_format__exact": "ovf"}, ["linux"]),
        ({"protected__exact": "1"}, ["linux"]),
        ({"os_type": "Linux"}, ["linux"]),
        ({"os_type": "Windows"}, ["windows"]),
        ({"os_type": "none"}, ["plain"]),
        ({"owner": "project-b"}, ["windows"]),
        ({"deleted": "yes"}, ["gone"]),
        ({"deleted": "all"}, ["windows", "gone", "plain", "linux"]),
        ({"created_at__year": "2021"}, ["windows"]),
    ],
)
def test_filters(admin_client, image_factory, query, expected):
    image_factory(
        name="linux", container_format="ovf", protected=True, properties={"__os_type": "Linux"}
    )
    image_factory(name="plain", status="killed")
    image_factory(
        name="windows",
        disk_format="raw",
        owner="project-b",
        properties={"__os_type": "Windows"},
        created_at=datetime(2021, 3, 1, tzinfo=UTC),
    )
    image_soft_delete(image=image_factory(name="gone"))
    response = admin_client.get(URL, query)
    assert response.status_code == 200
    assert listed(response) == expected


def test_deleted_images_are_hidden_until_asked_for(admin_client, image_factory):
    image_soft_delete(image=image_factory(name="gone"))
    response = admin_client.get(URL)
    assert listed(response) == []
    filter_html = response.content.decode()
    assert "Not deleted" in filter_html
    assert "Deleted only" in filter_html


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("cirros", ["cirros-0.6", "my-cirros"]),  # a part of a name
        ("cirr", ["cirros-0.6", "my-cirros"]),  # a prefix
        ("CIRROS", ["cirros-0.6", "my-cirros"]),  # any case
        ("project-b", ["ubuntu"]),  # an owner, exactly
        ("project", []),  # owners are not matched by a part
    ],
)
def test_search_by_name_or_owner(admin_client, image_factory, term, expected):
    image_factory(name="my-cirros")
    image_factory(name="ubuntu", owner="project-b")
    image_factory(name="cirros-0.6")
    assert listed(admin_client.get(URL, {"q": term})) == expected


def test_search_by_exact_id_checksum_or_hex_owner(admin_client, image_factory):
    wanted = image_factory(name="wanted", checksum="64d7c1cd2b6f60c92c14662941cb7913")
    owned = image_factory(name="owned", owner="23f4cb75768d4febb39542ef6fe169f3")
    image_factory(name="noise")
    assert listed(admin_client.get(URL, {"q": str(wanted.pk)})) == ["wanted"]
    assert listed(admin_client.get(URL, {"q": wanted.pk.hex})) == ["wanted"]
    assert listed(admin_client.get(URL, {"q": " 64D7C1CD2B6F60C92C14662941CB7913 "})) == ["wanted"]
    assert listed(admin_client.get(URL, {"q": owned.owner})) == ["owned"]
    assert listed(admin_client.get(URL, {"q": str(owned.pk)[:8]})) == []


def test_date_drill_down_lists_periods_without_scanning(admin_client, image_factory):
    image_factory(name="old", created_at=datetime(2019, 5, 1, tzinfo=UTC))
    image_factory(name="new", created_at=datetime(2021, 2, 3, tzinfo=UTC))
    page = admin_client.get(URL).content.decode()
    for year in ("2019", "2020", "2021"):
        assert f"created_at__year={year}" in page
    page = admin_client.get(URL, {"created_at__year": "2021"}).content.decode()
    assert "created_at__month=12" in page
    assert "All dates" in page
    response = admin_client.get(URL, {"created_at__year": "2021", "created_at__month": "2"})
    assert "created_at__day=28" in response.content.decode()
    assert "created_at__day=29" not in response.content.decode()
    response = admin_client.get(
        URL, {"created_at__year": "2021", "created_at__month": "2", "created_at__day": "3"}
    )
    assert listed(response) == ["new"]


def test_pages_follow_without_counting(admin_client, image_factory):
    for n in range(105):
        image_factory(name=f"image-{n:03d}")
    with CaptureQueriesContext(connection) as queries:
        first = admin_client.get(URL)
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert len(listed(first)) == 100
    page = first.content.decode()
    assert "Page 1" in page
    assert "?p=2" in page
    assert "Select all images matching" in page
    second = admin_client.get(URL, {"p": "2"})
    assert listed(second) == [f"image-{n:03d}" for n in range(4, -1, -1)]
    assert "?p=1" in second.content.decode()
    assert "?p=3" not in second.content.decode()
    for beyond in ("3", "0", "-1", "99999999999999999999"):
        assert admin_client.get(URL, {"p": beyond}).url.endswith("?e=1")


def test_change_list_queries_do_not_grow_with_rows(
    admin_client, image_factory, django_assert_num_queries
):
    def add(count):
        for n in range(count):
            image_factory(
                properties={"__os_type": "Linux", "__platform": "Ubuntu"},
                members=[MemberData(f"project-{n}")],
                is_public=False,
            )

    add(2)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(URL)
    add(60)
    # Session, user, the page (OS type and members as subqueries), the date range.
    with django_assert_num_queries(len(few.captured_queries)) as many:
        response = admin_client.get(URL, {"visibility": "shared", "os_type": "Linux"})
    assert len(few.captured_queries) == 4
    assert len(listed(response)) == 62
    assert not any("COUNT(" in query["sql"].upper() for query in many.captured_queries)


def test_owner_filter_keeps_the_other_filters(admin_client, image_factory):
    image_factory(name="a", owner="project-b", status="killed")
    image_factory(name="b", owner="project-b")
    response = admin_client.get(URL, {"status__exact": "killed", "owner": "project-b"})
    assert listed(response) == ["a"]
    page = response.content.decode()
    assert '<input type="hidden" name="status__exact" value="killed">' in page
    assert 'name="owner" value="project-b"' in page
