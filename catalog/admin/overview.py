"""The overview page: what the catalog holds, at a glance, for staff.

Every number comes from the tally (catalog/tally.py), which the writes keep: the page reads a
few dozen rows whatever the size of the catalog, instead of counting a million images.
"""

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from .. import tally
from ..forms import WELL_KNOWN_PROPERTIES
from ..models import Image, ImageTally
from .charts import column_chart
from .display import short_project

LARGEST_OWNERS = 10
RECENT_DAYS = 30


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    percent: str  # of all images, for the bar
    link: str | None  # the image list, filtered to these images


def _rows(counts: dict[str, int], total: int, order, *, label, link) -> list[Row]:
    return [
        Row(
            label=label(value),
            count=counts[value],
            percent=f"{100 * counts[value] / total:.1f}" if total else "0",
            link=link(value),
        )
        for value in sorted(counts, key=order)
        if counts[value]
    ]


def _months(first: str, last: str):
    year, month = map(int, first.split("-"))
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def read_overview(*, today: date) -> dict:
    """The page's numbers: three queries on the tally."""
    since = today - timedelta(days=RECENT_DAYS - 1)
    counts: dict[str, dict[str, int]] = {}
    for dimension, value, count in ImageTally.objects.filter(
        ~Q(dimension__in=[tally.OWNER, tally.DELETED_DAY])
        | Q(dimension=tally.DELETED_DAY, value__gte=f"{since:%Y-%m-%d}")
    ).values_list("dimension", "value", "count"):
        counts.setdefault(dimension, {})[value] = count
    owners = list(
        ImageTally.objects.filter(dimension=tally.OWNER, count__gt=0)
        .order_by("-count", "value")
        .values_list("value", "count")[:LARGEST_OWNERS]
    )
    owner_count = ImageTally.objects.filter(dimension=tally.OWNER, count__gt=0).count()
    return {
        "counts": {d.value: counts.get(d.value, {}) for d in ImageTally.Dimension},
        "owners": owners,
        "owner_count": owner_count,
        "since": since,
    }


def overview_context(*, today: date) -> dict:
    data = read_overview(today=today)
    counts = data["counts"]
    total = sum(counts[tally.STATUS].values())
    images = reverse("admin:catalog_image_changelist")

    def link(**query):
        return f"{images}?{urlencode(query)}"

    statuses = list(Image.Status.values)
    formats = list(Image.DiskFormat.values)
    os_types = list(WELL_KNOWN_PROPERTIES["__os_type"])
    visibilities = ["public", "private", "shared"]

    def order_by(known):
        return lambda value: (known.index(value) if value in known else len(known), value)

    months = counts[tally.CREATED_MONTH]
    per_month = [(m, months.get(m, 0)) for m in _months(min(months), max(months))] if months else []
    deleted_days = counts[tally.DELETED_DAY]
    recent_days = [data["since"] + timedelta(days=n) for n in range(RECENT_DAYS)]
    per_day = [(f"{day:%Y-%m-%d}", deleted_days.get(f"{day:%Y-%m-%d}", 0)) for day in recent_days]

    return {
        "total": total,
        "hidden_windows": counts[tally.WINDOWS].get("yes", 0),
        "recent_deletes": sum(count for _, count in per_day),
        "recent_days": RECENT_DAYS,
        "tables": [
            (
                "Status",
                "status",
                _rows(
                    counts[tally.STATUS],
                    total,
                    order_by(statuses),
                    label=str,
                    link=lambda value: link(status__exact=value, deleted="all"),
                ),
            ),
            (
                "Visibility",
                "visibility",
                _rows(
                    counts[tally.VISIBILITY],
                    total,
                    order_by(visibilities),
                    label=str,
                    link=lambda value: link(visibility=value, deleted="all"),
                ),
            ),
            (
                "OS type (__os_type)",
                "os-type",
                _rows(
                    counts[tally.OS_TYPE],
                    total,
                    order_by([*os_types, ""]),
                    label=lambda value: value or "not set",
                    link=lambda value: (
                        link(os_type=value or "none", deleted="all")
                        if value in ("", *os_types)
                        else None
                    ),
                ),
            ),
            (
                "Disk format",
                "disk-format",
                _rows(
                    counts[tally.DISK_FORMAT],
                    total,
                    order_by([*formats, ""]),
                    label=lambda value: value or "not set",
                    link=lambda value: (
                        link(disk_format__exact=value, deleted="all")
                        if value
                        else link(disk_format__isnull="True", deleted="all")
                    ),
                ),
            ),
        ],
        "per_month": column_chart(
            per_month,
            title="Images created per month",
            describe=lambda month, n: f"{month}: {n:,} image{pluralize(n)} created",
            label=lambda index, month: month[:4] if index == 0 or month.endswith("-01") else None,
        ),
        "first_month": per_month[0][0] if per_month else None,
        "per_day": column_chart(
            per_day,
            title=f"Images deleted per day, the last {RECENT_DAYS} days",
            describe=lambda day, n: f"{day}: {n:,} image{pluralize(n)} deleted",
            label=lambda index, day: day[5:] if index % 7 == 0 else None,
        ),
        "owners": [
            {
                "project": short_project(owner or None),
                "count": count,
                "percent": f"{100 * count / total:.1f}" if total else "0",
                "link": link(owner=owner, deleted="all") if owner else None,
            }
            for owner, count in data["owners"]
        ],
        "owner_count": data["owner_count"],
    }


def overview_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.now().astimezone(UTC).date()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Catalog overview",
        "opts": model_admin.opts,
        **overview_context(today=today),
    }
    return TemplateResponse(request, "admin/catalog/image/overview.html", context)
