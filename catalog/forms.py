"""The forms staff fill in: an image with its properties and members, an API token, an upload.

They check what a person typed and say what is wrong in words a person understands; the
database constraints stay the last guard. The writes themselves go through catalog.services
(images) and catalog.tokens.
"""

import re
from typing import cast

from django import forms
from django.core import signing
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst

from .changes import EDITABLE_FIELDS, describe_changes, image_state
from .models import MAX_INT32, MAX_INT64, ApiToken, Image, ImageMember, ImageProperty
from .services import MemberData
from .tokens import TokenError, parse_roles
from .vocabulary import CLOSED_PROPERTY_KEYS, WELL_KNOWN_PROPERTIES, is_checksum

IMS_NAME_MAX_LENGTH = 128
# Letters, digits, Chinese characters (CJK unified ideographs), space, hyphen, period, underscore.
_IMS_NAME_CHARACTER = re.compile(r"[A-Za-z0-9\u4e00-\u9fff ._-]")

STATE_SALT = "catalog.image-form.loaded-state"


def validate_ims_name(name: str | None) -> None:
    """IMS's rule for image names, with a message that says what to change."""
    if not name:
        raise forms.ValidationError(
            f"Give the image a name of 1 to {IMS_NAME_MAX_LENGTH} characters.", code="required"
        )
    if len(name) > IMS_NAME_MAX_LENGTH:
        raise forms.ValidationError(
            f"A name has at most {IMS_NAME_MAX_LENGTH} characters; this one has {len(name)}.",
            code="max_length",
        )
    if name != name.strip(" "):
        raise forms.ValidationError("A name cannot start or end with a space.", code="spaces")
    wrong = sorted({char for char in name if not _IMS_NAME_CHARACTER.fullmatch(char)})
    if wrong:
        shown = " ".join(repr(char) for char in wrong)
        raise forms.ValidationError(
            "A name may contain letters, digits, Chinese characters, spaces, hyphens (-), "
            f"periods (.) and underscores (_); remove {shown}.",
            code="characters",
        )


def _whole_number(label, help_text, *, maximum, required=False):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=0,
        max_value=maximum,
        help_text=help_text,
        error_messages={
            "min_value": f"{label} cannot be negative.",
            "max_value": f"{label} is too large (at most {maximum}).",
            "invalid": f"{label} must be a whole number.",
        },
    )


class ImageForm(forms.ModelForm):
    name = forms.CharField(
        required=False,
        strip=False,  # a leading or trailing space is an error to report, not to hide
        empty_value=None,
        help_text="1 to 128 letters, digits, Chinese characters, spaces and - . _, "
        "e.g. Ubuntu 22.04 server 64bit.",
    )
    checksum = forms.CharField(
        required=False,
        empty_value=None,
        help_text=Image._meta.get_field("checksum").help_text,
    )
    size = _whole_number("Size", "Bytes, e.g. 13167616.", maximum=MAX_INT64)
    virtual_size = _whole_number("Virtual size", "Bytes.", maximum=MAX_INT64)
    min_ram = _whole_number("Min RAM", "MB needed to boot, e.g. 1024.", maximum=MAX_INT32)
    min_disk = _whole_number("Min disk", "GB of disk needed to boot, e.g. 40.", maximum=MAX_INT32)

    # What the editor started from. A save is refused when the image has moved on since
    # (someone else saved it), and the signed state says what that someone changed.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    loaded_state = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Image
        fields = EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("min_ram", "min_disk"):
            if name in self.fields:
                self.fields[name].required = True
                self.fields[name].initial = 0
        # Values as the API and IMS spell them (qcow2, pending_delete), not as labels (Qcow2).
        for name in ("status", "disk_format", "container_format"):
            field = self.fields.get(name)
            if isinstance(field, forms.ChoiceField):
                # The stubs type the getter like the setter; Django returns (value, label) pairs.
                pairs = cast("list[tuple[str, str]]", field.choices)
                field.choices = [(value, value or label) for value, label in pairs]
        if not self.instance._state.adding and not self.is_bound:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["loaded_state"].initial = signing.dumps(
                image_state(self.instance), salt=STATE_SALT, compress=True
            )

    def clean_name(self):
        name = self.cleaned_data["name"]
        # Names that arrived some other way (an import) are kept as they are until retyped.
        if self.instance._state.adding or "name" in self.changed_data:
            validate_ims_name(name)
        return name

    def clean_checksum(self):
        checksum = self.cleaned_data["checksum"]
        if checksum is None:
            return None
        checksum = checksum.strip().lower()
        if not is_checksum(checksum):
            raise forms.ValidationError(
                "A checksum is the MD5 of the image data: 32 hexadecimal digits (0-9, a-f), "
                "e.g. 64d7c1cd2b6f60c92c14662941cb7913."
            )
        return checksum

    def clean_status(self):
        status = self.cleaned_data["status"]
        if "status" not in self.changed_data:
            return status
        if status == Image.Status.DELETED and not self.instance.deleted:
            raise forms.ValidationError(
                "To delete an image, use Delete: the image is kept and can be restored."
            )
        if self.instance.deleted and status != Image.Status.DELETED:
            raise forms.ValidationError("This image is deleted; use Restore to bring it back.")
        return status

    def clean(self):
        cleaned = super().clean()
        if not self.instance._state.adding:
            self._refuse_if_changed_meanwhile(cleaned)
        return cleaned

    def _refuse_if_changed_meanwhile(self, cleaned):
        if cleaned.get("loaded_version") == self.instance.version:
            return
        try:
            loaded = signing.loads(cleaned.get("loaded_state") or "", salt=STATE_SALT)
        except signing.BadSignature:
            loaded = None
        errors = [
            "Someone else changed this image while you were editing it, so your changes "
            "were not saved. Open the image again to see its current values, then make "
            "your changes again."
        ]
        if loaded is not None:
            changes = describe_changes(loaded, image_state(self.instance))
            errors += [f"Changed meanwhile: {line}" for line in changes]
        raise forms.ValidationError(errors, code="changed_meanwhile")


class PropertyForm(forms.ModelForm):
    key = forms.CharField(
        max_length=255,
        strip=False,
        widget=forms.TextInput(
            attrs={"list": "ims-property-keys", "autocomplete": "off", "data-property-key": ""}
        ),
    )
    value = forms.CharField(
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-property-value": ""}),
    )

    class Meta:
        model = ImageProperty
        fields = ("key", "value")

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        key, value = cleaned.get("key"), cleaned.get("value", "")
        if key is None or not self.has_changed():
            return cleaned
        if key != key.strip():
            self.add_error("key", "A key cannot start or end with a space.")
        elif key in CLOSED_PROPERTY_KEYS and value not in WELL_KNOWN_PROPERTIES[key]:
            allowed = ", ".join(WELL_KNOWN_PROPERTIES[key])
            self.add_error("value", f"{key} is one of: {allowed}.")
        return cleaned

    def validate_unique(self):
        # The properties are replaced as a whole, so a key that another row gives up in the
        # same save may be taken: PropertyFormSet checks the set, not each row against the
        # database.
        pass


class ImagePartFormSet(BaseInlineFormSet):
    def rows(self):
        """The cleaned rows that stay: kept existing ones, and new ones that were filled in."""
        return [
            form.cleaned_data
            for form in self.forms
            # A private method of Django's formsets, which the stubs leave out.
            if form.cleaned_data and not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]

    def repeated(self, field):
        values = [row[field] for row in self.rows() if row.get(field) is not None]
        return sorted({value for value in values if values.count(value) > 1})


class PropertyFormSet(ImagePartFormSet):
    def validate_unique(self):
        repeated = self.repeated("key")
        if repeated:
            raise forms.ValidationError(
                [
                    f"The key {key} is used twice; an image has one value per key."
                    for key in repeated
                ]
            )

    def properties(self) -> dict[str, str]:
        return {row["key"]: row.get("value") or "" for row in self.rows()}


class MemberForm(forms.ModelForm):
    member_id = forms.CharField(
        label="Project",
        max_length=255,
        help_text="The project the image is shared with.",
    )

    class Meta:
        model = ImageMember
        fields = ("member_id", "status", "can_share")

    def validate_unique(self):
        # As for properties: MemberFormSet checks the set as a whole.
        pass


class MemberFormSet(ImagePartFormSet):
    def validate_unique(self):
        repeated = self.repeated("member_id")
        if repeated:
            raise forms.ValidationError(
                [f"The project {member} is listed twice." for member in repeated]
            )

    def members(self) -> list[MemberData]:
        return [
            MemberData(member_id=row["member_id"], can_share=row["can_share"], status=row["status"])
            for row in self.rows()
        ]


class CatalogUploadForm(forms.Form):
    MAX_BYTES = 20 * 1024 * 1024

    file = forms.FileField(
        label="Catalog file",
        help_text='JSON, {"images": [...]}, as export_images writes it; up to 20 MB '
        "(import larger files with the import_images command).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                f"The file has {upload.size / 1024 / 1024:.1f} MB; the admin takes files up to "
                f"{self.MAX_BYTES // 1024 // 1024} MB. Import larger files with "
                "`python manage.py import_images FILE`."
            )
        return upload


class ApiTokenCreateForm(forms.ModelForm):
    """The few things a new token needs; its secret is made by token_create."""

    name = forms.CharField(
        required=False,
        max_length=100,
        help_text="e.g. ci-smoke-tests; left empty, the project and the secret's prefix.",
    )
    roles = forms.CharField(
        initial="member",
        max_length=255,
        help_text="Comma-separated, e.g. reader,member; the admin role sees every project.",
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=36500,
        help_text="Empty for a token that does not expire.",
        error_messages={"min_value": "A token expires after at least one day."},
    )

    class Meta:
        model = ApiToken
        fields = ("name", "project", "roles")
        error_messages = {"project": {"required": "Give the project id the token acts for."}}

    def clean_roles(self):
        try:
            return ",".join(parse_roles(self.cleaned_data["roles"].split(",")))
        except TokenError as error:
            raise forms.ValidationError(capfirst(str(error))) from None
