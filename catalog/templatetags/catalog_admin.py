"""Template tags of the catalog's admin pages."""

import calendar
import datetime

from django import template
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.text import capfirst

register = template.Library()


@register.inclusion_tag("admin/date_hierarchy.html")
def calendar_date_hierarchy(cl):
    """Django's date drill-down (`date_hierarchy`) without reading the matching rows.

    Django lists only the years, months or days that hold images, through a DISTINCT over
    every matching row on every page: a full scan of a million images. Here the years run from
    the catalog's oldest image to its newest (two index lookups), months and days come from
    the calendar, and a period without images leads to an empty list.
    """
    field = cl.date_hierarchy
    names = {part: f"{field}__{part}" for part in ("year", "month", "day")}
    year, month, day = (cl.params.get(names[part]) for part in ("year", "month", "day"))

    def link(**parts):
        return cl.get_query_string(
            {names[part]: value for part, value in parts.items()}, [f"{field}__"]
        )

    def title(date, format_name):
        return capfirst(formats.date_format(date, format_name))

    if year and month and day:
        date = datetime.date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {
                "link": link(year=year, month=month),
                "title": title(date, "YEAR_MONTH_FORMAT"),
            },
            "choices": [{"title": title(date, "MONTH_DAY_FORMAT")}],
        }
    if year and month:
        last_day = calendar.monthrange(int(year), int(month))[1]
        dates = [datetime.date(int(year), int(month), n) for n in range(1, last_day + 1)]
        return {
            "show": True,
            "back": {"link": link(year=year), "title": str(year)},
            "choices": [
                {
                    "link": link(year=year, month=month, day=d.day),
                    "title": title(d, "MONTH_DAY_FORMAT"),
                }
                for d in dates
            ],
        }
    if year:
        months = [datetime.date(int(year), n, 1) for n in range(1, 13)]
        return {
            "show": True,
            "back": {"link": link(), "title": "All dates"},
            "choices": [
                {"link": link(year=year, month=m.month), "title": title(m, "YEAR_MONTH_FORMAT")}
                for m in months
            ],
        }
    bounds = cl.model._default_manager.aggregate(first=Min(field), last=Max(field))
    if bounds["first"] is None:
        return {"show": False}
    first, last = (timezone.localtime(bounds[end]).year for end in ("first", "last"))
    return {
        "show": True,
        "back": None,
        "choices": [{"link": link(year=str(y)), "title": str(y)} for y in range(first, last + 1)],
    }


@register.filter
def thousands(number):
    """1234567 as 1,234,567."""
    return f"{number:,}"
