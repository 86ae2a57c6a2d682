"""Soft delete and restore, the bulk actions and "export selected"."""

import io

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.messages import get_messages

from catalog.catalog_file import read_catalog
from catalog.models import Image, ImageProperty
from catalog.services import image_soft_delete

pytestmark = pytest.mark.django_db


URL = "/admin/catalog/image/"


def run_action(client, action, images, query=""):
    return client.post(
        URL + query,
        {"action": action, "_selected_action": [str(image.pk) for image in images]},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def history(image):
    return list(
        LogEntry.objects.filter(object_id=str(image.pk))
        .order_by("action_time", "id")
        .values_list("action_flag", "change_message")
    )


def fresh(image):
    return Image.objects.get(pk=image.pk)


def test_delete_page_explains_the_soft_delete(admin_client, image_factory):
    image = image_factory(name="cirros")
    response = admin_client.get(f"{URL}{image.pk}/delete/")
    page = response.content.decode()
    assert "Deleting keeps the image" in page
    assert "Yes, delete it" in page


def test_delete_is_soft_and_keeps_properties(admin_client, image_factory):
    image = image_factory(name="cirros", properties={"__os_type": "Linux"}, members=["project-b"])
    response = admin_client.post(f"{URL}{image.pk}/delete/", {"post": "yes"}, follow=True)
    assert "“cirros” was deleted. It is kept" in " ".join(messages_of(response))
    image = fresh(image)
    assert (image.status, image.deleted, image.deleted_at is not None) == ("deleted", True, True)
    assert ImageProperty.objects.filter(image=image).count() == 1
    assert image.members.count() == 1
    assert history(image) == [
        (
            CHANGE,
            "Deleted (soft delete): status: “active” → “deleted”; properties and members kept.",
        )
    ]
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_a_protected_image_refuses_deletion(admin_client, image_factory):
    image = image_factory(name="cirros", protected=True)
    page = admin_client.get(f"{URL}{image.pk}/delete/").content.decode()
    assert "“cirros” is protected, so it cannot be deleted" in page
    response = admin_client.post(f"{URL}{image.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert "is protected, so it cannot be deleted" in response.content.decode()
    assert not fresh(image).deleted
    assert history(image) == []


def test_a_deleted_image_offers_restore_instead_of_delete(admin_client, image_factory):
    image = image_soft_delete(image=image_factory(name="cirros"))
    page = admin_client.get(f"{URL}{image.pk}/change/").content.decode()
    assert "This image is deleted" in page
    assert f"{URL}{image.pk}/restore/" in page
    assert f"{URL}{image.pk}/delete/" not in page
    assert admin_client.get(f"{URL}{image.pk}/delete/").status_code == 403


def test_restore_button_brings_an_image_back(admin_client, image_factory):
    image = image_soft_delete(image=image_factory(name="cirros"))
    assert admin_client.get(f"{URL}{image.pk}/restore/").status_code == 405
    response = admin_client.post(f"{URL}{image.pk}/restore/", follow=True)
    assert "“cirros” was restored" in " ".join(messages_of(response))
    image = fresh(image)
    assert (image.status, image.deleted, image.deleted_at) == ("active", False, None)
    assert history(image)[-1] == (CHANGE, "Restored: status: “deleted” → “active”.")


def test_bulk_soft_delete_skips_protected_images_and_says_so(admin_client, image_factory):
    plain = image_factory(name="plain")
    guarded = image_factory(name="guarded", protected=True)
    response = run_action(admin_client, "soft_delete_selected", [plain, guarded])
    notes = " ".join(messages_of(response))
    assert "1 image deleted" in notes
    assert "Not deleted, because protected: “guarded”" in notes
    assert fresh(plain).deleted
    assert not fresh(guarded).deleted


def test_bulk_restore(admin_client, image_factory):
    images = [image_soft_delete(image=image_factory()) for _ in range(2)]
    response = run_action(admin_client, "restore_selected", images, query="?deleted=yes")
    assert "2 images restored" in " ".join(messages_of(response))
    assert not any(fresh(image).deleted for image in images)


def test_restore_of_images_not_deleted_says_so(admin_client, image_factory):
    image = image_factory()
    response = run_action(admin_client, "restore_selected", [image])
    assert "None of the selected images is deleted" in " ".join(messages_of(response))
    assert fresh(image).version == 1


@pytest.mark.parametrize(
    ("action", "field", "value", "message"),
    [
        ("make_public", "is_public", True, "Made public: is public: no → yes."),
        ("make_private", "is_public", False, "Made private: is public: yes → no."),
        ("mark_active", "status", "active", "Marked active: status: “killed” → “active”."),
    ],
)
def test_bulk_changes_write_only_what_differs_and_record_it(
    admin_client, image_factory, action, field, value, message
):
    start = {"make_public": False, "make_private": True, "mark_active": "killed"}[action]
    target = image_factory(**{field: start})
    already = image_factory(**{field: value})
    response = run_action(admin_client, action, [target, already])
    assert "1 image " in " ".join(messages_of(response))
    assert getattr(fresh(target), field) == value
    assert fresh(target).version == 2
    assert fresh(already).version == 1  # untouched: neither updated_at nor the version move
    assert history(target) == [(CHANGE, message)]
    assert history(already) == []


def test_mark_active_leaves_deleted_images_to_restore(admin_client, image_factory):
    image = image_soft_delete(image=image_factory())
    response = run_action(admin_client, "mark_active", [image], query="?deleted=yes")
    assert "restore those instead" in " ".join(messages_of(response))
    assert fresh(image).status == "deleted"


def test_export_selected_downloads_a_catalog_file(admin_client, image_factory):
    old = image_factory(name="old", properties={"__os_type": "Linux"}, members=["project-b"])
    new = image_factory(name="new")
    image_factory(name="not-selected")
    response = admin_client.post(
        URL, {"action": "export_selected", "_selected_action": [str(new.pk), str(old.pk)]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="catalog-')
    body = b"".join(response.streaming_content)
    entries = read_catalog(io.BytesIO(body))
    assert [entry.name for entry in entries] == ["old", "new"]  # oldest first
    assert entries[0].properties == {"__os_type": "Linux"}
    assert entries[0].members[0].member_id == "project-b"


def test_the_real_bulk_delete_is_not_offered(admin_client, image_factory):
    image = image_factory()
    response = admin_client.get(URL)
    choices = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in choices
    assert set(choices) >= {
        "make_public",
        "make_private",
        "mark_active",
        "soft_delete_selected",
        "restore_selected",
        "export_selected",
    }
    run_action(admin_client, "delete_selected", [image])
    assert Image.objects.filter(pk=image.pk).exists()


def test_delete_queryset_goes_through_the_service(rf, admin_user, image_factory):
    from django.contrib.admin import site

    from catalog.services import ImageProtectedError

    model_admin = site._registry[Image]
    request = rf.post("/")
    request.user = admin_user
    images = [image_factory(), image_factory()]
    model_admin.delete_queryset(request, Image.objects.filter(pk__in=[i.pk for i in images]))
    assert all(fresh(image).deleted for image in images)
    with pytest.raises(ImageProtectedError):
        model_admin.delete_queryset(
            request, Image.objects.filter(pk=image_factory(protected=True).pk)
        )
