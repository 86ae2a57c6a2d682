"""The catalog file: the legacy listing envelope plus optional `members`
(docs/operations.md#catalog-file-format).

Reading is strict: a wrong type is an error, never a silent conversion, and every error names
the entry's position (1-based), its id and the field. Checking a file (check_catalog, the
admin's preview) collects every error; reading it (read_catalog, the commands) raises them.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, BinaryIO, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from .models import MAX_INT32, MAX_INT64, Image, ImageMember
from .timestamps import TimestampError, format_timestamp, parse_timestamp
from .validators import control_character_problem
from .vocabulary import CHECKSUM_PATTERN, LISTING_KEYS


class CatalogFileError(ValueError):
    """The file cannot be imported. The message is its first problem, in one line, saying
    where and why; `errors` holds every problem, in the file's order."""

    def __init__(self, errors: Sequence[str]):
        super().__init__(errors[0])
        self.errors = list(errors)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a time string such as 2016-05-22T06:04:20.425843")
    try:
        return parse_timestamp(value)
    except TimestampError as error:
        raise ValueError(str(error)) from None


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"not a UUID: {value!r}") from None


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
ImageId = Annotated[uuid.UUID, BeforeValidator(_uuid)]


def _storable(value: str) -> str:
    # validators.py: no control characters but tab, line feed and carriage return.
    problem = control_character_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Storable = AfterValidator(_storable)
Text = Annotated[StrictStr, Storable]
Text255 = Annotated[StrictStr, Field(max_length=255), Storable]
Size = Annotated[StrictInt, Field(ge=0, le=MAX_INT64)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT32)]
PropertyKey = Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]


class CatalogMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]
    can_share: StrictBool = False
    # A Literal of the model's choices: pydantic builds it at run time, mypy cannot read it.
    status: Literal[tuple(ImageMember.Status.values)] = ImageMember.Status.PENDING.value  # type: ignore[valid-type]


class CatalogEntry(BaseModel):
    """One image of a catalog file, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ImageId | None = None
    name: Text255 | None = None
    # Literals of the model's choices: pydantic builds them at run time, mypy cannot read them.
    status: Literal[tuple(Image.Status.values)] = Image.Status.QUEUED.value  # type: ignore[valid-type]
    container_format: Literal[tuple(Image.ContainerFormat.values)] | None = None  # type: ignore[valid-type]
    disk_format: Literal[tuple(Image.DiskFormat.values)] | None = None  # type: ignore[valid-type]
    size: Size | None = None
    virtual_size: Size | None = None
    checksum: Annotated[StrictStr, Field(pattern=CHECKSUM_PATTERN)] | None = None
    min_ram: Count = 0
    min_disk: Count = 0
    is_public: StrictBool = False
    protected: StrictBool = False
    owner: Text255 | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    deleted: StrictBool = False
    deleted_at: Timestamp | None = None
    properties: dict[PropertyKey, Text] = Field(default_factory=dict)
    members: list[CatalogMember] = Field(default_factory=list)

    @model_validator(mode="after")
    def _deleted_at_only_when_deleted(self):
        if self.deleted_at is not None and not self.deleted:
            raise ValueError("deleted_at: set, but deleted is false")
        member_ids = [member.member_id for member in self.members]
        if len(member_ids) != len(set(member_ids)):
            raise ValueError("members: a project is listed twice")
        return self

    def image_fields(self, *, now: datetime) -> dict[str, Any]:
        """The Image column values this entry stands for, defaults filled in."""
        created_at = self.created_at or now
        updated_at = self.updated_at or now
        deleted_at = self.deleted_at
        if self.deleted and deleted_at is None:
            deleted_at = updated_at
        fields = {key: getattr(self, key) for key in LISTING_KEYS if key != "properties"}
        fields.update(
            id=self.id or uuid.uuid4(),
            created_at=created_at,
            updated_at=updated_at,
            deleted_at=deleted_at,
        )
        return fields


def _shown(part: str) -> str:
    """A part of a field's path as the one-line message shows it: a property key that holds
    a line break or a control character is quoted with escapes (it must not break the line or
    drive the terminal), and an empty key reads ''."""
    return part if part and part.isprintable() else repr(part)


def _describe(error: ValidationError, position: int, raw: Any) -> str:
    return _describe_problem(error.errors()[0], position, raw)


def _describe_problem(problem: Any, position: int, raw: Any) -> str:
    """One of pydantic's problems with an entry, in the one-line form the commands print."""
    # ("properties", "", "[key]") reads as properties.'' : the key itself is at fault.
    parts = [part for part in problem["loc"] if part != "[key]"]
    field = ".".join(_shown(str(part)) for part in parts) or "entry"
    message = problem["msg"]
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
        # A model-level check names its field at the start of its own message.
        if field == "entry" and ": " in message:
            field, message = message.split(": ", 1)
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    return f"entry {position} (id {_shown(str(raw_id)) if raw_id else 'none'}): {field}: {message}"


def entry_for_export(image: Image) -> dict[str, Any]:
    """One image as a catalog file entry: the listing's 18 keys plus `members`.

    Unlike the listing, a deleted image keeps its properties here, so that an export
    imported into an empty database gives the same catalog.
    """
    entry = {
        "id": str(image.id),
        **{key: getattr(image, key) for key in LISTING_KEYS[1:13]},
        "created_at": format_timestamp(image.created_at),
        "updated_at": format_timestamp(image.updated_at),
        "deleted": image.deleted,
        "deleted_at": format_timestamp(image.deleted_at),
        "properties": {prop.key: prop.value for prop in image.properties.all()},
    }
    members = [
        {"member_id": m.member_id, "can_share": m.can_share, "status": m.status}
        for m in image.members.all()
    ]
    if members:
        entry["members"] = members
    return entry


def write_catalog(images: Iterable[Image], write: Callable[[str], Any]) -> int:
    """Write images as a catalog file, one entry per line; returns how many were written."""
    count = 0
    write('{"images": [')
    for count, image in enumerate(images, start=1):
        write("\n" if count == 1 else ",\n")
        write(orjson.dumps(entry_for_export(image)).decode())
    write("\n]}\n" if count else "]}\n")
    return count


def check_entries(raw_entries: Iterable[Any]) -> tuple[list[CatalogEntry], list[str]]:
    """Validate every entry, going on after a bad one.

    Returns the valid entries and every error (each naming its entry's position), so that a
    preview can show all that is wrong with a file at once.
    """
    entries, errors = [], []
    seen_ids: dict[Any, int] = {}
    for position, raw in enumerate(raw_entries, start=1):
        try:
            entry = CatalogEntry.model_validate(raw)
        except ValidationError as error:
            # Every field's problem, not only the first: a preview shows all there is to fix.
            errors += [_describe_problem(problem, position, raw) for problem in error.errors()]
            continue
        if entry.id is not None:
            if entry.id in seen_ids:
                errors.append(
                    f"entry {position} (id {entry.id}): id: "
                    f"the same id as entry {seen_ids[entry.id]}"
                )
                continue
            seen_ids[entry.id] = position
        entries.append(entry)
    return entries, errors


def check_catalog(data: bytes) -> tuple[list[CatalogEntry], list[str]]:
    """Read a whole catalog file: its valid entries, and every error instead of the first."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        return [], [f"not a JSON document: {error}"]
    if not isinstance(document, dict) or not isinstance(document.get("images"), list):
        return [], ['not a catalog file: expected {"images": [...]} at the top']
    extra = set(document) - {"images"}
    if extra:
        return [], [f"not a catalog file: unexpected top-level key {sorted(extra)[0]!r}"]
    return check_entries(document["images"])


def read_catalog(stream: BinaryIO) -> list[CatalogEntry]:
    """Read and validate a whole catalog file; CatalogFileError if anything is wrong with it,
    since a file is imported whole or not at all."""
    entries, errors = check_catalog(stream.read())
    if errors:
        raise CatalogFileError(errors)
    return entries
