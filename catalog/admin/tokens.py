"""API tokens: listed, created (the secret shown once), revoked; never edited or deleted.

A token is only ever created by token_create and revoked by token_revoke, so the admin shows
existing tokens read-only. Keeping revoked tokens (instead of deleting them) keeps their
history and the record of who could call the API when.
"""

from datetime import datetime, timedelta

from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..forms import ApiTokenCreateForm
from ..models import ApiToken
from ..tokens import token_create, token_revoke
from .display import compact_time, short_project, two_lines

# The secret of a token just created waits here for the one page that shows it.
NEW_SECRET_SESSION_KEY = "catalog_new_token_secret"


# A token that stops working within this many days is shown as "expires in N days".
EXPIRING_SOON_DAYS = 30


def token_status(token: ApiToken, now: datetime) -> tuple[str, str]:
    """(filter value, words) for what the API does with the token now (api/auth.py's rule)."""
    if token.revoked_at is not None:
        return "revoked", "revoked"
    if token.expires_at is not None:
        left = token.expires_at - now
        if left <= timedelta(0):
            return "expired", "expired"
        if left < timedelta(days=1):
            return "expiring", "expires within a day"
        if left < timedelta(days=EXPIRING_SOON_DAYS):
            # Rounded: a token made to last 10 days says 10 days, not 9 and some hours.
            days = round(left / timedelta(days=1))
            return "expiring", f"expires in {days} day{pluralize(days)}"
    return "active", "active"


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (
            ("active", "Active (the API accepts it)"),
            ("expiring", f"Expires within {EXPIRING_SOON_DAYS} days"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        live = Q(revoked_at__isnull=True)
        if self.value() == "active":
            return queryset.filter(live & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)))
        if self.value() == "expiring":
            soon = now + timedelta(days=EXPIRING_SOON_DAYS)
            return queryset.filter(live, expires_at__gt=now, expires_at__lt=soon)
        if self.value() == "expired":
            return queryset.filter(live, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


TOKEN_COLUMNS = (
    "name",
    "project",
    "roles",
    "secret_prefix",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name_display",
        "status",
        "project_display",
        "roles_display",
        "secret_prefix",
        "created",
        "expires",
        "last_used",
        "revoked",
    )
    list_display_links = ("name_display",)
    list_filter = (StatusFilter, "roles")
    search_fields = ("name", "project", "=prefix")
    actions = ("revoke_selected",)
    add_fieldsets = ((None, {"fields": ("name", "project", "roles", "expires_in_days")}),)
    fieldsets = (
        (None, {"fields": ("name", "project", "roles", "secret_prefix")}),
        ("Life", {"fields": ("created_at", "expires_at", "last_used_at", "revoked_at")}),
    )
    # A token is never edited: once created, everything it shows is read-only.
    readonly_fields = TOKEN_COLUMNS

    @admin.display(description="secret")
    def secret_prefix(self, token):
        # The first characters, by which `revoke_token` finds it too; never the secret.
        return format_html('<span class="catalog-id">{}…</span>', token.prefix)

    # -- the list: compact, so that every column fits (display.py) ----------------------

    @admin.display(description="name", ordering="name")
    def name_display(self, token):
        return two_lines(token.name)

    @admin.display(description="status")
    def status(self, token):
        value, words = token_status(token, timezone.now())
        return format_html('<span class="catalog-token-{}">{}</span>', value, words)

    @admin.display(description="project", ordering="project")
    def project_display(self, token):
        return short_project(token.project, filter_url="?q=")

    @admin.display(description="roles", ordering="roles")
    def roles_display(self, token):
        # A comma followed by a break opportunity: a long role list takes two lines, not room.
        return format_html_join(mark_safe(",<wbr>"), "{}", ((role,) for role in token.role_list))

    @admin.display(description="created", ordering="created_at")
    def created(self, token):
        return compact_time(token.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, token):
        return compact_time(token.expires_at)

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, token):
        return compact_time(token.last_used_at)

    @admin.display(description="revoked", ordering="revoked_at")
    def revoked(self, token):
        return compact_time(token.revoked_at)

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request, obj=None):
        # A token is not edited (revoke it and create another); the change permission is
        # what the revoke action asks for.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        token, secret = token_create(
            project=data["project"],
            roles=data["roles"].split(","),
            name=data["name"] or None,
            expires_in_days=data["expires_in_days"],
        )
        # The admin goes on with `obj` (history, the redirect): make it the stored token.
        obj.__dict__.update(
            {field.attname: getattr(token, field.attname) for field in ApiToken._meta.fields}
        )
        obj._state.adding = False
        request.session[NEW_SECRET_SESSION_KEY] = {"token": token.pk, "secret": secret}

    def construct_change_message(self, request, form, formsets, add=False):
        token = form.instance
        expiry = (
            f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "no expiry"
        )
        return f"Created for project {token.project} with roles {token.roles}; {expiry}."

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            f"Token “{obj}” created. Copy its secret now: this page shows it once, "
            "and it cannot be shown again.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:catalog_apitoken_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        new = request.session.get(NEW_SECRET_SESSION_KEY)
        if new is not None and str(new["token"]) == str(object_id):
            del request.session[NEW_SECRET_SESSION_KEY]
            extra_context["new_secret"] = new["secret"]
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        now = timezone.now()
        revoked = [token_revoke(token=token, now=now) for token in queryset.filter(revoked_at=None)]
        for token in revoked:
            self.log_change(request, token, "Revoked: the API refuses this token from now on.")
        if revoked:
            self.message_user(
                request,
                f"Revoked {len(revoked)} token{'s' if len(revoked) > 1 else ''}; "
                "the API refuses them from now on.",
            )
        else:
            self.message_user(request, "The selected tokens were revoked already.", messages.INFO)
