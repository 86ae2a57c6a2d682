"""API tokens: listed, created (the secret shown once), revoked; never edited or deleted.

A token is only ever created by token_create and revoked by token_revoke, so the admin shows
existing tokens read-only. Keeping revoked tokens (instead of deleting them) keeps their
history and the record of who could call the API when.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from ..forms import ApiTokenCreateForm
from ..models import ApiToken
from ..tokens import token_create, token_revoke

# The secret of a token just created waits here for the one page that shows it.
NEW_SECRET_SESSION_KEY = "catalog_new_token_secret"


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return (("no", "Not revoked"), ("yes", "Revoked"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "yes":
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
    list_display = TOKEN_COLUMNS
    list_filter = (RevokedFilter, "roles")
    search_fields = ("name", "project", "=prefix")
    actions = ("revoke_selected",)
    add_fieldsets = ((None, {"fields": ("name", "project", "roles", "expires_in_days")}),)
    fieldsets = (
        (None, {"fields": ("name", "project", "roles", "secret_prefix")}),
        ("Life", {"fields": ("created_at", "expires_at", "last_used_at", "revoked_at")}),
    )
    # A token is never edited: once created, everything it shows is read-only.
    readonly_fields = TOKEN_COLUMNS

    @admin.display(description="secret starts with")
    def secret_prefix(self, token):
        return f"{token.prefix}…"

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
