"""Every write path refuses C0 control characters (but tab, line feed, carriage return) and DEL
in stored text, with a one-line reason naming the field, and writes nothing."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from catalog.models import ApiToken, Image, ImageMember, ImageProperty
from catalog.tokens import TokenError, token_create
from catalog.validators import control_character_problem, validate_text

from .test_admin_change_form import add_row, change_url, errors_of, form_data, row_of

pytestmark = pytest.mark.django_db

REFUSED = [chr(code) for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
ALLOWED = ["\t", "\n", "\r", "é", "镜像", "\u0085", "\u2028", "🚀", " "]
ESC = "\x1b"
REASON = "contains the control character U+001B"


@pytest.mark.parametrize("char", REFUSED, ids=lambda char: f"U+{ord(char):04X}")
def test_every_c0_control_character_and_del_is_refused(char):
    assert control_character_problem(f"a{char}b") == (
        f"contains the control character U+{ord(char):04X} "
        "(tab, line feed and carriage return are the only ones allowed)"
    )
    with pytest.raises(ValidationError):
        validate_text(char)


@pytest.mark.parametrize("char", ALLOWED, ids=repr)
def test_tab_line_breaks_and_other_text_are_allowed(char):
    assert control_character_problem(f"a{char}b") is None
    validate_text(char)


# ------------------------------------------------------------------------------
# The catalog file: import_images and the admin's import page
# ------------------------------------------------------------------------------


def entry(n=1, **fields):
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": f"image-{n}",
        "status": "active",
        **fields,
    }


def import_file(tmp_path, images, stderr=None):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"images": images}), encoding="utf-8")
    call_command("import_images", str(path), stdout=io.StringIO(), stderr=stderr or io.StringIO())


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"name": f"a{ESC}[31m"}, "name"),
        ({"owner": f"project{ESC}"}, "owner"),
        ({"properties": {"k": f"v{ESC}"}}, "properties.k"),
        ({"properties": {f"k{ESC}": "v"}}, "properties.'k\\x1b'"),  # escaped in the message
        ({"members": [{"member_id": f"p{ESC}"}]}, "members.0.member_id"),
        ({"name": "nul\x00"}, "name"),
        ({"name": "del\x7f"}, "name"),
    ],
)
def test_the_import_refuses_a_control_character_naming_the_field(tmp_path, bad, field):
    report = io.StringIO()
    with pytest.raises(CommandError) as error:
        import_file(tmp_path, [entry(1), entry(2, **bad)], stderr=report)
    (line,) = report.getvalue().splitlines()
    assert (
        f"catalog.json: entry 2 (id 00000000-0000-4000-8000-000000000002): {field}: "
        "contains the control character U+00"
    ) in line
    assert line.isprintable()  # one line, nothing a terminal would act on
    assert str(error.value).endswith(": 1 problem in 1 entry; nothing was imported")
    assert not Image.objects.exists()


def test_the_import_escapes_a_control_character_in_the_id_it_names(tmp_path):
    report = io.StringIO()
    with pytest.raises(CommandError):
        import_file(tmp_path, [{"id": f"x{ESC}[2J", "name": f"a{ESC}"}], stderr=report)
    lines = report.getvalue().splitlines()
    assert len(lines) == 2  # the id and the name
    for line in lines:
        assert "catalog.json: entry 1 (id 'x\\x1b[2J'): " in line
        assert line.isprintable()


def test_the_import_keeps_tabs_and_line_breaks(tmp_path):
    import_file(tmp_path, [entry(1, properties={"description": "one\ttwo\r\nthree"})])
    assert Image.objects.get().properties.get().value == "one\ttwo\r\nthree"


def test_the_admin_import_page_lists_the_control_character(admin_client):
    file = SimpleUploadedFile(
        "catalog.json",
        json.dumps({"images": [entry(1, owner=f"p{ESC}")]}).encode(),
        "application/json",
    )
    response = admin_client.post("/admin/catalog/image/import/", {"file": file})
    assert response.context["errors"] == [
        f"entry 1 (id 00000000-0000-4000-8000-000000000001): owner: {REASON} "
        "(tab, line feed and carriage return are the only ones allowed)"
    ]
    assert not Image.objects.exists()


# ------------------------------------------------------------------------------
# The admin's forms
# ------------------------------------------------------------------------------


def inline_errors(response, position, row=0):
    return response.context["inline_admin_formsets"][position].formset.forms[row].errors


def refused_and_unchanged(response, image):
    assert response.status_code == 200
    assert Image.objects.get(pk=image.pk).version == image.version


def test_the_image_form_refuses_a_control_character_in_the_owner(admin_client, image_factory):
    image = image_factory(name="cirros")
    data = form_data(admin_client.get(change_url(image)))
    data["owner"] = f"project{ESC}"
    response = admin_client.post(change_url(image), data)
    refused_and_unchanged(response, image)
    assert REASON in " ".join(errors_of(response)["owner"])


def test_a_stored_name_with_a_control_character_must_be_fixed_on_save(admin_client, image_factory):
    image = image_factory(name=f"imported{ESC}")  # stored before the rule
    data = form_data(admin_client.get(change_url(image)))
    data["min_disk"] = "10"
    response = admin_client.post(change_url(image), data)
    refused_and_unchanged(response, image)
    assert REASON in " ".join(errors_of(response)["name"])


@pytest.mark.parametrize("field", ["key", "value"])
def test_the_property_rows_refuse_a_control_character(admin_client, image_factory, field):
    image = image_factory(properties={"app": "web"})
    data = form_data(admin_client.get(change_url(image)))
    data[row_of(data, "properties", "key", "app") + f"-{field}"] = f"x{ESC}"
    response = admin_client.post(change_url(image), data)
    refused_and_unchanged(response, image)
    assert REASON in " ".join(inline_errors(response, 0)[field])
    assert dict(image.properties.values_list("key", "value")) == {"app": "web"}


def test_the_member_rows_refuse_a_control_character(admin_client, image_factory):
    image = image_factory()
    data = form_data(admin_client.get(change_url(image)))
    add_row(data, "members", member_id=f"project{ESC}", status="pending")
    response = admin_client.post(change_url(image), data)
    refused_and_unchanged(response, image)
    assert REASON in " ".join(inline_errors(response, 1)["member_id"])
    assert not image.members.exists()


def test_the_token_form_refuses_a_control_character_in_the_project(admin_client):
    response = admin_client.post(
        "/admin/catalog/apitoken/add/",
        {"name": "ci", "project": f"project{ESC}", "roles": "member"},
    )
    assert response.status_code == 200
    assert REASON in " ".join(response.context["adminform"].form.errors["project"])
    assert not ApiToken.objects.exists()


# ------------------------------------------------------------------------------
# Tokens and seeding from the command line
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project": f"p{ESC}"}, f"project {REASON}"),
        ({"project": "p", "name": f"ci{ESC}"}, f"name {REASON}"),
    ],
)
def test_token_create_refuses_a_control_character(kwargs, message):
    with pytest.raises(TokenError, match=message.replace("+", r"\+")):
        token_create(**kwargs)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--owners", "12\x1f"), ("--count", "5\x1c"), ("--until", f"2025-01-01{ESC}")],
)
def test_seed_images_refuses_a_control_character_in_an_option(option, value):
    arguments = ["--count", "5", option, value] if option != "--count" else [option, value]
    with pytest.raises(CommandError) as error:
        call_command("seed_images", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
    code = f"{ord(value[-1]):04X}"
    assert str(error.value) == (
        f"{option} contains the control character U+{code} "
        "(tab, line feed and carriage return are the only ones allowed)"
    )
    assert not Image.objects.exists()


def test_seeded_text_holds_no_control_characters():
    call_command("seed_images", "--count", "300", stdout=io.StringIO(), stderr=io.StringIO())
    texts = [
        *Image.objects.values_list("name", flat=True),
        *Image.objects.values_list("owner", flat=True),
        *ImageProperty.objects.values_list("key", flat=True),
        *ImageProperty.objects.values_list("value", flat=True),
        *ImageMember.objects.values_list("member_id", flat=True),
    ]
    assert [text for text in texts if text and control_character_problem(text)] == []
