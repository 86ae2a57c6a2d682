"""docs/api.md#filters: one test per row, each asserting the exact result."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest

from catalog.services import image_soft_delete

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"
T0 = datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC)


def names(response):
    assert response.status_code == HTTPStatus.OK, response.content
    return [image["name"] for image in response.json()["images"]]


@pytest.fixture
def catalog(image_factory):
    image_factory(name="cirros", status="active", disk_format="qcow2", size=100)
    image_factory(name="My Image!", status="queued", disk_format="raw", size=None, checksum=None)
    image_factory(name="a:b", status="active", disk_format="vhd", container_format="ovf", size=300)
    image_factory(name="ubuntu", status="saving", disk_format="zvhd2", size=200)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"name": "cirros"}, ["cirros"]),
        ({"name": "My Image!"}, ["My Image!"]),
        ({"name": "my image!"}, []),
        ({"name": "a:b"}, ["a:b"]),  # a ':' is taken literally
        ({"name": "cirr"}, []),  # exact, not a prefix
        ({"name": ""}, []),  # an empty value is a value too
        ({"status": "queued"}, ["My Image!"]),
        ({"status": "active"}, ["a:b", "cirros"]),
        ({"status": "nonsense"}, []),
        ({"disk_format": "zvhd2"}, ["ubuntu"]),
        ({"container_format": "ovf"}, ["a:b"]),
        ({"container_format": "bare", "status": "active"}, ["cirros"]),
    ],
)
def test_exact_equality_filters(member_api, catalog, query, expected):
    assert names(member_api.get(DETAIL, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"size_min": "200"}, ["ubuntu", "a:b"]),  # inclusive
        ({"size_max": "200"}, ["ubuntu", "cirros"]),  # inclusive
        ({"size_min": "100", "size_max": "100"}, ["cirros"]),
        ({"size_min": "0"}, ["ubuntu", "a:b", "cirros"]),  # no size never matches
        ({"size_max": "9223372036854775807"}, ["ubuntu", "a:b", "cirros"]),
        ({"size_min": "301"}, []),
    ],
)
def test_size_bounds_are_inclusive_and_skip_images_without_size(
    member_api, catalog, query, expected
):
    assert names(member_api.get(DETAIL, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"min_ram": "512"}, ["small"]),
        ({"min_ram": "0"}, ["zero"]),
        ({"min_disk": "40"}, ["big"]),
        ({"min_disk": "0"}, ["small", "zero"]),
    ],
)
def test_min_ram_and_min_disk_are_equality(member_api, image_factory, query, expected):
    image_factory(name="zero", min_ram=0, min_disk=0)
    image_factory(name="small", min_ram=512, min_disk=0)
    image_factory(name="big", min_ram=2048, min_disk=40)
    assert names(member_api.get(DETAIL, query)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", ["locked"]),
        ("1", ["locked"]),
        ("TRUE", ["locked"]),
        ("false", ["open"]),
        ("0", ["open"]),
        ("False", ["open"]),
    ],
)
def test_protected_filter(member_api, image_factory, value, expected):
    image_factory(name="open", protected=False)
    image_factory(name="locked", protected=True)
    assert names(member_api.get(DETAIL, {"protected": value})) == expected


def test_changes_since_is_strictly_later_and_includes_deleted_and_killed(member_api, image_factory):
    image_factory(name="old", updated_at=T0)
    image_factory(name="same-instant", updated_at=T0 + timedelta(hours=1))
    image_factory(name="killed", status="killed", updated_at=T0 + timedelta(hours=2))
    image_factory(name="pending", status="pending_delete", updated_at=T0 + timedelta(hours=3))
    gone = image_factory(name="gone", updated_at=T0)
    image_soft_delete(image=gone, now=T0 + timedelta(hours=4))

    since = (T0 + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert names(member_api.get(DETAIL, {"changes-since": since})) == ["gone", "pending", "killed"]
    response = member_api.get(DETAIL, {"changes-since": since})
    gone_entry = response.json()["images"][0]
    assert gone_entry["deleted"] is True
    assert gone_entry["status"] == "deleted"
    assert gone_entry["deleted_at"] == "2021-03-01T16:00:00.000000"


def test_without_changes_since_deleted_killed_and_pending_delete_are_hidden(
    member_api, image_factory
):
    image_factory(name="shown")
    image_factory(name="killed", status="killed")
    image_factory(name="pending", status="pending_delete")
    image_soft_delete(image=image_factory(name="gone"))
    assert names(member_api.get(DETAIL)) == ["shown"]


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2021-03-01", ["noon", "morning"]),
        ("20210301", ["noon", "morning"]),
        ("2021-03-01T09:00", ["noon"]),
        ("2021-03-01 09:00:00", ["noon"]),
        ("2021-03-01T08:59:59.999999", ["noon", "morning"]),
        ("2021-03-01T10:00:00+01:00", ["noon"]),  # 09:00 UTC
        ("2021-03-01T10:00:00+0100", ["noon"]),
        ("2021-03-01T04:00:00-05:00", ["noon"]),  # 09:00 UTC
        ("2021-03-01T11:59:59Z", ["noon"]),
        ("2021-03-01T12:00:00Z", []),
    ],
)
def test_changes_since_accepts_glance_time_forms(member_api, image_factory, since, expected):
    image_factory(name="morning", updated_at=datetime(2021, 3, 1, 9, 0, tzinfo=UTC))
    image_factory(name="noon", updated_at=datetime(2021, 3, 1, 12, 0, tzinfo=UTC))
    assert names(member_api.get(DETAIL, {"changes-since": since})) == expected


def test_changes_since_offset_sent_as_percent_2b(member_api, image_factory):
    image_factory(name="morning", updated_at=datetime(2021, 3, 1, 9, 0, tzinfo=UTC))
    image_factory(name="noon", updated_at=datetime(2021, 3, 1, 12, 0, tzinfo=UTC))
    response = member_api.get(f"{DETAIL}?changes-since=2021-03-01T10:00:00%2B01:00")
    assert names(response) == ["noon"]


def test_a_literal_plus_in_changes_since_decodes_to_a_space_and_is_refused(member_api):
    response = member_api.get(f"{DETAIL}?changes-since=2021-03-01T10:00:00+01:00")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["message"] == "Unrecognized changes-since value"


def test_property_filters_match_exact_key_and_value_and_combine(member_api, image_factory):
    image_factory(name="linux", properties={"__os_type": "Linux", "__os_bit": "64"})
    image_factory(name="linux32", properties={"__os_type": "Linux", "__os_bit": "32"})
    image_factory(name="case", properties={"__OS_TYPE": "Linux"})
    image_factory(name="bare")
    assert names(member_api.get(DETAIL, {"property-__os_type": "Linux"})) == ["linux32", "linux"]
    assert names(member_api.get(DETAIL, {"property-__os_type": "linux"})) == []
    assert names(member_api.get(DETAIL, {"property-__OS_TYPE": "Linux"})) == ["case"]
    both = {"property-__os_type": "Linux", "property-__os_bit": "64"}
    assert names(member_api.get(DETAIL, both)) == ["linux"]
    assert names(member_api.get(DETAIL, {"property-missing": "x"})) == []


def test_property_filter_compares_long_values_in_full(member_api, image_factory):
    long_value = "v" * 150
    image_factory(name="long", properties={"note": long_value})
    image_factory(name="same-prefix", properties={"note": long_value[:-1] + "w"})
    assert names(member_api.get(DETAIL, {"property-note": long_value})) == ["long"]


def test_filters_combine_with_and(member_api, catalog):
    query = {"status": "active", "size_min": "150", "disk_format": "vhd"}
    assert names(member_api.get(DETAIL, query)) == ["a:b"]


def test_a_repeated_parameter_counts_its_last_value(member_api, catalog):
    assert names(member_api.get(f"{DETAIL}?name=ubuntu&name=cirros")) == ["cirros"]


def test_unknown_parameters_are_ignored(member_api, catalog):
    assert names(member_api.get(DETAIL, {"colour": "blue", "name": "cirros"})) == ["cirros"]


def test_property_filters_up_to_the_cap_are_served(member_api, image_factory, settings):
    settings.CATALOG_MAX_PROPERTY_FILTERS = 20
    properties = {f"k{n}": "v" for n in range(20)}
    image_factory(name="all", properties=properties)
    image_factory(name="some", properties={"k0": "v"})
    query = {f"property-{key}": value for key, value in properties.items()}
    assert names(member_api.get(DETAIL, query)) == ["all"]


def test_more_property_filters_than_the_cap_are_a_400_that_says_the_limit(member_api, settings):
    settings.CATALOG_MAX_PROPERTY_FILTERS = 20
    query = {f"property-k{n}": "v" for n in range(21)}
    response = member_api.get(DETAIL, query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == {
        "message": "Too many property filters: at most 20 are allowed in one request.",
        "code": 400,
        "title": "Bad Request",
    }
    assert member_api.get("/v1.1/images", query).status_code == HTTPStatus.BAD_REQUEST


def test_a_repeated_property_filter_counts_once_toward_the_cap(member_api, settings):
    settings.CATALOG_MAX_PROPERTY_FILTERS = 1
    assert member_api.get(f"{DETAIL}?property-a=1&property-a=2").status_code == HTTPStatus.OK
    assert member_api.get(f"{DETAIL}?property-a=1&property-b=2").status_code == (
        HTTPStatus.BAD_REQUEST
    )
