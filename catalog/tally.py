"""The overview's counts (models.ImageTally), kept up to date by the writes themselves.

Each service that writes images (services.py) reads the counted values of the images it is
about to change (`rows`), writes, and hands the before and after to `record`, which adds the
difference to the tally in the same transaction: a write that rolls back changes no count.
`rebuild` counts everything again from the tables; the migration that made the tally runs it,
so does `seed_images` (which loads rows without the services), and so can an operator after
changing rows by hand (`python manage.py rebuild_tally`).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from functools import reduce
from operator import or_

from django.apps import apps as installed_apps
from django.db import transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import TruncDate, TruncMonth

from .models import Image, ImageMember, ImageProperty, ImageTally
from .seeding import ImageRow, SeededImage

STATUS = ImageTally.Dimension.STATUS.value
VISIBILITY = ImageTally.Dimension.VISIBILITY.value
OS_TYPE = ImageTally.Dimension.OS_TYPE.value
DISK_FORMAT = ImageTally.Dimension.DISK_FORMAT.value
WINDOWS = ImageTally.Dimension.WINDOWS.value
CREATED_MONTH = ImageTally.Dimension.CREATED_MONTH.value
OWNER = ImageTally.Dimension.OWNER.value
DELETED_DAY = ImageTally.Dimension.DELETED_DAY.value

OS_TYPE_KEY = "__os_type"
VALUE_LENGTH = ImageTally._meta.get_field("value").max_length
# The image columns the counts are made of; `rows` adds os_type and has_members.
FIELDS = (
    "status",
    "is_public",
    "disk_format",
    "is_windows",
    "created_at",
    "owner",
    "deleted",
    "deleted_at",
)
# Ids per query, and tally rows per UPDATE (each takes five parameters; SQLite limits them).
_CHUNK = 500
_KEYS_PER_UPDATE = 100


def _value(text: str | None) -> str:
    # A longer OS type than a tally value holds is counted by its first characters.
    return (text or "")[:VALUE_LENGTH]


def keys(row: Mapping) -> list[tuple[str, str]]:
    """The (dimension, value) pairs one image counts towards."""
    visibility = "public" if row["is_public"] else "shared" if row["has_members"] else "private"
    pairs = [
        (STATUS, row["status"]),
        (VISIBILITY, visibility),
        (OS_TYPE, _value(row["os_type"])),
        (DISK_FORMAT, _value(row["disk_format"])),
        (WINDOWS, "yes" if row["is_windows"] else "no"),
        (CREATED_MONTH, f"{row['created_at'].astimezone(UTC):%Y-%m}"),
        (OWNER, _value(row["owner"])),
    ]
    if row["deleted"] and row["deleted_at"] is not None:
        pairs.append((DELETED_DAY, f"{row['deleted_at'].astimezone(UTC):%Y-%m-%d}"))
    return pairs


def rows(ids: Sequence) -> list[dict]:
    """The counted values of these images as stored now: what a write is about to change."""
    found = []
    for start in range(0, len(ids), _CHUNK):
        os_type = ImageProperty.objects.filter(image=OuterRef("pk"), key=OS_TYPE_KEY)
        images = Image.objects.filter(pk__in=ids[start : start + _CHUNK]).annotate(
            os_type=Subquery(os_type.values("value")[:1]),
            has_members=Exists(ImageMember.objects.filter(image=OuterRef("pk"))),
        )
        found += images.order_by().values("pk", *FIELDS, "os_type", "has_members")
    return found


def row_of(image: Image | ImageRow, *, properties: Mapping[str, str], has_members: bool) -> dict:
    """The counted values of an image about to be written with these properties."""
    return {
        **{name: getattr(image, name) for name in FIELDS},
        "os_type": properties.get(OS_TYPE_KEY),
        "has_members": has_members,
    }


def bulk_row_of(image: SeededImage) -> dict:
    """The counted values of an image a bulk writer is about to write."""
    return row_of(image.image, properties=image.properties, has_members=bool(image.members))


def row_after(
    row: Mapping,
    fields: Mapping,
    *,
    properties: Mapping[str, str] | None = None,
    has_members: bool | None = None,
) -> dict:
    """`row` (from `rows`) once these fields, and properties or members if given, are written."""
    after = {**row, **{name: value for name, value in fields.items() if name in FIELDS}}
    if properties is not None:
        after["os_type"] = properties.get(OS_TYPE_KEY)
    if has_members is not None:
        after["has_members"] = has_members
    return after


def change(*, before: Iterable[Mapping] = (), after: Iterable[Mapping] = ()) -> Counter:
    """What counting the images of `after` instead of those of `before` adds to each count."""
    difference: Counter[tuple] = Counter()
    for row in after:
        difference.update(keys(row))
    for row in before:
        difference.subtract(keys(row))
    return difference


def record(*, before: Iterable[Mapping] = (), after: Iterable[Mapping] = ()) -> None:
    """Count the images of `after` instead of the same images as they were in `before`."""
    add(change(before=before, after=after))


def add(difference: Mapping[tuple[str, str], int]) -> None:
    """Add these amounts to the counts (a write's `change`, or the sum of several)."""
    change = {key: amount for key, amount in difference.items() if amount}
    if not change:
        return
    # Rows for values counted for the first time; the UPDATE below then adds to every row.
    ImageTally.objects.bulk_create(
        [ImageTally(dimension=d, value=v) for (d, v), amount in change.items() if amount > 0],
        ignore_conflicts=True,
    )
    # Always in the same order, so that two writers updating the same rows cannot deadlock.
    items = sorted(change.items())
    for start in range(0, len(items), _KEYS_PER_UPDATE):
        part = items[start : start + _KEYS_PER_UPDATE]
        ImageTally.objects.filter(
            reduce(or_, (Q(dimension=d, value=v) for (d, v), _ in part))
        ).update(
            count=F("count")
            + Case(*(When(dimension=d, value=v, then=Value(n)) for (d, v), n in part), default=0)
        )


def count_all(apps=installed_apps) -> Counter:
    """Every count, from the tables themselves: a scan of every image (seconds on a million).

    `apps` is the model registry (a migration passes its own).
    """
    images = apps.get_model("catalog", "Image").objects.order_by()
    members = apps.get_model("catalog", "ImageMember").objects
    properties = apps.get_model("catalog", "ImageProperty").objects.order_by()
    counts: Counter[tuple] = Counter()

    def add(dimension, grouped, name=str):
        for value, amount in grouped:
            counts[(dimension, _value(name(value)) if value is not None else "")] += amount

    for dimension, field in ((STATUS, "status"), (DISK_FORMAT, "disk_format"), (OWNER, "owner")):
        add(dimension, images.values_list(field).annotate(n=Count("pk")))
    add(
        WINDOWS,
        images.values_list("is_windows").annotate(n=Count("pk")),
        lambda flag: "yes" if flag else "no",
    )
    add(
        CREATED_MONTH,
        images.annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .values_list("month")
        .annotate(n=Count("pk")),
        lambda month: f"{month:%Y-%m}",
    )
    add(
        DELETED_DAY,
        images.filter(deleted=True, deleted_at__isnull=False)
        .annotate(day=TruncDate("deleted_at", tzinfo=UTC))
        .values_list("day")
        .annotate(n=Count("pk")),
        lambda day: f"{day:%Y-%m-%d}",
    )

    total = images.count()
    public = images.filter(is_public=True).count()
    with_members = Exists(members.filter(image=OuterRef("pk")))
    shared = images.filter(with_members, is_public=False).count()
    counts[(VISIBILITY, "public")] += public
    counts[(VISIBILITY, "shared")] += shared
    counts[(VISIBILITY, "private")] += total - public - shared

    add(OS_TYPE, properties.filter(key=OS_TYPE_KEY).values_list("value").annotate(n=Count("pk")))
    counts[(OS_TYPE, "")] += total - sum(n for (d, _), n in counts.items() if d == OS_TYPE)
    return +counts  # without the values no image has


def stored(apps=installed_apps) -> Counter:
    """The tally as it stands."""
    tally = apps.get_model("catalog", "ImageTally").objects
    return +Counter({(d, v): n for d, v, n in tally.values_list("dimension", "value", "count")})


@transaction.atomic
def rebuild(apps=installed_apps) -> None:
    """Replace the tally with a fresh count of every image. Run it while nothing else
    writes images (a write in the meantime may be counted twice or not at all)."""
    tally = apps.get_model("catalog", "ImageTally")
    counts = count_all(apps)
    tally.objects.all().delete()
    tally.objects.bulk_create(
        [tally(dimension=d, value=v, count=n) for (d, v), n in sorted(counts.items())],
        batch_size=_CHUNK,
    )
