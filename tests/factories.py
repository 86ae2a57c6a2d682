"""Test data, written through the same services the product uses."""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from catalog.models import Image
from catalog.services import MemberData, image_create

BASE_TIME = datetime(2020, 1, 1, tzinfo=UTC)

# The one image of seed-ims-v1.1-images-detail.txt's response, verbatim, in its key order.
SEED_CIRROS = {
    "status": "active",
    "deleted_at": None,
    "name": "cirros",
    "deleted": False,
    "container_format": "bare",
    "created_at": "2016-05-22T06:04:20.425843",
    "disk_format": "qcow2",
    "updated_at": "2016-05-22T06:04:22.719791",
    "min_disk": 0,
    "protected": False,
    "id": "3c3d1d01-b48a-4639-8a88-08be3b9b5d78",
    "min_ram": 0,
    "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
    "owner": "23f4cb75768d4febb39542ef6fe169f3",
    "is_public": True,
    "virtual_size": None,
    "properties": {},
    "size": 13167616,
}


class ImageFactory:
    """`image_factory(name=..., properties=..., members=[...])` creates one image.

    Each image is created one second after the previous one, so the default order
    (newest first) is the reverse of creation order.
    """

    def __init__(self):
        self._counter = itertools.count(1)

    def __call__(self, *, properties=None, members=(), **fields):
        n = next(self._counter)
        moment = BASE_TIME + timedelta(seconds=n)
        defaults = {
            "name": f"image-{n}",
            "status": Image.Status.ACTIVE,
            "disk_format": Image.DiskFormat.QCOW2,
            "container_format": Image.ContainerFormat.BARE,
            "size": 1024 * n,
            "checksum": hashlib.md5(str(n).encode()).hexdigest(),
            "is_public": True,
            "owner": "project-a",
            "created_at": moment,
            "updated_at": moment,
        }
        defaults.update(fields)
        members = [
            member if isinstance(member, MemberData) else MemberData(member_id=member)
            for member in members
        ]
        return image_create(fields=defaults, properties=properties or {}, members=members)
