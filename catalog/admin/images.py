"""The image pages: the change list and the change form (deleting.py: soft delete and
restore; actions.py: the bulk actions; importing.py: the import page).

Every write goes through catalog.services; the admin decides what to ask for and records it
in the image's history (Django's LogEntry) in words.
"""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Field, OuterRef, Q, Subquery
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html

from ..changes import EDITABLE_FIELDS, EMPTY_STATE, describe_changes, image_state
from ..forms import (
    ImageForm,
    MemberForm,
    MemberFormSet,
    PropertyForm,
    PropertyFormSet,
)
from ..models import Image, ImageMember, ImageProperty
from ..services import ImageChangedError, image_create, image_update
from ..vocabulary import WELL_KNOWN_PROPERTIES, is_checksum
from . import importing, overview
from .actions import BulkActionsMixin
from .deleting import SoftDeleteMixin
from .display import compact_time, human_size, short_project, two_lines
from .filters import (
    DeletedFilter,
    OsTypeFilter,
    OwnerFilter,
    ValueChoicesFilter,
    VisibilityFilter,
    has_members,
)
from .paging import UncountedChangeList


class ImagePartInline(admin.TabularInline):
    """Properties and members are part of the image: whoever may edit it may edit them."""

    extra = 0

    def _may_edit(self, request, obj):
        action = "add" if obj is None else "change"
        return request.user.has_perm(f"catalog.{action}_image")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("catalog.view_image") or self._may_edit(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request, obj)


class PropertyInline(ImagePartInline):
    model = ImageProperty
    form = PropertyForm
    formset = PropertyFormSet
    fields = ("key", "value")
    verbose_name = "property"
    verbose_name_plural = "properties"


class MemberInline(ImagePartInline):
    model = ImageMember
    form = MemberForm
    formset = MemberFormSet
    fields = ("member_id", "status", "can_share")
    verbose_name = "member"
    verbose_name_plural = "members (projects the image is shared with)"


@admin.register(Image)
class ImageAdmin(SoftDeleteMixin, BulkActionsMixin, admin.ModelAdmin):
    form = ImageForm
    inlines = (PropertyInline, MemberInline)

    list_display = (
        "name_display",
        "short_id",
        "status_value",
        "formats",
        "size_display",
        "visibility",
        "owner_display",
        "protected_display",
        "os_type_display",
        "updated_display",
    )
    list_display_links = ("name_display", "short_id")
    list_filter = (
        ("status", ValueChoicesFilter),
        ("disk_format", ValueChoicesFilter),
        ("container_format", ValueChoicesFilter),
        VisibilityFilter,
        "protected",
        DeletedFilter,
        OsTypeFilter,
        OwnerFilter,
    )
    # What the search box matches; get_search_results spells it out with exact, indexed
    # comparisons (Django's "=" compares case-insensitively, which no index serves).
    search_fields = ("=id", "^name", "name", "=owner", "=checksum")
    search_help_text = (
        "A whole id, owner or checksum finds that image at once; other text finds the "
        "names that contain it (and an owner spelled exactly so)."
    )
    date_hierarchy = "created_at"
    list_per_page = 100
    list_max_show_all = 0  # "show all" of a million rows is never what anyone wants
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facets count every filter choice on every page

    fieldsets = (
        (None, {"fields": ("name", "status", ("is_public", "protected"), "owner")}),
        (
            "Image data",
            {
                "fields": (
                    ("disk_format", "container_format"),
                    ("size", "virtual_size"),
                    "checksum",
                    ("min_ram", "min_disk"),
                )
            },
        ),
        ("Record", {"fields": ("id", ("created_at", "updated_at"), ("deleted", "deleted_at"))}),
    )
    readonly_fields = ("id", "created_at", "updated_at", "deleted", "deleted_at")
    actions = (
        "make_public",
        "make_private",
        "mark_active",
        "soft_delete_selected",
        "restore_selected",
        "export_selected",
    )

    # -- the change list ----------------------------------------------------------------

    def get_changelist(self, request, **kwargs):
        return UncountedChangeList

    def get_queryset(self, request):
        # The change list shows these for every row; as subqueries of the page's one query
        # they cost nothing per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                os_type=Subquery(
                    ImageProperty.objects.filter(image=OuterRef("pk"), key="__os_type").values(
                        "value"
                    )[:1]
                ),
                has_members=has_members(),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            image_id = uuid.UUID(term)
        except ValueError:
            image_id = None
        if image_id is not None and len(term) == 36:  # a UUID as ids are written: no name
            return queryset.filter(pk=image_id), False
        if is_checksum(term.lower()):
            # 32 hex digits: an id without hyphens, a checksum or an owner (a project id).
            # Asked as one OR, the database would scan every row; each alone is an index lookup.
            for condition in (Q(pk=image_id), Q(checksum=term.lower())):
                if Image.objects.filter(condition).exists():
                    return queryset.filter(condition), False
            return queryset.filter(owner=term), False
        return queryset.filter(Q(owner=term) | Q(name__icontains=term)), False

    @admin.display(description="name", ordering="name")
    def name_display(self, image):
        return two_lines(image.name)

    @admin.display(description="id")
    def short_id(self, image):
        return format_html(
            '<span class="catalog-id" title="{}">{}</span>', image.pk, str(image.pk)[:8]
        )

    # Values as the API and IMS spell them (qcow2, pending_delete), not as labels (Qcow2).
    @admin.display(description="status", ordering="status")
    def status_value(self, image):
        # pending_delete may break after its underscore rather than widen the column.
        head, underscore, tail = image.status.partition("_")
        return format_html("{}{}<wbr>{}", head, underscore, tail)

    # One column for the pair, disk format above container format (qcow2 over bare): the two
    # are read together, and two narrow values share the width of the wider.
    @admin.display(description="disk / container", ordering="disk_format")
    def formats(self, image):
        return format_html(
            '{}<br><span class="quiet">{}</span>',
            image.disk_format or "-",
            image.container_format or "-",
        )

    @admin.display(description="size", ordering="size")
    def size_display(self, image):
        return human_size(image.size)

    @admin.display(description="visibility")
    def visibility(self, image):
        if image.is_public:
            return "public"
        return "shared" if image.has_members else "private"

    @admin.display(description="owner", ordering="owner")
    def owner_display(self, image):
        return short_project(image.owner, filter_url=f"?{OwnerFilter.parameter_name}=")

    # A soft hyphen: the header may break as PRO-TECTED instead of widening its column of icons.
    @admin.display(description="pro\u00adtected", boolean=True, ordering="protected")
    def protected_display(self, image):
        return image.protected

    @admin.display(description="OS type")
    def os_type_display(self, image):
        return image.os_type

    @admin.display(description="updated", ordering="updated_at")
    def updated_display(self, image):
        return compact_time(image.updated_at)

    # -- the change form ----------------------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request)
        if request.method == "POST":
            # The request is about to write: lock the row, so that the version the form is
            # checked against cannot move before the write. (SQLite's immediate transactions
            # serialise writers by themselves.)
            queryset = queryset.select_for_update(of=("self",))
        field = Image._meta.pk if from_field is None else Image._meta.get_field(from_field)
        assert isinstance(field, Field)  # a column of the image, not a relation
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (Image.DoesNotExist, ValidationError, ValueError):
            return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "well_known_properties": WELL_KNOWN_PROPERTIES.items(),
        }
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ImageChangedError:
            # The form's own check makes this rare: another write came between it and ours.
            self.message_user(
                request,
                "Someone else changed this image at the same moment, so your changes were not "
                "saved. Here is the image as it is now.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        # Nothing is written yet: save_related writes the image together with its properties
        # and members, in one service call, once the inline forms are known.
        pass

    def save_related(self, request, form, formsets, change):
        image = form.instance
        properties = members = None
        for formset in formsets:
            if isinstance(formset, PropertyFormSet):
                properties = formset.properties()
            elif isinstance(formset, MemberFormSet):
                members = formset.members()
        if not change:
            self._create(form, image, properties or {}, members or [])
            return

        before = image_state(Image.objects.get(pk=image.pk))
        after = image_state(
            image,
            properties=before["properties"] if properties is None else properties,
            members=image.members.all() if members is None else members,
        )
        lines = describe_changes(before, after)
        form.history_message = "; ".join(lines)
        if not lines:
            return  # nothing changed: no write, so updated_at and the version stay
        changed_fields = {
            name: value
            for name, value in after["fields"].items()
            if value != before["fields"][name]
        }
        image_update(
            image=image,
            fields=changed_fields,
            properties=properties if after["properties"] != before["properties"] else None,
            members=members if after["members"] != before["members"] else None,
            expected_version=form.cleaned_data["loaded_version"],
        )

    def _create(self, form, image, properties, members):
        fields = {name: getattr(image, name) for name in EDITABLE_FIELDS}
        created = image_create(fields=fields, properties=properties, members=members)
        # The admin goes on with `image` (history, the redirect): give it what was stored.
        image.pk, image.created_at, image.updated_at = (
            created.pk,
            created.created_at,
            created.updated_at,
        )
        image._state.adding = False
        after = image_state(created, properties=properties, members=members)
        form.history_message = "Created: " + "; ".join(describe_changes(EMPTY_STATE, after))

    def construct_change_message(self, request, form, formsets, add=False):
        return getattr(form, "history_message", "")

    def import_view(self, request):
        return importing.import_view(self, request)

    def overview_view(self, request):
        return overview.overview_view(self, request)

    def get_urls(self):
        import_page = self.admin_site.admin_view(self.import_view)
        overview_page = self.admin_site.admin_view(self.overview_view)
        return [
            path("import/", import_page, name="catalog_image_import"),
            path("overview/", overview_page, name="catalog_image_overview"),
            *super().get_urls(),
        ]
