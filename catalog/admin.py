from django.contrib import admin

from .models import ApiToken, Image, ImageMember, ImageProperty


class ImagePropertyInline(admin.TabularInline):
    model = ImageProperty
    extra = 0


class ImageMemberInline(admin.TabularInline):
    model = ImageMember
    extra = 0


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "disk_format", "size", "is_public", "owner", "updated_at")
    list_filter = ("status", "disk_format", "container_format", "is_public", "protected")
    search_fields = ("=id", "^name", "=owner", "=checksum")
    readonly_fields = ("id", "created_at", "updated_at", "deleted_at")
    show_full_result_count = False
    inlines = (ImagePropertyInline, ImageMemberInline)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "roles", "prefix", "created_at", "expires_at", "revoked_at")
