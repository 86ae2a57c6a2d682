"""The import page: upload a catalog file, see what it would do, then import it.

The preview validates the whole file and lists every error; the import itself runs the same
service as `import_images` (all or nothing). Between the two, the file waits in a private
temporary folder under a random name; the page carries a signed token naming it, bound to
the user and to the file's SHA-256, and valid for an hour.
"""

import hashlib
import secrets
import tempfile
import time
import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ..catalog_file import check_catalog
from ..database import LOG_ENTRIES_PER_STATEMENT, error_line
from ..forms import CatalogUploadForm
from ..models import Image
from ..services import images_import

WAITING_SECONDS = 60 * 60
MAX_ERRORS_SHOWN = 500
TOKEN_SALT = "catalog.admin.import"


class UploadGone(Exception):
    """The previewed file cannot be used any more; the message says why."""


def waiting_room() -> Path:
    folder = Path(tempfile.gettempdir()) / "ims-catalog-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    # Files whose preview was never confirmed go once their token has expired.
    cutoff = time.time() - WAITING_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


def keep_upload(data: bytes, *, filename: str, user) -> str:
    """Put the file aside until it is confirmed; returns the signed token naming it."""
    folder = waiting_room()
    _sweep(folder)
    name = secrets.token_hex(16)
    (folder / name).write_bytes(data)
    payload = {
        "name": name,
        "user": user.pk,
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": filename,
    }
    return signing.dumps(payload, salt=TOKEN_SALT)


def take_upload(token: str, *, user) -> tuple[bytes, str, Path]:
    """The file a token names, checked; raises UploadGone."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=WAITING_SECONDS)
    except signing.SignatureExpired:
        raise UploadGone("The preview is more than an hour old; upload the file again.") from None
    except signing.BadSignature:
        raise UploadGone("The import form was not valid; upload the file again.") from None
    if payload["user"] != user.pk:
        raise UploadGone("That preview belongs to someone else; upload the file yourself.")
    path = waiting_room() / payload["name"]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UploadGone(
            "The previewed file is gone (imported already, or expired); upload it again."
        ) from None
    if hashlib.sha256(data).hexdigest() != payload["sha256"]:
        raise UploadGone("The previewed file changed on the server; upload it again.")
    return data, payload["filename"], path


def import_entries(request, entries, filename: str):
    """Import through images_import and record each image's part in its history."""
    # Give id-less entries their id here, so that their history can name them.
    entries = [
        entry if entry.id else entry.model_copy(update={"id": uuid.uuid4()}) for entry in entries
    ]
    content_type_id = ContentType.objects.get_for_model(Image).pk
    with transaction.atomic():
        result = images_import(entries=entries, keep_ids=True)
        existing = result.updated_ids
        logs = [
            LogEntry(
                user_id=request.user.pk,
                content_type_id=content_type_id,
                object_id=str(entry.id),
                object_repr=(entry.name or str(entry.id))[:200],
                action_flag=CHANGE if entry.id in existing else ADDITION,
                change_message=(
                    f"Replaced by importing “{filename}”: fields, properties and members "
                    "are now the file's."
                    if entry.id in existing
                    else f"Created by importing “{filename}”."
                ),
            )
            for entry in entries
        ]
        LogEntry.objects.bulk_create(logs, batch_size=LOG_ENTRIES_PER_STATEMENT)
    return result


def import_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    may_import = model_admin.has_add_permission(request) and model_admin.has_change_permission(
        request
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Import a catalog file",
        "opts": model_admin.opts,
        "may_import": may_import,
        "max_errors_shown": MAX_ERRORS_SHOWN,
    }
    here = reverse("admin:catalog_image_import")

    if request.method == "POST" and "token" in request.POST:
        if not may_import:
            raise PermissionDenied
        try:
            data, filename, path = take_upload(request.POST["token"], user=request.user)
        except UploadGone as gone:
            messages.error(request, str(gone))
            return HttpResponseRedirect(here)
        entries, errors = check_catalog(data)
        if errors:  # cannot happen for a file that passed its preview, but never import one
            messages.error(request, f"“{filename}” has errors; nothing was imported.")
            return HttpResponseRedirect(here)
        try:
            result = import_entries(request, entries, filename)
        except DatabaseError as error:
            messages.error(request, f"The database refused the import: {error_line(error)}")
            return HttpResponseRedirect(here)
        path.unlink(missing_ok=True)
        messages.success(
            request,
            f"Imported “{filename}”: {result.created} created, {result.updated} updated.",
        )
        return HttpResponseRedirect(reverse("admin:catalog_image_changelist"))

    if request.method == "POST":
        form = CatalogUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            entries, errors = check_catalog(data)
            counts = images_import(entries=entries, dry_run=True)
            context.update(
                filename=upload.name,
                counts=counts,
                errors=errors[:MAX_ERRORS_SHOWN],
                error_count=len(errors),
                token=(
                    keep_upload(data, filename=upload.name, user=request.user)
                    if may_import and not errors and entries
                    else None
                ),
            )
    else:
        form = CatalogUploadForm()
    context["form"] = form
    return TemplateResponse(request, "admin/catalog/image/import.html", context)
