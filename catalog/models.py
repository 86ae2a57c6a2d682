"""The catalog's data: images, their properties and members, and API tokens.

The fields of `Image` are the 18 keys of the legacy listing (docs/api.md#listing-response),
`properties` being a table of its own. Two more columns are bookkeeping that the listing never
shows: `is_windows` (kept by every write that stores properties, through
columns_from_properties, so the API's Windows exclusion is one indexed condition) and `version`
(bumped by every write, so concurrent edits cannot silently overwrite each other).
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Left, Length
from django.db.models.lookups import Exact, LessThanOrEqual

from .querysets import ImageQuerySet
from .validators import validate_text
from .vocabulary import CHECKSUM_PATTERN

MAX_INT64 = 2**63 - 1
MAX_INT32 = 2**31 - 1
# Property values longer than this are stored in full but indexed by their prefix only
# (a B-tree entry has a size limit); see ImageProperty.Meta.indexes.
PROPERTY_VALUE_INDEX_PREFIX = 100


def properties_say_windows(properties) -> bool:
    """docs/api.md#windows-images: an image is Windows when its OS properties say so (any case)."""
    return (
        properties.get("__os_type", "").lower() == "windows"
        or properties.get("__platform", "").lower() == "windows"
        or properties.get("__os_version", "").lower().startswith("windows")
    )


def columns_from_properties(properties) -> dict[str, bool]:
    """The Image columns that follow from its properties. Every write that stores an image's
    properties stores these with them: the services, and the seeder's bulk load."""
    return {"is_windows": properties_say_windows(properties)}


class ImageStatus(models.TextChoices):
    QUEUED = "queued"
    SAVING = "saving"
    ACTIVE = "active"
    KILLED = "killed"
    DELETED = "deleted"
    PENDING_DELETE = "pending_delete"


class DiskFormat(models.TextChoices):
    AMI = "ami"
    ARI = "ari"
    AKI = "aki"
    VHD = "vhd"
    VHDX = "vhdx"
    VMDK = "vmdk"
    RAW = "raw"
    QCOW2 = "qcow2"
    VDI = "vdi"
    ISO = "iso"
    PLOOP = "ploop"
    ZVHD = "zvhd"
    ZVHD2 = "zvhd2"


class ContainerFormat(models.TextChoices):
    AMI = "ami"
    ARI = "ari"
    AKI = "aki"
    BARE = "bare"
    OVF = "ovf"
    OVA = "ova"
    DOCKER = "docker"
    COMPRESSED = "compressed"


# What the API's read policy (querysets.ImageQuerySet.for_caller) reads of each image, kept in
# some indexes so that rows the caller may not see are discarded without reading the table.
VISIBILITY_COLUMNS = ["is_public", "owner", "status", "is_windows", "deleted"]


class Image(models.Model):
    Status = ImageStatus
    DiskFormat = DiskFormat
    ContainerFormat = ContainerFormat

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(
        max_length=255, null=True, blank=True, validators=[validate_text], help_text="e.g. cirros"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    container_format = models.CharField(
        max_length=16, choices=ContainerFormat, null=True, blank=True
    )
    disk_format = models.CharField(max_length=16, choices=DiskFormat, null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True, help_text="Bytes, e.g. 13167616.")
    virtual_size = models.BigIntegerField(null=True, blank=True, help_text="Bytes.")
    checksum = models.CharField(
        max_length=32,
        null=True,
        blank=True,
        help_text="MD5 of the image data, 32 lower-case hex digits, "
        "e.g. 64d7c1cd2b6f60c92c14662941cb7913.",
    )
    min_ram = models.IntegerField(default=0, help_text="MB needed to boot, e.g. 1024.")
    min_disk = models.IntegerField(default=0, help_text="GB of disk needed to boot, e.g. 40.")
    is_public = models.BooleanField(default=False)
    protected = models.BooleanField(default=False, help_text="A protected image cannot be deleted.")
    owner = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        validators=[validate_text],
        help_text="Project id, e.g. 23f4cb75768d4febb39542ef6fe169f3.",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    is_windows = models.BooleanField(default=False, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # docs/api.md#paging: every sort key, followed by the (created_at, id) tie-breakers
            # that make the order total and that keyset paging compares as one row value.
            models.Index(fields=["created_at", "id"], name="image_created_id_idx"),
            models.Index(fields=["updated_at", "created_at", "id"], name="image_updated_idx"),
            models.Index(fields=["name", "created_at", "id"], name="image_name_idx"),
            models.Index(fields=["status", "created_at", "id"], name="image_status_idx"),
            models.Index(fields=["disk_format", "created_at", "id"], name="image_disk_idx"),
            models.Index(
                fields=["container_format", "created_at", "id"], name="image_container_idx"
            ),
            models.Index(fields=["size", "created_at", "id"], name="image_size_idx"),
            # The default listing (created_at order, no changes-since) walks only images it
            # may show: the Windows exclusion (docs/api.md#windows-images) and the hiding of
            # deleted ones (docs/api.md#deleted-images) are conditions of the index itself.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(is_windows=False, deleted=False),
                name="image_listed_created_idx",
            ),
            # The equality filters (docs/api.md#filters), in listing order, and the visibility
            # rule (docs/api.md#visibility).
            models.Index(fields=["owner", "created_at", "id"], name="image_owner_idx"),
            # min_ram and min_disk take a few values, each spread over every project: for a
            # caller who sees a tenth of the catalog, a value its images never have means
            # walking every image with it. The columns the read policy checks are in the
            # index, so that walk reads the index alone (a seventh of the time).
            models.Index(
                fields=["min_ram", "created_at", "id"],
                include=VISIBILITY_COLUMNS,
                name="image_min_ram_visible_idx",
            ),
            models.Index(
                fields=["min_disk", "created_at", "id"],
                include=VISIBILITY_COLUMNS,
                name="image_min_disk_visible_idx",
            ),
            # A nullable sort key's nulls are paged as a region of their own, in (created_at,
            # id) order (api/pagination.py). They are few; without these, proving that the
            # caller sees none of them meant walking the whole listing index.
            *(
                models.Index(
                    fields=["created_at", "id"],
                    include=VISIBILITY_COLUMNS,
                    condition=Q(**{f"{key}__isnull": True}, is_windows=False, deleted=False),
                    name=f"image_null_{short}_idx",
                )
                for key, short in (
                    ("name", "name"),
                    ("container_format", "container"),
                    ("disk_format", "disk"),
                    ("size", "size"),
                )
            ),
            models.Index(fields=["protected", "created_at", "id"], name="image_protected_idx"),
            # The admin's search.
            models.Index(fields=["checksum"], name="image_checksum_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImageStatus.values), name="image_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(disk_format__in=DiskFormat.values) | Q(disk_format__isnull=True),
                name="image_disk_format_valid",
            ),
            models.CheckConstraint(
                condition=Q(container_format__in=ContainerFormat.values)
                | Q(container_format__isnull=True),
                name="image_container_format_valid",
            ),
            models.CheckConstraint(
                condition=Q(size__gte=0) | Q(size__isnull=True), name="image_size_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(virtual_size__gte=0) | Q(virtual_size__isnull=True),
                name="image_virtual_size_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(checksum__regex=CHECKSUM_PATTERN) | Q(checksum__isnull=True),
                name="image_checksum_md5_hex",
            ),
            models.CheckConstraint(condition=Q(min_ram__gte=0), name="image_min_ram_not_negative"),
            models.CheckConstraint(
                condition=Q(min_disk__gte=0), name="image_min_disk_not_negative"
            ),
            # SQLite does not enforce VARCHAR lengths by itself.
            models.CheckConstraint(
                condition=Q(LessThanOrEqual(Length("name"), 255)) | Q(name__isnull=True),
                name="image_name_max_length",
            ),
            models.CheckConstraint(
                condition=Q(LessThanOrEqual(Length("owner"), 255)) | Q(owner__isnull=True),
                name="image_owner_max_length",
            ),
            # docs/api.md#deleted-images: a deleted image always says when it was deleted.
            models.CheckConstraint(
                condition=Q(deleted=True, deleted_at__isnull=False)
                | Q(deleted=False, deleted_at__isnull=True),
                name="image_deleted_at_iff_deleted",
            ),
        ]

    def __str__(self):
        return self.name or str(self.id)


class ImageProperty(models.Model):
    # No index of its own: the (image, key) unique constraint's index starts with the image.
    image = models.ForeignKey(
        Image, on_delete=models.CASCADE, related_name="properties", db_index=False
    )
    key = models.CharField(max_length=255, validators=[validate_text], help_text="e.g. __os_type")
    value = models.TextField(blank=True, validators=[validate_text], help_text="e.g. Linux")

    class Meta:
        verbose_name_plural = "image properties"
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["image", "key"], name="property_key_unique_per_image"),
            models.CheckConstraint(condition=~Q(key=""), name="property_key_not_empty"),
            models.CheckConstraint(
                condition=Q(LessThanOrEqual(Length("key"), 255)), name="property_key_max_length"
            ),
        ]
        indexes = [
            # `property-<key>=<value>` filters (docs/api.md#filters). The value is indexed by a
            # prefix, so a long value can never exceed the B-tree entry limit; the filter
            # compares both.
            models.Index(
                F("key"), Left("value", PROPERTY_VALUE_INDEX_PREFIX), name="property_key_value_idx"
            ),
        ]

    def __str__(self):
        return f"{self.key}={self.value}"


class MemberStatus(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ImageMember(models.Model):
    Status = MemberStatus

    # No index of its own: the (image, member_id) unique constraint's index starts with it.
    image = models.ForeignKey(
        Image, on_delete=models.CASCADE, related_name="members", db_index=False
    )
    member_id = models.CharField(
        max_length=255,
        validators=[validate_text],
        help_text="The project the image is shared with.",
    )
    can_share = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)

    class Meta:
        ordering = ["member_id"]
        constraints = [
            models.UniqueConstraint(fields=["image", "member_id"], name="member_unique_per_image"),
            models.CheckConstraint(condition=~Q(member_id=""), name="member_id_not_empty"),
            models.CheckConstraint(
                condition=Q(status__in=MemberStatus.values), name="member_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["member_id", "image"], name="member_project_idx")]

    def __str__(self):
        return self.member_id


class ApiToken(models.Model):
    """A caller of the API: a project with roles. Only a hash of the secret is stored."""

    name = models.CharField(
        max_length=100, unique=True, validators=[validate_text], help_text="e.g. ci-smoke-tests"
    )
    project = models.CharField(
        max_length=255, validators=[validate_text], help_text="Project id the token acts for."
    )
    roles = models.CharField(
        max_length=255, default="member", help_text="Comma-separated, e.g. reader,member."
    )
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The first characters of the secret."
    )
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(project=""), name="token_project_not_empty"),
            models.CheckConstraint(
                condition=Q(Exact(Length("secret_hash"), 64)), name="token_hash_sha256"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def role_list(self) -> list[str]:
        return self.split_roles(self.roles)

    @staticmethod
    def split_roles(roles: str) -> list[str]:
        return [role for role in roles.split(",") if role]


class ImageTally(models.Model):
    """How many images have each value of what the admin's overview shows: one row per
    (dimension, value), e.g. ("status", "active") → 920234.

    Counting a million images on every visit would take seconds; every write to images
    updates these rows in its own transaction instead (catalog/tally.py), so the overview
    reads a few dozen rows.
    """

    class Dimension(models.TextChoices):
        STATUS = "status"
        VISIBILITY = "visibility"  # public, private or shared (docs/api.md#visibility)
        OS_TYPE = "os_type"  # the __os_type property; "" when it has none
        DISK_FORMAT = "disk_format"
        WINDOWS = "windows"  # "yes" for images the API hides (docs/api.md#windows-images)
        CREATED_MONTH = "created_month"  # "2024-05", in UTC
        OWNER = "owner"
        DELETED_DAY = "deleted_day"  # "2024-05-31": the images deleted (and not restored) then

    dimension = models.CharField(max_length=16, choices=Dimension)
    value = models.CharField(max_length=255, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dimension", "value"], name="tally_value_unique"),
        ]
        # The largest owners: the first rows of this index, with no sort.
        indexes = [models.Index(fields=["dimension", "-count"], name="tally_largest_idx")]

    def __str__(self):
        return f"{self.dimension} {self.value!r}: {self.count}"
