"""The OpenAPI description at /openapi.json: valid, and true to the API."""

import re
import uuid
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
        "/{version}/images/{image_id}": ["delete", "get", "head"],
        "/{version}/images/{image_id}/members": ["get"],
        "/{version}/images/{image_id}/members/{member_id}": ["get"],
        "/{version}/shared-images/{project}": ["get"],
        "/healthz": ["get", "head"],
        "/v2": ["get"],
        "/v2/images": ["get"],
        "/v2/images/{image_id}": ["get"],
        "/v2/images/{image_id}/file": ["get"],
        "/v2/schemas/image": ["get"],
        "/v2/schemas/images": ["get"],
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
        "limit",
        "marker",
        "sort_key",
        "sort_dir",
        "version",
    } <= names
    assert not any(name.startswith("property-") for name in names)
    assert "`property-<key>=<value>`" in operation["description"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "405", "500", "503"}
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
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["required"] == ["error"]
    assert set(schemas["ErrorDetail"]["required"]) == {"message", "code", "title"}


def parameter(spec, name, path="/{version}/images/detail"):
    operation = spec["paths"][path]["get"]
    return next(p["schema"] for p in operation["parameters"] if p["name"] == name)


def test_exact_filters_take_any_text_and_booleans_only_their_words(spec, member_api):
    for name in ("status", "disk_format", "container_format"):
        assert "enum" not in parameter(spec, name)
        # Any text is a valid exact-match value, an unknown one matches nothing.
        response = member_api.get("/v1.1/images/detail", {name: "not-a-known-value"})
        assert response.status_code == 200
    assert re.fullmatch(parameter(spec, "protected")["pattern"], "TrUe")
    assert not re.fullmatch(parameter(spec, "protected")["pattern"], "none")
    assert re.fullmatch(parameter(spec, "is_public")["pattern"], "NONE")
    assert member_api.get("/v1.1/images/detail", {"is_public": "yes"}).status_code == 400


def test_head_is_an_empty_html_body_and_get_of_an_image_needs_a_token(spec):
    image = spec["paths"]["/{version}/images/{image_id}"]
    assert list(image["head"]["responses"]["200"]["content"]) == ["text/html"]
    assert "content" not in image["head"]["responses"]["404"]
    assert {"401", "403", "404"} <= set(image["get"]["responses"])


def test_delete_is_an_empty_html_body_and_documents_each_refusal(spec):
    operation = spec["paths"]["/{version}/images/{image_id}"]["delete"]
    assert operation["operationId"] == "deleteImage"
    assert list(operation["responses"]["200"]["content"]) == ["text/html"]
    assert {"200", "401", "403", "404", "500", "503"} == set(operation["responses"])
    forbidden = operation["responses"]["403"]["description"]
    assert "Forbidden to delete a protected image." in forbidden
    assert "Forbidden to delete a pending_delete image." in forbidden
    assert operation["security"] == [{"token": []}]


def test_the_member_reads_are_described_as_they_answer(spec, member_api, image_factory):
    image = image_factory(owner="project-a", members=["project-b"])
    answers = {
        "/{version}/images/{image_id}/members": f"/v1/images/{image.pk}/members",
        "/{version}/images/{image_id}/members/{member_id}": (
            f"/v1/images/{image.pk}/members/project-b"
        ),
        "/{version}/shared-images/{project}": "/v1/shared-images/project-a",
    }
    for path, url in answers.items():
        operation = spec["paths"][path]["get"]
        assert {"200", "401", "403", "500", "503"} <= set(operation["responses"]), path
        described = operation["responses"]["200"]["content"]["application/json"]["schema"]
        (envelope,) = described["required"]
        body = member_api.get(url).json()
        assert list(body) == [envelope]
        items = described["properties"][envelope]
        entries = body[envelope] if items.get("type") == "array" else [body[envelope]]
        entry_schema = items.get("items", items)
        for entry in entries:
            assert list(entry) == entry_schema["required"]


def test_the_health_check_answers_other_methods_with_the_apis_405(anonymous_api):
    response = anonymous_api.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == 405
    assert anonymous_api.head("/healthz").status_code == 200


def test_every_operation_documents_the_maintenance_503(spec, member_api, settings):
    settings.CATALOG_MAINTENANCE = True
    for path, operations in spec["paths"].items():
        url = (
            path.replace("{version}", "v1.1")
            .replace("{image_id}", str(uuid.uuid4()))
            .replace("{member_id}", "project-b")
            .replace("{project}", "project-a")
        )
        for method, operation in operations.items():
            response = member_api.generic(method.upper(), url)
            assert response.status_code == 503, (method, path)
            assert "503" in operation["responses"], (method, path)


def test_the_v2_listing_is_described_with_its_parameters_and_image(spec, member_api, image_factory):
    operation = spec["paths"]["/v2/images"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {
        "name",
        "id",
        "status",
        "visibility",
        "member_status",
        "created_at",
        "sort",
        "sort_key",
        "sort_dir",
        "limit",
        "marker",
    } <= names
    assert "`__imagetype=gold`" in operation["description"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "405", "500", "503"}
    image_factory(properties={"__os_type": "Linux"})
    body = member_api.get("/v2/images").json()
    envelope = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(envelope["required"]) <= set(body) <= set(envelope["properties"])
    described = envelope["properties"]["images"]["items"]
    (image,) = body["images"]
    assert [key for key in image if key != "__os_type"] == described["required"]
    one = spec["paths"]["/v2/images/{image_id}"]["get"]["responses"]["200"]["content"]
    assert one["application/json"]["schema"] == described
