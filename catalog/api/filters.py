"""Which images a listing matches (docs/api.md#visibility and docs/api.md#filters).

Filter names are spelled as the API spells them. Bad values are never dropped silently, as
django-filter does by default: each field raises Glance's own message, and ImageFilterBackend
answers 400 with the first one. Names the API does not know are ignored, as Glance ignored
them.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db.models import CharField, Exists, Field, OuterRef, QuerySet
from django.db.models.functions import Left
from rest_framework.filters import BaseFilterBackend

from catalog.compiled import Param
from catalog.models import MAX_INT32, MAX_INT64, PROPERTY_VALUE_INDEX_PREFIX, Image, ImageProperty
from catalog.querysets import ReadScope
from catalog.timestamps import TimestampError, parse_timestamp

from .auth import Caller
from .errors import BadRequest

PROPERTY_PREFIX = "property-"
# An echoed value is cut, so a 100 KB parameter does not come back as a 100 KB message.
ECHO_LIMIT = 100


def echo(value: str) -> str:
    return value if len(value) <= ECHO_LIMIT else value[:ECHO_LIMIT] + "..."


class ParameterField(forms.Field):
    """A field of a query parameter. It keeps nothing of a request (no widget is ever
    rendered), so every form shares one instance instead of Django's deep copy per form."""

    def __deepcopy__(self, memo):
        return self


class LiteralField(ParameterField):
    """Any string, the empty one included; None only when the parameter is absent."""

    def to_python(self, value):
        return value

    def validate(self, value):
        pass


class CountField(ParameterField):
    """A whole number >= 0, as Glance checked `size_min`, `size_max`, `min_ram`, `min_disk`."""

    def __init__(self, *, name: str, maximum: int, **kwargs):
        super().__init__(**kwargs)
        self.name, self.maximum = name, maximum

    def to_python(self, value):
        if value is None:
            return None
        text = value.strip()
        # isdecimal() first: int() accepts "+1", "1_000" and other Unicode digits. Leading
        # zeros are accepted, as Glance's int() accepted them; the length check comes after
        # them, so a 10,000-digit number is refused without being converted.
        if text.isascii() and text.isdecimal():
            digits = text.lstrip("0") or "0"
            if len(digits) <= len(str(self.maximum)) and int(digits) <= self.maximum:
                return int(digits)
        raise forms.ValidationError(f"Bad value passed to filter {self.name} got {echo(value)}")


class BooleanParameterField(ParameterField):
    """`true`/`1`, `false`/`0` or `none`, any case; None stands for `none`."""

    NONE = "none"

    def __init__(self, *, name: str, none_message: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.name, self.none_message = name, none_message

    def clean(self, value):
        if value is None:
            return None
        word = value.lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        if word == self.NONE:
            if self.none_message:
                raise forms.ValidationError(self.none_message)
            return self.NONE
        raise forms.ValidationError(f"Bad value passed to filter {self.name} got {echo(value)}")


class TimestampField(ParameterField):
    def clean(self, value):
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except TimestampError:
            raise forms.ValidationError("Unrecognized changes-since value") from None


def can_be_stored(text: str) -> bool:
    """False for text that no stored value can equal: it holds a NUL, which PostgreSQL cannot
    store (and the write paths refuse), so it must not reach the database either."""
    return "\x00" not in text


class LookupFilter(django_filters.Filter):
    """A filter whose value reaches the query as a `Param` of the field it compares."""

    def output_field(self) -> Field:
        # Each filter of ImageFilter compares a column of the image.
        field = Image._meta.get_field(self.field_name or "")
        assert isinstance(field, Field)
        return field


class ExactFilter(LookupFilter):
    field_class = LiteralField

    def filter(self, qs, value):
        # docs/api.md#filters: a value is taken literally, an empty one included (a value no
        # image can have is answered by ImageFilter.selection without a query).
        if value is None:
            return qs
        return qs.filter(**{str(self.field_name): value})


class CountFilter(LookupFilter):
    field_class = CountField

    def filter(self, qs, value):
        return (
            qs if value is None else qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})
        )


class BooleanFilter(django_filters.Filter):
    field_class = BooleanParameterField


class TimestampFilter(LookupFilter):
    field_class = TimestampField


def property_filters(data) -> dict[str, str]:
    """The `property-<key>=<value>` filters of a query (a repeated one counts once, its last
    value)."""
    return {
        name.removeprefix(PROPERTY_PREFIX): data[name]
        for name in data
        if name.startswith(PROPERTY_PREFIX)
    }


class ImageFilterForm(forms.Form):
    def clean(self):
        # Each property filter is a join the planner has to order: beyond a few dozen,
        # planning alone takes seconds. The cap keeps every permitted request cheap.
        limit = settings.CATALOG_MAX_PROPERTY_FILTERS
        if len(property_filters(self.data)) > limit:
            raise forms.ValidationError(
                f"Too many property filters: at most {limit} are allowed in one request."
            )
        return super().clean()


class ImageFilter(django_filters.FilterSet):
    """The listing's parameters as lookups, validated in declaration order
    (docs/api.md#validation-order).

    `is_public` and `changes-since` also choose the read policy (`ImageQuerySet.for_caller`):
    which images the caller sees at all, before any lookup narrows them.
    """

    name = ExactFilter()
    status = ExactFilter()
    container_format = ExactFilter()
    disk_format = ExactFilter()
    size_min = CountFilter(field_name="size", lookup_expr="gte", name="size_min", maximum=MAX_INT64)
    size_max = CountFilter(field_name="size", lookup_expr="lte", name="size_max", maximum=MAX_INT64)
    min_ram = CountFilter(lookup_expr="exact", name="min_ram", maximum=MAX_INT32)
    min_disk = CountFilter(lookup_expr="exact", name="min_disk", maximum=MAX_INT32)
    protected = BooleanFilter(name="protected", none_message="protected must be True, or False")
    is_public = BooleanFilter(name="is_public")
    changes_since = TimestampFilter(field_name="updated_at", lookup_expr="gt")

    # Not a lookup: it picks the branch of the read policy (an admin's is_public=false, say).
    POLICY_ONLY = frozenset({"is_public"})

    class Meta:
        model = Image
        fields: list[str] = []
        form = ImageFilterForm

    def __init__(self, data, *, queryset, request):
        # django-filter deep-copies every filter for each request and builds a form class
        # around the copies (about half of this class's time per request). These filters
        # keep no state of a request (none has a `method` that refers back to the
        # filterset), so the class's own serve every request, and so does one form class.
        self.is_bound, self.data, self.form_prefix = True, data, None
        self.queryset, self.request = queryset, request
        self.filters = self.base_filters

    @classmethod
    @cache
    def form_class(cls):
        meta = cls._meta  # type: ignore[attr-defined]  # set by django-filter's metaclass
        for filter_ in cls.base_filters.values():
            filter_.model = meta.model  # type: ignore[attr-defined]  # what django-filter sets
        fields = {name: filter_.field for name, filter_ in cls.base_filters.items()}
        return type(f"{cls.__name__}Form", (meta.form,), fields)

    def get_form_class(self):
        return self.form_class()

    @classmethod
    def get_filters(cls):
        # The API spells it with a hyphen (Glance's name), which no Python attribute can.
        filters = super().get_filters()
        filters["changes-since"] = filters.pop("changes_since")
        return filters

    def selection(self) -> "Selection":
        """The validated parameters as a `Selection`: the shape of the images' query (for
        `catalog.compiled`) and its values, the query itself built only when the shape is new.
        """
        data = self.form.cleaned_data
        assert self.request is not None  # ImageFilterBackend always passes the request
        caller: Caller = self.request.user  # type: ignore[assignment]  # TokenAuthentication's
        is_public = data["is_public"]
        policy = {
            "changes_since": data["changes-since"],
            "is_public": None
            if is_public == BooleanParameterField.NONE
            else is_public is not False,
        }
        values: dict[str, Any] = {"project": caller.project}
        lookups: list[tuple[str, Any]] = []
        key: list[Hashable] = [Image.objects.policy_key(caller, **policy)]
        for name, value in data.items():
            if value is None or name in self.POLICY_ONLY:
                continue
            if isinstance(value, bool):
                lookups.append((name, value))  # two values: part of the shape
                key.append((name, value))
                continue
            values[name] = value
            filter_ = self.filters[name]
            assert isinstance(filter_, LookupFilter)
            lookups.append((name, Param(name, value, filter_.output_field())))
            key.append(name)
        empty = not all(can_be_stored(v) for v in values.values() if isinstance(v, str))
        properties = []
        for position, (name, value) in enumerate(property_filters(self.data).items()):
            empty = empty or not (can_be_stored(name) and can_be_stored(value))
            whole = len(value) >= PROPERTY_VALUE_INDEX_PREFIX
            slots = {"key": name, "prefix": value[:PROPERTY_VALUE_INDEX_PREFIX]}
            if whole:
                slots["value"] = value
            slots = {f"property{position}_{part}": text for part, text in slots.items()}
            values.update(slots)
            properties.append([Param(slot, text, CharField()) for slot, text in slots.items()])
            key.append(("property", whole))

        def build():
            queryset = Image.objects.for_caller(caller, **policy)
            for name, value in lookups:
                queryset = self.filters[name].filter(queryset, value)
            for params in properties:
                queryset = queryset.filter(Exists(self.property_match(*params)))
            return queryset

        scope = ReadScope(caller, policy["changes_since"])
        return Selection(tuple(key), values, build, scope, empty)

    @staticmethod
    def property_match(key, prefix, value=None):
        # The index holds a prefix of the value (models.ImageProperty). A value shorter than
        # the prefix is matched by the prefix alone, exactly; a longer one is compared in full
        # as well. One condition instead of two also keeps the planner's estimate right.
        properties = ImageProperty.objects.alias(
            value_prefix=Left("value", PROPERTY_VALUE_INDEX_PREFIX)
        ).filter(image=OuterRef("pk"), key=key, value_prefix=prefix)
        if value is not None:
            properties = properties.filter(value=value)
        return properties


@dataclass(frozen=True)
class Selection:
    """The images a listing's parameters select, as `catalog.compiled` runs them: `key` names
    everything that changes the SQL, `values` fill its `Param`s, and `build()` makes the
    queryset (with those Params) when the shape is new. `empty`: a value no stored image can
    have (it holds a NUL, which PostgreSQL cannot store), so no query is needed at all."""

    key: tuple
    values: dict
    build: Callable[[], QuerySet]
    scope: ReadScope
    empty: bool


class ImageFilterBackend(BaseFilterBackend):
    """Applies `view.filterset_class`; its first error is the contract's 400. What it returns
    is a `Selection`, which the view's `MarkerPagination` pages."""

    def filter_queryset(self, request, queryset, view):
        filterset = view.filterset_class(request.query_params, queryset=queryset, request=request)
        if not filterset.is_valid():
            raise BadRequest(next(iter(filterset.errors.values()))[0])
        return filterset.selection()
