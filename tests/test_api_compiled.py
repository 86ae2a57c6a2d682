"""Queries compiled once per shape (catalog.compiled): a request that reuses another's SQL
answers exactly what a freshly built query answers (README, "Speed")."""

from datetime import timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from catalog import compiled
from catalog.models import Image, ImageMember

from .conftest import ADMIN_PROJECT, PROJECT_A, PROJECT_B, ApiClient

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"
LONG = "x" * 300  # longer than the indexed prefix of a property value


@pytest.fixture
def catalog(image_factory):
    now = timezone.now()
    images = []
    for number in range(12):
        images.append(
            image_factory(
                name=None if number % 5 == 0 else f"image {number % 4}",
                owner=(PROJECT_A, PROJECT_B, ADMIN_PROJECT)[number % 3],
                is_public=number % 4 == 0,
                size=number * 1000,
                min_ram=(0, 512, 1024)[number % 3],
                protected=number % 2 == 0,
                disk_format=("qcow2", "zvhd2")[number % 2],
                properties={"__os_type": ("Linux", "Other")[number % 2], "note": LONG[number:]},
            )
        )
    for number, image in enumerate(images):
        Image.objects.filter(pk=image.pk).update(updated_at=now - timedelta(days=number))
    ImageMember.objects.create(image=images[1], member_id=PROJECT_A)
    ImageMember.objects.create(image=images[2], member_id=PROJECT_B)
    return [str(image.pk) for image in images]


def groups(catalog):
    """Requests in groups of one shape each: the same parameters, other values."""
    by_name = {"sort_key": "name", "sort_dir": "asc", "limit": "2", "is_public": "none"}
    days = [(timezone.now() - timedelta(days=n)).isoformat() for n in (3, 8)]
    return [
        [("member", {}), ("other member", {})],
        [("member", {"name": "image 1"}), ("member", {"name": "image 2"})],
        [("admin", {"size_min": "2000"}), ("admin", {"size_min": "7000"})],
        [
            ("member", {"min_ram": "512", "size_max": "9000"}),
            ("member", {"min_ram": "0", "size_max": "4000"}),
        ],
        [("admin", {"changes-since": days[0]}), ("admin", {"changes-since": days[1]})],
        [("member", {"property-__os_type": "Linux"}), ("member", {"property-__os_type": "Other"})],
        [("admin", {"property-note": LONG[1:]}), ("admin", {"property-note": LONG[2:]})],
        # Both pages end before the images without a name (a region of their own).
        [
            ("admin", {**by_name, "marker": catalog[1]}),
            ("admin", {**by_name, "marker": catalog[4]}),
        ],
        [
            ("member", {"sort_key": "size", "marker": catalog[0], "limit": "3"}),
            ("other member", {"sort_key": "size", "marker": catalog[2], "limit": "3"}),
        ],
        [
            ("admin", {"is_public": "false", "protected": "true", "disk_format": "qcow2"}),
            ("admin", {"is_public": "false", "protected": "true", "disk_format": "zvhd2"}),
        ],
    ]


@pytest.fixture
def clients(make_token):
    def client(project, role):
        return ApiClient(make_token(project=project, roles=[role])[1])

    return {
        "member": client(PROJECT_A, "member"),
        "other member": client(PROJECT_B, "member"),
        "admin": client(ADMIN_PROJECT, "admin"),
    }


def image_compilations(client, path, params, method="get"):
    """(response, how many image queries Django compiled for it)."""
    compiled_models = []
    original = SQLCompiler.as_sql

    def spy(compiler, *args, **kwargs):
        compiled_models.append(compiler.query.model)
        return original(compiler, *args, **kwargs)

    with mock.patch.object(SQLCompiler, "as_sql", spy):
        response = getattr(client, method)(path, params)
    return response, compiled_models.count(Image)


def test_a_shape_is_compiled_once_and_answers_as_a_fresh_query(catalog, clients, monkeypatch):
    compiled.forget()
    for group in groups(catalog):
        answers = []
        for position, (who, params) in enumerate(group):
            response, compilations = image_compilations(clients[who], DETAIL, params)
            assert response.status_code == HTTPStatus.OK, response.content
            if position > 0:
                assert compilations == 0, f"{params} was compiled again"
            answers.append(response.content)
        monkeypatch.setattr(compiled, "ENABLED", False)
        fresh = [clients[who].get(DETAIL, params).content for who, params in group]
        monkeypatch.setattr(compiled, "ENABLED", True)
        assert answers == fresh
        assert len(set(answers)) == len(answers), f"{group}: the values made no difference"


def test_head_reuses_its_query_for_every_image(catalog, clients):
    compiled.forget()
    member = clients["member"]
    first, _ = image_compilations(member, "/v1.1/images/" + catalog[0], {}, "head")
    second, compilations = image_compilations(member, "/v1.1/images/" + catalog[1], {}, "head")
    assert (first.status_code, second.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert compilations == 0
    assert first["X-Image-Meta-Id"] == catalog[0]
    assert second["X-Image-Meta-Id"] == catalog[1]


def test_an_unstorable_value_answers_an_empty_page_without_a_query(catalog, clients):
    response, compilations = image_compilations(clients["admin"], DETAIL, {"name": "a\x00b"})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"images": []}
    assert compilations == 0


def test_a_param_refuses_a_null():
    with pytest.raises(ValueError, match="belongs in the shape's key"):
        compiled.Param("name", None, Image._meta.get_field("name"))


def test_a_full_cache_starts_again(monkeypatch, catalog, clients):
    compiled.forget()
    monkeypatch.setattr(compiled, "MAX_SHAPES", 2)
    for limit in ("1", "2", "3"):
        assert clients["admin"].get(DETAIL, {"limit": limit}).status_code == HTTPStatus.OK
    assert len(compiled._shapes) <= 2
