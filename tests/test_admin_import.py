"""The import page: upload, preview with every error, confirm, all or nothing."""

import json
import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.admin import importing
from catalog.catalog_file import check_catalog
from catalog.models import Image
from catalog.services import images_import

pytestmark = pytest.mark.django_db

URL = "/admin/catalog/image/import/"


@pytest.fixture(autouse=True)
def private_waiting_room(tmp_path, monkeypatch):
    monkeypatch.setattr(importing.tempfile, "gettempdir", lambda: str(tmp_path))
    return tmp_path / "ims-catalog-imports"


def entry(n, **fields):
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": f"image-{n}",
        "status": "active",
        "created_at": "2020-01-01T00:00:00.000000",
        "updated_at": "2020-01-02T00:00:00.000000",
        **fields,
    }


def upload(images, name="catalog.json"):
    return SimpleUploadedFile(name, json.dumps({"images": images}).encode(), "application/json")


def preview(client, file):
    return client.post(URL, {"file": file})


def token_of(response):
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_change_list_links_to_the_import_page(admin_client):
    page = admin_client.get("/admin/catalog/image/").content.decode()
    assert 'href="/admin/catalog/image/import/"' in page
    response = admin_client.get(URL)
    assert response.status_code == 200
    assert "Check the file" in response.content.decode()


def test_preview_counts_then_confirm_imports(admin_client, image_factory):
    existing = images_import(entries=check_catalog(json.dumps({"images": [entry(1)]}).encode())[0])
    assert existing.created == 1
    file = upload([entry(1, name="renamed"), entry(2), {"name": "no-id", "status": "queued"}])
    response = preview(admin_client, file)
    assert response.status_code == 200
    assert (response.context["counts"].created, response.context["counts"].updated) == (2, 1)
    assert response.context["error_count"] == 0
    assert Image.objects.count() == 1  # a preview writes nothing

    done = admin_client.post(URL, {"token": token_of(response)}, follow=True)
    assert "Imported “catalog.json”: 2 created, 1 updated." in messages_of(done)
    assert sorted(Image.objects.values_list("name", flat=True)) == ["image-2", "no-id", "renamed"]
    flags = dict(
        LogEntry.objects.filter(object_id__in=[str(i.pk) for i in Image.objects.all()]).values_list(
            "object_repr", "action_flag"
        )
    )
    assert flags == {"renamed": CHANGE, "image-2": ADDITION, "no-id": ADDITION}
    history = admin_client.get(
        f"/admin/catalog/image/{Image.objects.get(name='no-id').pk}/history/"
    )
    assert "Created by importing “catalog.json”." in history.content.decode()


def test_confirming_asks_once_which_images_exist(admin_client):
    images_import(entries=check_catalog(json.dumps({"images": [entry(1)]}).encode())[0])
    response = preview(admin_client, upload([entry(1, name="renamed"), entry(2)]))
    # The staged ids that the catalog holds (catalog/staging.py).
    existence = re.compile(r"SELECT s\.id FROM \S+catalog_import_image\S* s WHERE")
    with CaptureQueriesContext(connection) as queries:
        done = admin_client.post(URL, {"token": token_of(response)}, follow=True)
    assert "Imported “catalog.json”: 1 created, 1 updated." in messages_of(done)
    asked = [q["sql"] for q in queries.captured_queries if existence.match(q["sql"])]
    assert len(asked) == 1


def test_preview_lists_every_error_with_its_position(admin_client):
    file = upload(
        [
            entry(1),
            entry(2, size=-1),
            entry(3, is_public="true"),
            entry(1),
            entry(5, deleted_at="2020-01-01"),
        ]
    )
    response = preview(admin_client, file)
    assert response.context["errors"] == [
        "entry 2 (id 00000000-0000-4000-8000-000000000002): size: "
        "Input should be greater than or equal to 0",
        "entry 3 (id 00000000-0000-4000-8000-000000000003): is_public: "
        "Input should be a valid boolean",
        "entry 4 (id 00000000-0000-4000-8000-000000000001): id: the same id as entry 1",
        "entry 5 (id 00000000-0000-4000-8000-000000000005): deleted_at: set, but deleted is false",
    ]
    page = response.content.decode()
    assert "This file has 4 errors" in page
    assert 'name="token"' not in page  # nothing to confirm
    assert not Image.objects.exists()


def test_preview_lists_every_field_error_of_an_entry(admin_client):
    bad = {**entry(2, size=-1, min_ram="1"), "id": "not-a-uuid"}
    response = preview(admin_client, upload([entry(1), bad, entry(3, checksum="ABC")]))
    # The lines read as the import command's report: position, id, field, problem.
    assert response.context["errors"] == [
        "entry 2 (id not-a-uuid): id: not a UUID: 'not-a-uuid'",
        "entry 2 (id not-a-uuid): size: Input should be greater than or equal to 0",
        "entry 2 (id not-a-uuid): min_ram: Input should be a valid integer",
        "entry 3 (id 00000000-0000-4000-8000-000000000003): checksum: "
        "String should match pattern '^[0-9a-f]{32}$'",
    ]
    page = response.content.decode()
    assert "This file has 4 errors" in page
    assert "entry 2 (id not-a-uuid): size: Input should be greater than or equal to 0" in page


def test_preview_shows_at_most_the_limit_of_errors(admin_client, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ERRORS_SHOWN", 3)
    response = preview(admin_client, upload([entry(n, size=-1, min_disk=-1) for n in (1, 2)]))
    assert response.context["error_count"] == 4
    assert len(response.context["errors"]) == 3
    assert "The first 3 errors are shown" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not a JSON document"),
        (b'{"entries": []}', "not a catalog file: unexpected top-level key 'entries'"),
        (b"[]", 'not a catalog file: expected {"images": [...]} at the top'),
        (b'{"images": [], "extra": 1}', "unexpected top-level key 'extra'"),
    ],
)
def test_a_file_that_is_not_a_catalog_is_refused(admin_client, content, message):
    response = preview(admin_client, SimpleUploadedFile("bad.json", content))
    assert message in response.context["errors"][0]
    assert not Image.objects.exists()


def test_a_file_too_large_is_refused(admin_client, monkeypatch):
    from catalog.forms import CatalogUploadForm

    monkeypatch.setattr(CatalogUploadForm, "MAX_BYTES", 10)
    response = preview(admin_client, upload([entry(1)]))
    assert "the admin takes files up to" in " ".join(response.context["form"].errors["file"])


def test_a_token_is_good_for_one_import(admin_client):
    token = token_of(preview(admin_client, upload([entry(1)])))
    admin_client.post(URL, {"token": token})
    again = admin_client.post(URL, {"token": token}, follow=True)
    assert "The previewed file is gone" in " ".join(messages_of(again))
    assert Image.objects.count() == 1


@pytest.mark.parametrize("token", ["", "forged", "x:y:z"])
def test_a_forged_token_imports_nothing(admin_client, token):
    response = admin_client.post(URL, {"token": token}, follow=True)
    assert "upload the file again" in " ".join(messages_of(response))
    assert not Image.objects.exists()


def test_an_expired_preview_imports_nothing(admin_client, monkeypatch):
    token = token_of(preview(admin_client, upload([entry(1)])))
    monkeypatch.setattr(importing, "WAITING_SECONDS", -1)
    response = admin_client.post(URL, {"token": token}, follow=True)
    assert "more than an hour old" in " ".join(messages_of(response))
    assert not Image.objects.exists()


def test_a_preview_belongs_to_its_user(admin_client, django_user_model, client):
    token = token_of(preview(admin_client, upload([entry(1)])))
    other = django_user_model.objects.create_superuser("other", password=None)
    client.force_login(other)
    response = client.post(URL, {"token": token}, follow=True)
    assert "belongs to someone else" in " ".join(messages_of(response))
    assert not Image.objects.exists()


def test_a_file_changed_on_the_server_is_not_imported(admin_client, private_waiting_room):
    token = token_of(preview(admin_client, upload([entry(1)])))
    (stashed,) = private_waiting_room.iterdir()
    stashed.write_bytes(json.dumps({"images": [entry(1), entry(2)]}).encode())
    response = admin_client.post(URL, {"token": token}, follow=True)
    assert "changed on the server" in " ".join(messages_of(response))
    assert not Image.objects.exists()


def test_a_database_refusal_imports_nothing(admin_client, monkeypatch):
    from django.db import IntegrityError

    token = token_of(preview(admin_client, upload([entry(1), entry(2)])))

    def refuse(**kwargs):
        raise IntegrityError("duplicate key value\nDETAIL: more")

    monkeypatch.setattr(importing, "images_import", refuse)
    response = admin_client.post(URL, {"token": token}, follow=True)
    assert "The database refused the import: duplicate key value" in messages_of(response)
    assert not Image.objects.exists()
    assert not LogEntry.objects.exists()


def test_a_viewer_may_check_a_file_but_not_import_it(client):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Catalog viewers"))
    client.force_login(viewer)
    response = preview(client, upload([entry(1)]))
    assert response.status_code == 200
    assert response.context["counts"].created == 1
    assert 'name="token"' not in response.content.decode()
    assert "importing it needs a curator" in response.content.decode()
    forged = client.post(URL, {"token": "anything"})
    assert forged.status_code == 403
    assert not Image.objects.exists()


def test_old_unconfirmed_files_are_swept(admin_client, private_waiting_room, monkeypatch):
    preview(admin_client, upload([entry(1)]))
    assert len(list(private_waiting_room.iterdir())) == 1
    monkeypatch.setattr(importing, "WAITING_SECONDS", -1)
    preview(admin_client, upload([entry(2)]))
    assert len(list(private_waiting_room.iterdir())) == 1
