"""The v2 listing's query parameters (docs/api.md#v2-sorting, docs/api.md#v2-paging): paging,
order, visibility, and the filters of filters.py.

`ListingParameters.read` validates in Glance's order (docs/api.md#v2-validation-order), so
a request with several problems gets the message Glance would give first.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from catalog.models import Image
from catalog.querysets import MEMBER_STATUSES, VISIBILITIES, ReadScope, V2Scope

from ..errors import BadRequest
from ..filters import Selection, echo
from ..pagination import SORT_DIRS, SORT_KEYS, _limit
from .filters import FILTERS, NOTHING, Lookup, property_lookup

# The same sort keys as v1 (Glance v2 allows these and the same two directions).
DEFAULT_SORT = ("created_at", "desc")
# Handled here, never property filters. `deleted` is ignored, as Glance overrides it.
PAGING = ("limit", "marker", "sort", "sort_key", "sort_dir")
SCOPE = ("member_status", "visibility")
IGNORED = ("deleted",)


@dataclass(frozen=True)
class Page:
    """`limit`, `marker` and the order: (key, direction) pairs, tie-breakers included, ending
    at `id` (a total order: nothing after it could change the order)."""

    limit: int
    marker: str | None
    ordering: tuple[tuple[str, str], ...]


def _sort_key(text: str) -> str:
    key = text.strip()
    if key not in SORT_KEYS:
        raise BadRequest(
            f"Invalid sort key: {echo(key)}. It must be one of the following: "
            f"{', '.join(SORT_KEYS)}."
        )
    return key


def _sort_dir(text: str) -> str:
    direction = text.strip()
    if direction not in SORT_DIRS:
        raise BadRequest(f"Invalid sort direction: {echo(direction)}")
    return direction


def read_sort(query) -> tuple[list[str], list[str]]:
    """`sort=name:asc,size` or `sort_key`/`sort_dir`, repeatable (docs/api.md#v2-sorting)."""
    if "sort" in query:
        if "sort_key" in query or "sort_dir" in query:
            raise BadRequest("Old and new sorting syntax cannot be combined")
        keys, dirs = [], []
        for item in query["sort"].strip().split(","):
            key, _, direction = item.partition(":")
            keys.append(_sort_key(key))
            dirs.append(_sort_dir(direction or DEFAULT_SORT[1]))
        return keys, dirs
    keys = [_sort_key(key) for key in query.getlist("sort_key")]
    dirs = [_sort_dir(direction) for direction in query.getlist("sort_dir")]
    if len(dirs) > 1 and len(dirs) != len(keys):
        raise BadRequest("Number of sort dirs does not match the number of sort keys")
    return keys, dirs


def ordering(keys: list[str], dirs: list[str]) -> tuple[tuple[str, str], ...]:
    """Glance's order: one direction given applies to every key; `created_at` and `id`
    follow as tie-breakers, in that one direction (or `desc` when several were given). A key
    given twice counts where it first appears."""
    keys = keys or [DEFAULT_SORT[0]]
    default = dirs[0] if len(dirs) == 1 else DEFAULT_SORT[1]
    if len(dirs) <= 1:
        dirs = [default] * len(keys)
    pairs = [*zip(keys, dirs, strict=True), ("created_at", default), ("id", default)]
    result: dict[str, Any] = {}
    for key, direction in pairs:
        result.setdefault(key, direction)
        if key == "id":
            break
    return tuple(result.items())


@dataclass(frozen=True)
class ListingParameters:
    """A v2 listing's parameters, validated (docs/api.md#v2-validation-order)."""

    page: Page
    scope: V2Scope
    lookups: tuple[Lookup, ...]

    @classmethod
    def read(cls, query) -> "ListingParameters":
        visibility = query.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {echo(visibility)}")
        if "changes-since" in query:
            raise BadRequest('The "changes-since" filter is no longer available on v2.')
        member_status = query.get("member_status", "accepted")
        if member_status not in MEMBER_STATUSES:
            raise BadRequest(f"Invalid status: {echo(member_status)}")
        limit = _limit(query.get("limit"))
        page = Page(limit, query.get("marker"), ordering(*read_sort(query)))
        lookups = [*cls.flags(query)]
        properties = 0
        for name in query:
            if name in PAGING or name in SCOPE or name in IGNORED or name in FLAGS:
                continue
            if name in FILTERS:
                lookups.append(FILTERS[name].lookup(name, query[name]))
                continue
            lookups.append(property_lookup(properties, name, query[name]))
            properties += 1
        cap = settings.CATALOG_MAX_PROPERTY_FILTERS
        if properties > cap:
            raise BadRequest(
                f"Too many property filters: at most {cap} are allowed in one request."
            )
        scope = V2Scope(member_status, None if visibility == "all" else visibility)
        return cls(page, scope, tuple(lookups))

    @staticmethod
    def flags(query):
        """`os_hidden` (any case) and `protected` (lower case): `true` or `false`."""
        hidden = query.get("os_hidden")
        if hidden is not None:
            if hidden.lower() not in ("true", "false"):
                raise BadRequest(
                    f"Invalid value '{echo(hidden)}' for 'os_hidden' filter. "
                    "Valid values are 'true' or 'false'."
                )
            if hidden.lower() == "true":
                yield NOTHING  # the catalog hides no image
        protected = query.get("protected")
        if protected is not None:
            if protected not in ("true", "false"):
                raise BadRequest(
                    f"Invalid value '{echo(protected)}' for 'protected' filter. "
                    "Valid values are 'true' or 'false'."
                )
            value = protected == "true"
            yield Lookup(key=("protected", value), condition=lambda: Q(protected=value))

    def selection(self, caller) -> Selection:
        """The images these parameters select for `caller`, as `catalog.compiled` runs them."""
        values = {"project": caller.project}
        key = [Image.objects.policy_key(caller, v2=self.scope)]
        empty = False
        for lookup in self.lookups:
            key.append(lookup.key)
            values.update(lookup.values)
            empty = empty or lookup.empty
        conditions = [lookup.condition for lookup in self.lookups if lookup.condition]

        def build():
            images = Image.objects.for_caller(caller, v2=self.scope)
            for condition in conditions:
                images = images.filter(condition())
            return images

        return Selection(tuple(key), values, build, ReadScope(caller, None), empty)


FLAGS = ("os_hidden", "protected")
