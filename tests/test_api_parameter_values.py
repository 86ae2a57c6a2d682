"""Malformed parameter values: each parameter answers with its own message, a NUL never
reaches the database, numbers take leading zeros, and the first problem is always the same."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .test_api_errors import DETAIL, SORT_KEYS, error_of

pytestmark = pytest.mark.django_db

MARKER = "3c3d1d01-b48a-4639-8a88-08be3b9b5d78"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("changes-since=%00", "Unrecognized changes-since value"),
        ("changes-since=2016-01-01%00", "Unrecognized changes-since value"),
        ("marker=%00", "Invalid marker format"),
        (f"marker={MARKER}%00", "Invalid marker format"),
        ("sort_key=%00", f"Unsupported sort_key. Acceptable values: {SORT_KEYS}"),
        ("sort_key=name%00", f"Unsupported sort_key. Acceptable values: {SORT_KEYS}"),
        ("sort_dir=%00", "Unsupported sort_dir. Acceptable values: asc, desc"),
        ("limit=%00", "limit param must be an integer"),
        ("limit=1%00", "limit param must be an integer"),
        ("size_min=%00", "Bad value passed to filter size_min got \x00"),
        ("size_max=1%00", "Bad value passed to filter size_max got 1\x00"),
        ("min_ram=%00", "Bad value passed to filter min_ram got \x00"),
        ("min_disk=%00", "Bad value passed to filter min_disk got \x00"),
        ("protected=%00", "Bad value passed to filter protected got \x00"),
        ("is_public=true%00", "Bad value passed to filter is_public got true\x00"),
    ],
)
def test_a_nul_gets_the_parameters_own_message(member_api, query, message):
    assert error_of(member_api.get(f"{DETAIL}?{query}")) == message


@pytest.mark.parametrize(
    "query",
    [
        "name=%00",
        "name=cirros%00",
        "status=active%00",
        "container_format=%00bare",
        "disk_format=qcow2%00",
        "property-__os_type=Linux%00",
        "property-__os_type%00=Linux",
        "name=cirros&property-a=%00",
    ],
)
@pytest.mark.parametrize("path", [DETAIL, "/v1/images"])
def test_an_exact_filter_with_a_nul_matches_nothing_without_asking_the_database(
    member_api, image_factory, path, query
):
    image_factory(name="cirros", properties={"__os_type": "Linux", "a": ""})
    member_api.get(path)  # a first use of a token records its time
    with CaptureQueriesContext(connection) as queries:
        response = member_api.get(f"{path}?{query}")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"images": []}
    assert len(queries) == 1  # the token; no query for the images
    assert all("\x00" not in repr(query["sql"]) for query in queries.captured_queries)


def test_a_nul_in_a_parameter_the_api_does_not_know_is_ignored(member_api, image_factory):
    image_factory(name="cirros")
    response = member_api.get(f"{DETAIL}?other=%00&%00=x")
    assert [image["name"] for image in response.json()["images"]] == ["cirros"]


@pytest.mark.parametrize(
    "query", ["name=%FF", "name=%00%FF", "property-%C3%28=v", "sort_key=%C3%28", "marker=%FF"]
)
def test_a_query_string_that_is_not_utf8_is_refused(member_api, query):
    assert error_of(member_api.get(f"{DETAIL}?{query}")) == "The query string is not valid UTF-8."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"min_ram={'0' * 20}1", ["one"]),
        ("min_ram=0001", ["one"]),
        ("min_ram=000", ["zero"]),
        (f"min_disk={'0' * 50}40", ["one"]),
        (f"size_min={'0' * 30}150", ["one"]),
        (f"size_max={'0' * 30}100", ["zero"]),
        (f"size_max={'0' * 100}9223372036854775807", ["one", "zero"]),
    ],
)
def test_numeric_filters_accept_leading_zeros(member_api, image_factory, query, expected):
    image_factory(name="zero", size=100, min_ram=0, min_disk=0)
    image_factory(name="one", size=200, min_ram=1, min_disk=40)
    response = member_api.get(f"{DETAIL}?{query}")
    assert response.status_code == HTTPStatus.OK, response.content
    assert [image["name"] for image in response.json()["images"]] == expected


@pytest.mark.parametrize(
    "query",
    [
        f"min_ram={'0' * 20}2147483648",
        f"size_min={'0' * 20}9223372036854775808",
        f"min_disk=0{'9' * 10_000}",
    ],
)
def test_zero_padded_values_beyond_the_columns_range_stay_refused(member_api, query):
    name, value = query.split("=")
    assert error_of(member_api.get(f"{DETAIL}?{query}")) == (
        f"Bad value passed to filter {name} got {value[:100]}{'...' if len(value) > 100 else ''}"
    )


@pytest.mark.parametrize(
    "marker",
    [
        "3c3d1d01_b48a_4639_8a88_08be3b9b5d78",  # int() would take the underscores
        f" {MARKER.replace('-', '')[1:]}",  # and a leading space
        f"{MARKER.replace('-', '')[:-1]}\x1f",  # and what Python counts as space
    ],
)
def test_a_marker_must_be_spelled_as_a_uuid(member_api, marker):
    assert error_of(member_api.get(DETAIL, {"marker": marker})) == "Invalid marker format"


@pytest.mark.parametrize(
    "marker",
    [MARKER.upper(), MARKER.replace("-", ""), "{" + MARKER + "}", f"urn:uuid:{MARKER}"],
)
def test_a_marker_may_take_any_uuid_spelling(member_api, image_factory, marker):
    image_factory(id=MARKER, name="marker")
    image_factory(name="newer")
    response = member_api.get(DETAIL, {"marker": marker, "sort_dir": "asc"})
    assert [image["name"] for image in response.json()["images"]] == ["newer"]


# docs/api.md#parameter-errors names one message per problem; with several problems, the
# first of this order is answered (docs/api.md#validation-order): paging first, then the
# filters as declared.
ORDER = [
    ("limit=x", "limit param must be an integer"),
    ("marker=x", "Invalid marker format"),
    ("sort_key=x", f"Unsupported sort_key. Acceptable values: {SORT_KEYS}"),
    ("sort_dir=x", "Unsupported sort_dir. Acceptable values: asc, desc"),
    ("size_min=x", "Bad value passed to filter size_min got x"),
    ("size_max=x", "Bad value passed to filter size_max got x"),
    ("min_ram=x", "Bad value passed to filter min_ram got x"),
    ("min_disk=x", "Bad value passed to filter min_disk got x"),
    ("protected=x", "Bad value passed to filter protected got x"),
    ("is_public=x", "Bad value passed to filter is_public got x"),
    ("changes-since=x", "Unrecognized changes-since value"),
]


@pytest.mark.parametrize("first", range(len(ORDER)))
def test_the_first_problem_in_a_fixed_order_is_answered(member_api, first):
    problems = [query for query, _ in ORDER[first:]]
    for query in (problems, problems[::-1]):  # whatever order the client sends them in
        message = error_of(member_api.get(f"{DETAIL}?{'&'.join(query)}"))
        assert message == ORDER[first][1]


def test_bad_utf8_comes_before_the_token(anonymous_api):
    response = anonymous_api.get(f"{DETAIL}?name=%FF&limit=x")
    assert error_of(response) == "The query string is not valid UTF-8."
    assert anonymous_api.get(f"{DETAIL}?limit=x").status_code == HTTPStatus.UNAUTHORIZED


def test_the_property_filter_count_comes_after_the_filters_and_before_the_marker(
    member_api, settings
):
    settings.CATALOG_MAX_PROPERTY_FILTERS = 1
    too_many = "property-a=1&property-b=2"
    unknown_marker = "marker=00000000-0000-0000-0000-000000000000"
    message = error_of(member_api.get(f"{DETAIL}?{too_many}&{unknown_marker}&changes-since=x"))
    assert message == "Unrecognized changes-since value"
    message = error_of(member_api.get(f"{DETAIL}?{unknown_marker}&{too_many}"))
    assert message.startswith("Too many property filters")
    message = error_of(member_api.get(f"{DETAIL}?{unknown_marker}"))
    assert message == "Invalid marker. Image could not be found."
