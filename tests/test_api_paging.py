"""docs/api.md#paging: limit, marker, sort_key, sort_dir and the order they give."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest

from catalog.services import image_soft_delete

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"
SORT_KEYS = [
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
]
T0 = datetime(2022, 1, 1, tzinfo=UTC)


def ids(response):
    assert response.status_code == HTTPStatus.OK, response.content
    return [image["id"] for image in response.json()["images"]]


def walk(client, query, page_size):
    """Follow markers as a client does, until a page comes back shorter than the limit."""
    seen, marker = [], None
    for _ in range(100):
        params = {**query, "limit": page_size, **({"marker": marker} if marker else {})}
        page = ids(client.get(DETAIL, params))
        seen += page
        if len(page) < page_size:
            return seen
        marker = page[-1]
    raise AssertionError("paging did not end")


@pytest.fixture
def tricky_catalog(image_factory):
    """Ties and nulls in every sort key: same names, same sizes, same created_at, no size."""
    made = []
    values = itertools.cycle(
        [
            {"name": "alpha", "size": 10, "disk_format": "raw", "status": "active"},
            {"name": None, "size": None, "disk_format": None, "container_format": None},
            {"name": "beta", "size": 10, "disk_format": "qcow2", "status": "queued"},
            {"name": "alpha", "size": 5, "disk_format": "raw", "status": "saving"},
        ]
    )
    for n in range(14):
        fields = next(values)
        moment = T0 + timedelta(minutes=n // 3)  # three images share each created_at
        made.append(
            image_factory(
                id=uuid.UUID(int=(n * 7919) % 65536 + 1),
                created_at=moment,
                updated_at=T0 + timedelta(minutes=n % 4),
                **{"checksum": None, **fields},
            )
        )
    return made


def expected_order(images, sort_key, sort_dir):
    """The contract's order in Python: key (a null after every value), created_at, id."""

    def key(image):
        value = getattr(image, sort_key)
        parts = [(value is None, value if value is not None else 0)]
        if sort_key != "created_at":
            parts.append((False, image.created_at))
        if sort_key != "id":
            parts.append((False, image.id))
        return parts

    ordered = sorted(images, key=key, reverse=sort_dir == "desc")
    return [str(image.id) for image in ordered]


@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
@pytest.mark.parametrize("sort_key", SORT_KEYS)
def test_pages_follow_the_total_order_without_repeats_or_gaps(
    member_api, tricky_catalog, sort_key, sort_dir
):
    query = {"sort_key": sort_key, "sort_dir": sort_dir}
    expected = expected_order(tricky_catalog, sort_key, sort_dir)
    assert ids(member_api.get(DETAIL, {**query, "limit": 100})) == expected
    for page_size in (1, 2, 5):
        assert walk(member_api, query, page_size) == expected


def test_default_order_is_created_at_descending(member_api, image_factory):
    first = image_factory(created_at=T0)
    second = image_factory(created_at=T0 + timedelta(seconds=1))
    assert ids(member_api.get(DETAIL)) == [str(second.id), str(first.id)]


def test_default_page_size_is_25(member_api, image_factory):
    for _ in range(27):
        image_factory()
    assert len(ids(member_api.get(DETAIL))) == 25


def test_page_size_default_and_cap_are_settings(member_api, image_factory, settings):
    settings.CATALOG_DEFAULT_LIMIT = 2
    settings.CATALOG_MAX_LIMIT = 3
    for _ in range(5):
        image_factory()
    assert len(ids(member_api.get(DETAIL))) == 2
    assert len(ids(member_api.get(DETAIL, {"limit": "1000"}))) == 3  # cut silently


def test_limit_above_the_cap_is_cut_to_1000(member_api, image_factory, settings):
    settings.CATALOG_MAX_LIMIT = 1000
    image_factory()
    assert len(ids(member_api.get(DETAIL, {"limit": "5000"}))) == 1
    assert len(ids(member_api.get(DETAIL, {"limit": "9" * 10_000}))) == 1


@pytest.mark.parametrize("limit", ["0", "-0", "000"])
def test_limit_zero_gives_an_empty_list(member_api, image_factory, limit):
    image_factory()
    response = member_api.get(DETAIL, {"limit": limit})
    assert response.json() == {"images": []}


def test_marker_starts_the_page_strictly_after_it(member_api, image_factory):
    images = [image_factory() for _ in range(4)]  # newest last
    response = member_api.get(DETAIL, {"marker": str(images[2].id)})
    assert ids(response) == [str(images[1].id), str(images[0].id)]


def test_marker_equal_to_the_last_image_gives_an_empty_page(member_api, image_factory):
    oldest = image_factory()
    image_factory()
    assert member_api.get(DETAIL, {"marker": str(oldest.id)}).json() == {"images": []}


def test_marker_need_not_match_the_filters(member_api, image_factory):
    images = [image_factory(status=status) for status in ("active", "queued", "active")]
    response = member_api.get(DETAIL, {"status": "active", "marker": str(images[1].id)})
    assert ids(response) == [str(images[0].id)]


def test_marker_of_an_image_the_caller_cannot_see_is_refused(api_as, image_factory):
    hidden = image_factory(is_public=False, owner="someone-else")
    response = api_as("project-a").get(DETAIL, {"marker": str(hidden.id)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["message"] == "Invalid marker. Image could not be found."


def test_marker_of_a_windows_image_is_refused(member_api, image_factory):
    windows = image_factory(properties={"__os_type": "Windows"})
    response = member_api.get(DETAIL, {"marker": str(windows.id)})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_a_deleted_marker_needs_changes_since_unless_admin(member_api, admin_api, image_factory):
    older = image_factory(updated_at=T0)
    gone = image_factory(updated_at=T0)
    image_soft_delete(image=gone, now=T0 + timedelta(days=1))
    assert member_api.get(DETAIL, {"marker": str(gone.id)}).status_code == HTTPStatus.BAD_REQUEST
    with_since = {"marker": str(gone.id), "changes-since": "2000-01-01"}
    assert ids(member_api.get(DETAIL, with_since)) == [str(older.id)]
    assert ids(admin_api.get(DETAIL, {"marker": str(gone.id)})) == [str(older.id)]


def test_the_brief_listing_pages_the_same_way(member_api, image_factory):
    images = [image_factory() for _ in range(3)]
    response = member_api.get("/v1.1/images", {"limit": "1", "marker": str(images[2].id)})
    assert [entry["id"] for entry in response.json()["images"]] == [str(images[1].id)]
