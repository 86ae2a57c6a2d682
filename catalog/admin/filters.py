"""Change list filters for images that Django's field filters cannot express.

None of them reads the table to list its choices: on a million images a "distinct owners"
query per page would cost more than the page itself.
"""

from django.contrib import admin
from django.db.models import Exists, OuterRef

from ..models import ImageMember, ImageProperty
from ..vocabulary import WELL_KNOWN_PROPERTIES


def has_members():
    return Exists(ImageMember.objects.filter(image=OuterRef("pk")))


def os_type_property(**value_lookup):
    return Exists(
        ImageProperty.objects.filter(image=OuterRef("pk"), key="__os_type", **value_lookup)
    )


class ValueChoicesFilter(admin.ChoicesFieldListFilter):
    """A choices filter that shows values as the API spells them (qcow2, pending_delete)."""

    def choices(self, changelist):
        values = {label: value for value, label in self.field.flatchoices}
        for choice in super().choices(changelist):
            yield {**choice, "display": values.get(choice["display"], choice["display"])}


class DeletedFilter(admin.SimpleListFilter):
    """Deleted images stay in the catalog (soft delete) but are hidden unless asked for."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("no", "Not deleted"), ("yes", "Deleted only"), ("all", "All"))

    def choices(self, changelist):
        # No "All" entry of Django's: having no value means "not deleted" here.
        current = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: None if lookup == "no" else lookup}
                ),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        return queryset.filter(deleted=value == "yes")


class VisibilityFilter(admin.SimpleListFilter):
    """Public, private (only the owner sees it) or shared (private, with members)."""

    title = "visibility"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return (("public", "public"), ("private", "private"), ("shared", "shared"))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "public":
            return queryset.filter(is_public=True)
        if value == "private":
            return queryset.filter(~has_members(), is_public=False)
        if value == "shared":
            return queryset.filter(has_members(), is_public=False)
        return queryset


class OsTypeFilter(admin.SimpleListFilter):
    """The `__os_type` property; its values are IMS's fixed set, so nothing is counted."""

    title = "OS type"
    parameter_name = "os_type"
    NONE = "none"

    def lookups(self, request, model_admin):
        return (
            *((value, value) for value in WELL_KNOWN_PROPERTIES["__os_type"]),
            (self.NONE, "Not set"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(~os_type_property())
        if value:
            return queryset.filter(os_type_property(value=value))
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    """A box to type a project id in: owners are too many to list as links."""

    title = "owner"
    parameter_name = "owner"
    template = "admin/catalog/image/input_filter.html"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def choices(self, changelist):
        # One entry that carries what the template's little form needs.
        yield {
            "parameter_name": self.parameter_name,
            "value": self.value() or "",
            "kept": [
                (name, value)
                for name, value in changelist.params.items()
                if name != self.parameter_name
            ],
            "clear_query_string": changelist.get_query_string({self.parameter_name: None}),
        }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(owner=value) if value else queryset
