"""How the change lists write values compactly, so that every column fits the screen.

What is shortened stays whole on hover (the title), and where it is an owner or a project,
one click away in the list's own filter.
"""

from django.utils import timezone
from django.utils.html import format_html

# Enough of a 32-hex project id to tell the projects of one catalog apart at a glance.
SHORT_ID_LENGTH = 8


def human_size(size: int | None) -> str | None:
    """Bytes in binary units, as `12.6 MiB`."""
    if size is None:
        return None
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} EiB"


def two_lines(text: str | None):
    """Text cut to two lines by the stylesheet (catalog/admin.css), whole in its title."""
    if text is None:
        return None
    return format_html('<span class="catalog-two-lines" title="{}">{}</span>', text, text)


def short_project(project: str | None, *, filter_url: str | None = None):
    """A project id by its first characters; hovering shows it whole, and with `filter_url`
    (ending in `=`) a click filters the list by it."""
    if project is None:
        return None
    shown = project if len(project) <= SHORT_ID_LENGTH + 2 else f"{project[:SHORT_ID_LENGTH]}…"
    if filter_url is None:
        return format_html('<span class="catalog-id" title="{}">{}</span>', project, shown)
    return format_html(
        '<a class="catalog-id" href="{}{}" title="{}">{}</a>', filter_url, project, project, shown
    )


def compact_time(moment):
    """A date (UTC, as the API writes its times), the whole time on hover."""
    if moment is None:
        return None
    moment = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        f"{moment:%Y-%m-%d %H:%M:%S} UTC",
        f"{moment:%Y-%m-%d}",
    )
