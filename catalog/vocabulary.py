"""The catalog's fixed words, shared by the models, the API, the catalog file and the admin.

Each is spelled once here, so the listing, HEAD, the schema, the file format and the seeder
cannot drift apart. Nothing here touches the database.
"""

import re

# docs/api.md#listing-response, in the order the listing writes them.
LISTING_KEYS = (
    "id",
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "virtual_size",
    "checksum",
    "min_ram",
    "min_disk",
    "is_public",
    "protected",
    "owner",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "properties",
)
# The brief listing's keys (`GET /v1.1/images`), in its order.
BRIEF_KEYS = ("id", "name", "size", "disk_format", "container_format", "checksum")

# docs/api.md#listing-response: a checksum is the MD5 of the image data in lower-case hex.
# The model's check constraint, the catalog file, the schema, the form and the admin's search
# all use it.
CHECKSUM_PATTERN = r"^[0-9a-f]{32}$"
_CHECKSUM = re.compile(CHECKSUM_PATTERN)


def is_checksum(text: str) -> bool:
    # fullmatch: with match or search, "$" would let a trailing line feed through.
    return _CHECKSUM.fullmatch(text) is not None


# Property keys that IMS gives a meaning to, with the values it knows. Keys with a closed set
# of values refuse others when typed in the image form; the rest are suggestions there. Any
# other key is accepted. The admin's OS type filter offers the values of __os_type.
WELL_KNOWN_PROPERTIES = {
    "__os_type": ("Linux", "Windows", "Other"),
    "__platform": (
        "Ubuntu",
        "CentOS",
        "Debian",
        "EulerOS",
        "openEuler",
        "Fedora",
        "OpenSUSE",
        "SUSE",
        "RedHat",
        "Oracle Linux",
        "CoreOS",
        "Windows",
        "Other",
    ),
    "__os_version": (
        "Ubuntu 22.04 server 64bit",
        "CentOS 7.9 64bit",
        "Debian GNU/Linux 11.1.0 64bit",
        "EulerOS 2.5 64bit",
        "Windows Server 2019 Datacenter 64bit",
    ),
    "__os_bit": ("32", "64"),
    "__imagetype": ("gold", "private", "shared", "market"),
    "__support_kvm": ("true",),
}
CLOSED_PROPERTY_KEYS = ("__os_type", "__os_bit", "__imagetype", "__support_kvm")
