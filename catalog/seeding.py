"""Realistic, reproducible test catalogs for `seed_images` (docs/operations.md#seed_images).

`generate_images(options)` yields one image at a time, so a catalog of any size is written in
batches with flat memory. Everything comes from one random generator seeded by the options, and
times are anchored to fixed instants, never to "now": the same options give the same rows on any
machine and any database.

The mix imitates an IMS region: a provider project owns the public "gold" images (CentOS,
Ubuntu, EulerOS, Windows Server, ...), tenant projects own private images made from them, some
shared with other projects, and a tail of deleted, killed and still-uploading images.
"""

import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from .models import columns_from_properties

GIB = 2**30
MIB = 2**20
MINUTE = 60 * 1_000_000  # microseconds
DAY = 24 * 60 * MINUTE
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DEFAULT_SINCE = datetime(2016, 1, 1, tzinfo=UTC)
DEFAULT_UNTIL = datetime(2025, 1, 1, tzinfo=UTC)


class ImageRow(NamedTuple):
    """One generated image: its Image columns, in the order COPY and INSERT name them (the
    listing's keys but the properties, then the bookkeeping columns)."""

    id: str  # 32 hex digits
    name: str | None
    status: str
    container_format: str | None
    disk_format: str | None
    size: int | None
    virtual_size: int | None
    checksum: str | None
    min_ram: int
    min_disk: int
    is_public: bool
    protected: bool
    owner: str | None
    created_at: datetime  # aware, UTC
    updated_at: datetime
    deleted: bool
    deleted_at: datetime | None
    is_windows: bool
    version: int


class MemberRow(NamedTuple):
    member_id: str
    can_share: bool
    status: str


class SeededImage(NamedTuple):
    image: ImageRow
    properties: dict[str, str]
    members: list[MemberRow]


IMAGE_COLUMNS = ImageRow._fields


@dataclass(frozen=True)
class OperatingSystem:
    name: str  # the gold image's name, also its __os_version
    platform: str
    bits: str
    image_mib: tuple[int, int]  # typical size of the image file
    min_ram: int
    min_disk: int
    short: str  # used in private image names, e.g. centos7
    support_kvm: str = "true"

    @property
    def os_type(self) -> str:
        return "Windows" if self.platform == "Windows" else "Linux"


def _linux(name, platform, short, bits="64", mib=(700, 2600), ram=1024, disk=40, kvm="true"):
    return OperatingSystem(name, platform, bits, mib, ram, disk, short, kvm)


LINUX = (
    _linux(
        "CentOS 6.10 32bit", "CentOS", "centos6", bits="32", mib=(500, 800), ram=512, kvm="false"
    ),
    _linux("CentOS 6.10 64bit", "CentOS", "centos6", mib=(600, 900), ram=512, kvm="false"),
    _linux("CentOS 7.6 64bit", "CentOS", "centos7"),
    _linux("CentOS 7.9 64bit", "CentOS", "centos7"),
    _linux("CentOS 8.2 64bit", "CentOS", "centos8"),
    _linux("CentOS Stream 9 64bit", "CentOS", "centos9"),
    _linux("Ubuntu 16.04 server 64bit", "Ubuntu", "ubuntu16", kvm="false"),
    _linux("Ubuntu 18.04 server 64bit", "Ubuntu", "ubuntu18"),
    _linux("Ubuntu 20.04 server 64bit", "Ubuntu", "ubuntu20"),
    _linux("Ubuntu 22.04 server 64bit", "Ubuntu", "ubuntu22"),
    _linux("Ubuntu 24.04 server 64bit", "Ubuntu", "ubuntu24"),
    _linux("Debian 10.0.0 64bit", "Debian", "debian10", mib=(500, 1000)),
    _linux("Debian 11.1.0 64bit", "Debian", "debian11", mib=(500, 1000)),
    _linux("Debian 12.0.0 64bit", "Debian", "debian12", mib=(600, 1100)),
    _linux("EulerOS 2.5 64bit", "EulerOS", "euler25"),
    _linux("EulerOS 2.9 64bit", "EulerOS", "euler29"),
    _linux("EulerOS 2.10 64bit", "EulerOS", "euler210"),
    _linux("openEuler 20.03 64bit", "openEuler", "oe2003"),
    _linux("openEuler 22.03 64bit", "openEuler", "oe2203"),
    _linux("Huawei Cloud EulerOS 1.1 64bit", "HCE", "hce11"),
    _linux("Huawei Cloud EulerOS 2.0 64bit", "HCE", "hce20"),
    _linux("Rocky Linux 8.6 64bit", "Rocky", "rocky8"),
    _linux("Rocky Linux 9.0 64bit", "Rocky", "rocky9"),
    _linux("AlmaLinux 8.6 64bit", "AlmaLinux", "alma8"),
    _linux("AlmaLinux 9.0 64bit", "AlmaLinux", "alma9"),
    _linux("SUSE Linux Enterprise Server 12 SP5 64bit", "SUSE", "sles12", mib=(1500, 3000)),
    _linux("SUSE Linux Enterprise Server 15 SP4 64bit", "SUSE", "sles15", mib=(1500, 3000)),
    _linux("openSUSE 15.4 64bit", "OpenSUSE", "opensuse15"),
    _linux("Fedora 36 64bit", "Fedora", "fedora36"),
    _linux("Fedora 38 64bit", "Fedora", "fedora38"),
    _linux("Kylin V10 64bit", "Kylin", "kylin10", mib=(2000, 4000)),
    _linux("UnionTech OS Server 20 64bit", "UnionTech", "uos20", mib=(2000, 4000)),
)
WINDOWS = tuple(
    OperatingSystem(name, "Windows", "64", (8000, 20000), ram, disk, short)
    for name, short, ram, disk in (
        ("Windows Server 2012 R2 Standard 64bit", "win2012", 2048, 40),
        ("Windows Server 2016 Standard 64bit", "win2016", 2048, 40),
        ("Windows Server 2016 Datacenter 64bit", "win2016", 2048, 40),
        ("Windows Server 2019 Datacenter 64bit", "win2019", 4096, 40),
        ("Windows Server 2022 Datacenter 64bit", "win2022", 4096, 50),
    )
)

ENVIRONMENTS = ("prod", "staging", "dev", "test", "qa", "ci", "dr", "perf")
LINUX_APPS = (
    "web",
    "web-frontend",
    "api",
    "gateway",
    "nginx",
    "db-mysql8",
    "db-postgres15",
    "redis",
    "kafka",
    "zookeeper",
    "elk",
    "jenkins-agent",
    "gitlab-runner",
    "k8s-node",
    "k8s-master",
    "gpu-train",
    "bastion",
    "backup",
    "hadoop-datanode",
    "spark-worker",
)
WINDOWS_APPS = ("sqlserver", "ad-controller", "iis-web", "exchange", "rdp-gateway", "sharepoint")
CHINESE_NAMES = ("生产-数据库", "测试环境-应用", "镜像-备份", "开发-构建机", "灾备-网关")

# Disk formats of private images (gold images are zvhd2 or qcow2), with their weights.
PRIVATE_DISK_FORMATS = ("zvhd2", "qcow2", "vhd", "raw", "iso")
PRIVATE_DISK_WEIGHTS = (50, 20, 12, 10, 8)
MIN_DISKS = (20, 40, 40, 40, 50, 80, 100)
MIN_RAMS = (0, 512, 1024, 1024, 2048, 4096, 8192)
MEMBER_STATUSES = ("accepted",) * 7 + ("pending",) * 2 + ("rejected",)
# Projects that only receive shared images (they own none), so sharing works with one owner.
PARTNER_PROJECTS = 5


class SeedOptionsError(ValueError):
    """Options that cannot give a catalog; the message is one line, meant for a person."""


@dataclass(frozen=True)
class SeedOptions:
    count: int
    seed: int = 0
    owners: int = 12
    public_share: float = 0.10
    shared_share: float = 0.10
    windows_share: float = 0.10
    deleted_share: float = 0.05
    killed_share: float = 0.01
    queued_share: float = 0.02
    protected_share: float = 0.03
    since: datetime = DEFAULT_SINCE
    until: datetime = DEFAULT_UNTIL
    # Images already generated before these, e.g. when appending: a different offset gives a
    # different random stream, so appended ids never repeat earlier ones.
    offset: int = 0

    def __post_init__(self):
        if self.count <= 0:
            raise SeedOptionsError(f"count must be a positive number of images, not {self.count}")
        if self.owners <= 0:
            raise SeedOptionsError(f"owners must be at least 1, not {self.owners}")
        if self.offset < 0:
            raise SeedOptionsError("offset must not be negative")
        for field in fields(self):
            if field.name.endswith("_share"):
                value = getattr(self, field.name)
                if not 0 <= value <= 1:
                    name = field.name.replace("_", "-")
                    raise SeedOptionsError(f"{name} must be between 0 and 1, not {value}")
        states = self.deleted_share + self.killed_share + self.queued_share
        if states > 1:
            raise SeedOptionsError(
                f"deleted, killed and queued shares add up to {states:g}, more than 1"
            )
        if self.shared_share + self.public_share > 1:
            raise SeedOptionsError("public and shared shares add up to more than 1")
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise SeedOptionsError("since and until must carry a time zone")
        if self.since >= self.until:
            raise SeedOptionsError("since must be earlier than until")


def project_ids(seed: int, count: int) -> list[str]:
    """The owner projects of a seeded catalog; the first one owns the public images."""
    rng = random.Random(f"projects:{seed}")
    return [f"{rng.getrandbits(128):032x}" for _ in range(count)]


def _microseconds(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _uuid4_hex(bits: int) -> str:
    """A random-looking version 4 UUID (32 hex digits) made from 128 random bits."""
    bits = (bits & ~(0xF << 76)) | (0x4 << 76)
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)
    return f"{bits:032x}"


def _windows_properties(os: OperatingSystem, imagetype: str, variant: int) -> dict[str, str]:
    # Real catalogs say "Windows" in several ways (docs/api.md#windows-images); each must be
    # recognised.
    if variant == 0:
        return {
            "__os_type": "Windows",
            "__platform": "Windows",
            "__os_version": os.name,
            "__os_bit": "64",
            "__imagetype": imagetype,
            "__support_kvm": "true",
        }
    if variant == 1:
        return {"__os_version": os.name, "__imagetype": imagetype}
    if variant == 2:
        return {"__platform": "windows", "__os_bit": "64", "__imagetype": imagetype}
    return {"__os_type": "WINDOWS", "__imagetype": imagetype}


def _linux_properties(os: OperatingSystem, imagetype: str) -> dict[str, str]:
    return {
        "__os_type": "Linux",
        "__platform": os.platform,
        "__os_version": os.name,
        "__os_bit": os.bits,
        "__imagetype": imagetype,
        "__support_kvm": os.support_kvm,
        "__isregistered": "true",
    }


class _PropertySets:
    """The property sets are few (per OS, image type and form): each is built once.

    Every image gets its own copy, with `is_windows` as columns_from_properties says of it.
    """

    def __init__(self):
        self._cache = {}

    def get(self, os: OperatingSystem, imagetype: str, form: int):
        key = (os.name, imagetype, form)
        found = self._cache.get(key)
        if found is None:
            if form < 0:  # queued, saving or killed: most metadata never arrived
                properties = {"__imagetype": imagetype}
                if form == -2:
                    properties["__os_type"] = os.os_type
            elif os.os_type == "Windows":
                properties = _windows_properties(os, imagetype, form)
            else:
                properties = _linux_properties(os, imagetype)
            is_windows = columns_from_properties(properties)["is_windows"]
            found = self._cache[key] = (properties, is_windows)
        return found[0].copy(), found[1]


def _private_name(rand, os: OperatingSystem, created_at: datetime) -> str | None:
    pick = rand()
    apps = WINDOWS_APPS if os.os_type == "Windows" else LINUX_APPS
    environment = ENVIRONMENTS[int(rand() * len(ENVIRONMENTS))]
    app = apps[int(rand() * len(apps))]
    if pick < 0.45:
        return f"{environment}-{app}-{os.short}"
    if pick < 0.80:
        return f"{environment}-{app}-{created_at.year}{created_at.month:02d}{created_at.day:02d}"
    if pick < 0.95:
        return f"{app}-v{1 + int(rand() * 9)}.{int(rand() * 20)}"
    if pick < 0.99:
        return f"{CHINESE_NAMES[int(rand() * len(CHINESE_NAMES))]}-{1 + int(rand() * 99):02d}"
    return None  # a nameless image: the listing shows "name": null


def _cumulative(weights) -> tuple[list[float], float]:
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative, total


def generate_images(options: SeedOptions) -> Iterator[SeededImage]:
    """Yield each image with its properties and members, oldest first."""
    o = options
    rng = random.Random(f"images:{o.seed}:{o.offset}")
    # rand() and integer arithmetic rather than randrange/choice/choices: a million images
    # draw tens of millions of numbers, and these are several times faster.
    rand, bits = rng.random, rng.getrandbits
    owners = project_ids(o.seed, o.owners)
    provider, tenants = owners[0], owners[1:] or owners[:1]
    partner_rng = random.Random(f"partners:{o.seed}")
    partners = [f"{partner_rng.getrandbits(128):032x}" for _ in range(PARTNER_PROJECTS)]
    recipients = [*dict.fromkeys(tenants), *partners]
    # A few tenants hold most private images, as in a real region.
    tenant_cumulative, tenant_total = _cumulative(1 / (rank + 1) for rank in range(len(tenants)))
    disk_cumulative, disk_total = _cumulative(PRIVATE_DISK_WEIGHTS)
    property_sets = _PropertySets()
    since_us, until_us = _microseconds(o.since), _microseconds(o.until)
    span = until_us - since_us
    deleted_until = o.deleted_share
    killed_until = deleted_until + o.killed_share
    queued_until = killed_until + o.queued_share
    shared_given_private = o.shared_share / ((1 - o.public_share) or 1)

    for position in range(o.count):
        # Evenly spread, oldest first: index pages fill in order, and times hardly collide.
        created_us = since_us + (position * span + int(rand() * span)) // o.count
        created_at = EPOCH + timedelta(microseconds=created_us)
        windows = rand() < o.windows_share
        systems = WINDOWS if windows else LINUX
        os = systems[int(rand() * len(systems))]
        public = rand() < o.public_share
        shared = not public and rand() < shared_given_private
        state = rand()

        if public:
            owner = provider
            name = os.name
            disk_format = "zvhd2" if rand() < 0.8 else "qcow2"
            imagetype = "gold"
        else:
            owner = tenants[bisect_right(tenant_cumulative, rand() * tenant_total)]
            name = _private_name(rand, os, created_at)
            disk_format = PRIVATE_DISK_FORMATS[bisect_right(disk_cumulative, rand() * disk_total)]
            imagetype = "shared" if shared else "private"

        status, deleted = "active", False
        upload = MINUTE + int(rand() * 59 * MINUTE)
        if state < deleted_until:
            status, deleted = ("pending_delete" if rand() < 0.1 else "deleted"), True
            updated_us = created_us + upload + DAY + int(rand() * 720 * DAY)
        elif state < killed_until:
            status = "killed"
            updated_us = created_us + upload
        elif state < queued_until:
            status = "saving" if rand() < 0.2 else "queued"
            updated_us = created_us + int(rand() * 30 * MINUTE)
        elif rand() < 0.3:  # edited after the upload: renamed, properties changed, ...
            updated_us = created_us + upload + MINUTE + int(rand() * 365 * DAY)
        else:
            updated_us = created_us + upload
        updated_at = EPOCH + timedelta(microseconds=min(updated_us, until_us))

        if status in ("queued", "saving", "killed"):
            size = virtual_size = checksum = None
            min_ram = min_disk = 0
            form = -2 if rand() < 0.5 else -1
        else:
            low, high = (300, 4700) if disk_format == "iso" else os.image_mib
            size = (low + int(rand() * (high - low))) * MIB + int(rand() * MIB)
            checksum = f"{bits(128):032x}"
            if public:
                min_disk, min_ram = os.min_disk, os.min_ram
            else:
                min_disk = max(os.min_disk, MIN_DISKS[int(rand() * len(MIN_DISKS))])
                min_ram = max(os.min_ram, MIN_RAMS[int(rand() * len(MIN_RAMS))])
            if disk_format == "iso":
                virtual_size, min_disk, min_ram = None, 0, 0
            elif disk_format == "raw":
                virtual_size = size
            elif rand() < 0.1:  # images registered before IMS recorded it
                virtual_size = None
            else:
                virtual_size = min_disk * GIB
            form = 0
            if windows and not public:
                variant = rand()
                form = 0 if variant < 0.8 else 1 if variant < 0.9 else 2 if variant < 0.95 else 3
        properties, is_windows = property_sets.get(os, imagetype, form)

        members = []
        if shared:
            chosen = {owner}
            for _ in range(1 + int(rand() * 3)):
                member_id = owner
                while member_id in chosen:  # the partners alone leave enough to choose from
                    member_id = recipients[int(rand() * len(recipients))]
                chosen.add(member_id)
                member_status = MEMBER_STATUSES[int(rand() * len(MEMBER_STATUSES))]
                members.append(MemberRow(member_id, can_share=rand() < 0.1, status=member_status))

        protected = status == "active" and rand() < o.protected_share
        image = ImageRow(
            id=_uuid4_hex(bits(128)),
            name=name,
            status=status,
            container_format="bare",
            disk_format=disk_format,
            size=size,
            virtual_size=virtual_size,
            checksum=checksum,
            min_ram=min_ram,
            min_disk=min_disk,
            is_public=public,
            protected=protected,
            owner=owner,
            created_at=created_at,
            updated_at=updated_at,
            deleted=deleted,
            deleted_at=updated_at if deleted else None,
            is_windows=is_windows,
            version=1,
        )
        yield SeededImage(image, properties, members)
