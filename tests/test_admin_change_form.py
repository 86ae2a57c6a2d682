"""The image change form: fieldsets, validation, properties and members, concurrent edits."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.forms import CheckboxInput

from catalog.models import Image, ImageMember
from catalog.services import MemberData, image_update

pytestmark = pytest.mark.django_db


ADD_URL = "/admin/catalog/image/add/"


def change_url(image):
    return f"/admin/catalog/image/{image.pk}/change/"


def form_data(response):
    """The POST a browser would send for the form on this admin page, as it was rendered."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field.widget, CheckboxInput):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = value
    return data


def add_row(data, prefix, **fields):
    position = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in fields.items():
        data[f"{prefix}-{position}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(position + 1)


def row_of(data, prefix, field, value):
    """The form prefix (e.g. properties-0) of the row whose `field` is `value`."""
    for key, current in data.items():
        if key.startswith(f"{prefix}-") and key.endswith(f"-{field}") and current == value:
            return key.removesuffix(f"-{field}")
    raise KeyError(value)


def history(image):
    return list(
        LogEntry.objects.filter(object_id=str(image.pk))
        .order_by("action_time", "id")
        .values_list("action_flag", "change_message")
    )


def errors_of(response):
    return response.context["adminform"].form.errors


def test_change_form_groups_fields_and_shows_the_record_read_only(admin_client, image_factory):
    image = image_factory(name="cirros", properties={"__os_type": "Linux"}, members=["project-c"])
    response = admin_client.get(change_url(image))
    assert response.status_code == 200
    fieldsets = [fieldset.name for fieldset in response.context["adminform"]]
    assert fieldsets == [None, "Image data", "Record"]
    form = response.context["adminform"].form
    for read_only in ("id", "created_at", "updated_at", "deleted", "deleted_at"):
        assert read_only not in form.fields
    assert form["loaded_version"].value() == 1
    page = response.content.decode()
    assert str(image.pk) in page
    assert 'list="ims-property-keys"' in page
    assert '<datalist id="ims-values-__os_type">' in page
    assert 'value="Windows"' in page
    assert "project-c" in page


def test_edit_fields_and_add_a_property(admin_client, image_factory):
    image = image_factory(name="cirros", properties={"app": "web"})
    data = form_data(admin_client.get(change_url(image)))
    data.update(name="cirros 0.6", min_ram="512")
    add_row(data, "properties", key="__os_type", value="Linux")
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    image.refresh_from_db()
    assert (image.name, image.min_ram, image.version) == ("cirros 0.6", 512, 2)
    assert dict(image.properties.values_list("key", "value")) == {
        "app": "web",
        "__os_type": "Linux",
    }
    assert history(image)[-1] == (
        CHANGE,
        "name: “cirros” → “cirros 0.6”; min ram: 0 → 512; property __os_type added: “Linux”",
    )


def test_property_value_change_and_removal_and_windows_flag(admin_client, image_factory):
    image = image_factory(properties={"__os_type": "Linux", "app": "web"})
    data = form_data(admin_client.get(change_url(image)))
    data[row_of(data, "properties", "key", "__os_type") + "-value"] = "Windows"
    data[row_of(data, "properties", "key", "app") + "-DELETE"] = "on"
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    image.refresh_from_db()
    assert dict(image.properties.values_list("key", "value")) == {"__os_type": "Windows"}
    assert image.is_windows
    assert history(image)[-1][1] == (
        "property __os_type: “Linux” → “Windows”; property app removed (was “web”)"
    )


def test_a_key_freed_and_taken_in_one_save_is_accepted(admin_client, image_factory):
    image = image_factory(properties={"tier": "gold"})
    data = form_data(admin_client.get(change_url(image)))
    data[row_of(data, "properties", "key", "tier") + "-key"] = "level"
    add_row(data, "properties", key="tier", value="silver")
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    assert dict(image.properties.values_list("key", "value")) == {"level": "gold", "tier": "silver"}


def test_members_are_added_changed_and_removed(admin_client, image_factory):
    image = image_factory(members=["project-b", MemberData("project-c", status="pending")])
    data = form_data(admin_client.get(change_url(image)))
    prefix = row_of(data, "members", "member_id", "project-c")
    data[f"{prefix}-status"] = "accepted"
    data[f"{prefix}-can_share"] = "on"
    data[row_of(data, "members", "member_id", "project-b") + "-DELETE"] = "on"
    add_row(data, "members", member_id="project-d", status="pending")
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    assert list(
        ImageMember.objects.filter(image=image).values_list("member_id", "status", "can_share")
    ) == [
        ("project-c", "accepted", True),
        ("project-d", "pending", False),
    ]
    assert history(image)[-1][1] == (
        "member project-b removed; member project-c: pending → accepted, can share; "
        "member project-d added (pending)"
    )


def test_saving_without_changes_writes_nothing(admin_client, image_factory):
    image = image_factory(properties={"a": "1"}, members=["project-b"])
    before = Image.objects.get(pk=image.pk)
    data = form_data(admin_client.get(change_url(image)))
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    after = Image.objects.get(pk=image.pk)
    assert (after.version, after.updated_at) == (before.version, before.updated_at)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Give the image a name of 1 to 128 characters."),
        ({"name": "x" * 129}, "name", "at most 128 characters; this one has 129"),
        ({"name": " cirros"}, "name", "cannot start or end with a space"),
        ({"name": "cirros "}, "name", "cannot start or end with a space"),
        ({"name": "cirros!@"}, "name", "remove '!' '@'"),
        ({"checksum": "xyz"}, "checksum", "32 hexadecimal digits"),
        ({"checksum": "64d7c1cd2b6f60c92c14662941cb791"}, "checksum", "32 hexadecimal digits"),
        ({"size": "-1"}, "size", "Size cannot be negative."),
        ({"virtual_size": "-5"}, "virtual_size", "Virtual size cannot be negative."),
        ({"min_ram": "-1"}, "min_ram", "Min RAM cannot be negative."),
        ({"min_disk": "2147483648"}, "min_disk", "Min disk is too large"),
        ({"status": "deleted"}, "status", "use Delete"),
    ],
)
def test_validation_messages_say_what_to_fix(admin_client, image_factory, changes, field, message):
    image = image_factory(name="cirros")
    data = form_data(admin_client.get(change_url(image)))
    data.update(changes)
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 200
    assert message in " ".join(errors_of(response)[field])
    assert Image.objects.get(pk=image.pk).version == 1


@pytest.mark.parametrize(
    "name", ["Ubuntu 22.04 server 64bit", "镜像-测试_1.0", "a", "CentOS.7-9_x"]
)
def test_ims_names_are_accepted(admin_client, image_factory, name):
    image = image_factory(name="cirros")
    data = form_data(admin_client.get(change_url(image)))
    data["name"] = name
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    assert Image.objects.get(pk=image.pk).name == name


def test_a_name_that_came_from_elsewhere_is_kept_until_retyped(admin_client, image_factory):
    image = image_factory(name="My Image! (imported)")
    data = form_data(admin_client.get(change_url(image)))
    data["min_disk"] = "10"
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 302, errors_of(response)
    assert Image.objects.get(pk=image.pk).name == "My Image! (imported)"


def test_checksum_is_stored_in_lower_case(admin_client, image_factory):
    image = image_factory()
    data = form_data(admin_client.get(change_url(image)))
    data["checksum"] = "64D7C1CD2B6F60C92C14662941CB7913"
    assert admin_client.post(change_url(image), data).status_code == 302
    assert Image.objects.get(pk=image.pk).checksum == "64d7c1cd2b6f60c92c14662941cb7913"


def test_a_property_key_is_unique_per_image(admin_client, image_factory):
    image = image_factory(properties={"__os_type": "Linux"})
    data = form_data(admin_client.get(change_url(image)))
    add_row(data, "properties", key="__os_type", value="Other")
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [
        "The key __os_type is used twice; an image has one value per key."
    ]


def test_a_project_is_a_member_once(admin_client, image_factory):
    image = image_factory(members=["project-b"])
    data = form_data(admin_client.get(change_url(image)))
    add_row(data, "members", member_id="project-b", status="accepted")
    response = admin_client.post(change_url(image), data)
    formset = response.context["inline_admin_formsets"][1].formset
    assert formset.non_form_errors() == ["The project project-b is listed twice."]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("__os_type", "Linx", "__os_type is one of: Linux, Windows, Other."),
        ("__os_bit", "128", "__os_bit is one of: 32, 64."),
        (" padded", "x", "A key cannot start or end with a space."),
    ],
)
def test_well_known_property_values_are_checked(admin_client, image_factory, key, value, message):
    image = image_factory()
    data = form_data(admin_client.get(change_url(image)))
    add_row(data, "properties", key=key, value=value)
    response = admin_client.post(change_url(image), data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_any_other_property_key_is_accepted(admin_client, image_factory):
    image = image_factory()
    data = form_data(admin_client.get(change_url(image)))
    add_row(data, "properties", key="hw_disk_bus", value="virtio")
    add_row(data, "properties", key="__platform", value="Alpine")  # suggested, not enforced
    assert admin_client.post(change_url(image), data).status_code == 302
    assert dict(image.properties.values_list("key", "value")) == {
        "__platform": "Alpine",
        "hw_disk_bus": "virtio",
    }


def test_a_second_editor_is_refused_and_told_what_changed(admin_client, image_factory):
    image = image_factory(name="cirros", properties={"__os_type": "Linux"}, members=["project-b"])
    stale = form_data(admin_client.get(change_url(image)))
    # Someone else saves first.
    image_update(
        image=Image.objects.get(pk=image.pk),
        fields={"name": "cirros-0.6", "is_public": False},
        properties={"__os_type": "Other"},
        members=[],
    )
    stale["min_ram"] = "2048"
    response = admin_client.post(change_url(image), stale)
    assert response.status_code == 200
    errors = list(errors_of(response)["__all__"])
    assert errors[0].startswith("Someone else changed this image while you were editing it")
    assert errors[1:] == [
        "Changed meanwhile: name: “cirros” → “cirros-0.6”",
        "Changed meanwhile: is public: yes → no",
        "Changed meanwhile: property __os_type: “Linux” → “Other”",
        "Changed meanwhile: member project-b removed",
    ]
    current = Image.objects.get(pk=image.pk)
    assert (current.name, current.min_ram, current.version) == ("cirros-0.6", 0, 2)
    # Saving the same stale form again is refused again.
    assert admin_client.post(change_url(image), stale).status_code == 200
    assert Image.objects.get(pk=image.pk).min_ram == 0


def test_a_tampered_loaded_state_still_refuses_a_stale_save(admin_client, image_factory):
    image = image_factory(name="cirros")
    stale = form_data(admin_client.get(change_url(image)))
    image_update(image=Image.objects.get(pk=image.pk), fields={"name": "renamed"})
    stale["loaded_state"] = "forged"
    response = admin_client.post(change_url(image), stale)
    assert response.status_code == 200
    assert len(errors_of(response)["__all__"]) == 1
    assert Image.objects.get(pk=image.pk).name == "renamed"


def test_a_write_racing_the_form_check_is_refused(admin_client, image_factory, monkeypatch):
    from catalog.admin import images
    from catalog.services import ImageChangedError

    image = image_factory(name="cirros")
    data = form_data(admin_client.get(change_url(image)))
    data["name"] = "renamed"

    def raced(**kwargs):
        raise ImageChangedError(kwargs["image"])

    monkeypatch.setattr(images, "image_update", raced)
    response = admin_client.post(change_url(image), data, follow=True)
    assert "changed this image at the same moment" in response.content.decode()
    assert Image.objects.get(pk=image.pk).name == "cirros"


def test_add_an_image_with_properties_and_members(admin_client):
    data = form_data(admin_client.get(ADD_URL))
    data.update(name="fresh", status="queued", disk_format="qcow2", container_format="bare")
    add_row(data, "properties", key="__os_type", value="Windows")
    add_row(data, "members", member_id="project-b", status="accepted")
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302, errors_of(response)
    image = Image.objects.get(name="fresh")
    assert image.is_windows
    assert image.version == 1
    assert image.members.get().member_id == "project-b"
    flag, message = history(image)[0]
    assert flag == ADDITION
    assert message.startswith("Created: name: empty → “fresh”")
    assert "property __os_type added: “Windows”" in message


def test_adding_needs_an_ims_name(admin_client):
    data = form_data(admin_client.get(ADD_URL))
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert errors_of(response)["name"] == ["Give the image a name of 1 to 128 characters."]
    assert not Image.objects.exists()


def test_history_page_reads_as_sentences(admin_client, image_factory):
    image = image_factory(name="cirros", updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    data = form_data(admin_client.get(change_url(image)))
    data["name"] = "cirros-0.6"
    admin_client.post(change_url(image), data)
    page = admin_client.get(f"/admin/catalog/image/{image.pk}/history/").content.decode()
    assert "name: “cirros” → “cirros-0.6”" in page
