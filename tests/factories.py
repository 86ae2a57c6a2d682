"""Test data, written through the same services the product uses."""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from catalog.models import Image
from catalog.services import MemberData, image_create

BASE_TIME = datetime(2020, 1, 1, tzinfo=UTC)


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
