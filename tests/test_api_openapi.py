"""The OpenAPI description at /openapi.json: valid, and true to the API."""

from http import HTTPStatus

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec(anonymous_api):
    response = anonymous_api.get("/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def test_the_description_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_it_describes_every_route(spec):
    assert {path: sorted(methods) for path, methods in spec["paths"].items()} == {
        "/": ["get"],
        "/versions": ["get"],
        "/{version}": ["get"],
        "/{version}/images": ["get"],
        "/{version}/images/detail": ["get"],
        "/{version}/images/{image_id}": ["get", "head"],
    }


def test_the_listing_names_every_parameter_and_error_status(spec):
    operation = spec["paths"]["/{version}/images/detail"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {
        "name",
        "status",
        "container_format",
        "disk_format",
        "size_min",
        "size_max",
        "changes-since",
        "min_ram",
        "min_disk",
        "protected",
        "is_public",
        "property-{key}",
        "limit",
        "marker",
        "sort_key",
        "sort_dir",
        "version",
    } <= names
    assert set(operation["responses"]) == {"200", "400", "401", "403", "405", "500", "503"}
    assert operation["security"] == [{"token": []}]
    assert spec["components"]["securitySchemes"]["token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
    }


def test_the_described_entry_matches_a_real_response(spec, member_api, image_factory):
    image_factory(properties={"k": "v"})
    entry = member_api.get("/v1.1/images/detail").json()["images"][0]
    schema = spec["paths"]["/{version}/images/detail"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    described = schema["properties"]["images"]["items"]
    assert list(entry) == described["required"]
    assert set(entry) == set(described["properties"])


def test_error_bodies_are_described_in_the_nested_shape(spec):
    response = spec["paths"]["/{version}/images/detail"]["get"]["responses"]["400"]
    schema = response["content"]["application/json"]["schema"]
    assert schema["properties"]["error"]["required"] == ["message", "code", "title"]
