"""The catalog file: the legacy listing envelope plus optional `members`
(docs/operations.md#catalog-file-format).

Reading is strict: a wrong type is an error, never a silent conversion, and every error names
the entry's position (1-based), its id and the field. A file is read as a stream, one entry at
a time (`read_entries`), so its size does not matter; every problem is noted in a `Problems`
and reading goes on after one, so that a file's problems are reported all at once. Checking
a file held in memory (check_catalog, the admin's preview) returns every error; reading it
whole (read_catalog) raises them.
"""

import io
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Annotated, Any, BinaryIO, Literal

import ijson
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

from .models import MAX_INT32, MAX_INT64, Image, ImageMember, columns_from_properties
from .seeding import ImageRow, MemberRow, SeededImage
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

    def bulk_row(self, *, now: datetime) -> SeededImage:
        """This entry as the bulk writers take an image (catalog.bulk_load): its columns, the
        derived ones included, the id as 32 hex digits, a new image's version."""
        fields = self.image_fields(now=now) | columns_from_properties(self.properties)
        row = ImageRow(**fields | {"id": fields["id"].hex}, version=1)
        members = [MemberRow(**member.model_dump()) for member in self.members]
        return SeededImage(row, self.properties, members)


def _shown(part: str) -> str:
    """A part of a field's path as the one-line message shows it: a property key that holds
    a line break or a control character is quoted with escapes (it must not break the line or
    drive the terminal), and an empty key reads ''."""
    return part if part and part.isprintable() else repr(part)


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
    return f"{_entry_named(position, raw)}: {field}: {message}"


def _entry_named(position: int, raw: Any) -> str:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    return f"entry {position} ({f'id {_shown(str(raw_id))}' if raw_id else 'no id'})"


def _entry(image: Any, image_id: str, properties: dict, members: list[dict]) -> dict[str, Any]:
    """A catalog file entry from anything with an image's fields (an Image, a seeded row)."""
    entry = {
        "id": image_id,
        **{key: getattr(image, key) for key in LISTING_KEYS[1:13]},
        "created_at": format_timestamp(image.created_at),
        "updated_at": format_timestamp(image.updated_at),
        "deleted": image.deleted,
        "deleted_at": format_timestamp(image.deleted_at),
        "properties": properties,
    }
    if members:
        entry["members"] = members
    return entry


def entry_for_export(image: Image) -> dict[str, Any]:
    """One image as a catalog file entry: the listing's 18 keys plus `members`.

    Unlike the listing, a deleted image keeps its properties here, so that an export
    imported into an empty database gives the same catalog.
    """
    return _entry(
        image,
        str(image.id),
        {prop.key: prop.value for prop in image.properties.all()},
        [
            {"member_id": m.member_id, "can_share": m.can_share, "status": m.status}
            for m in image.members.all()
        ],
    )


def entry_for_seeded(seeded: SeededImage) -> dict[str, Any]:
    """A generated image as a catalog file entry: a realistic file of any size, without a
    database, for tests and benchmarks of the import."""
    image = seeded.image
    members = [member._asdict() for member in seeded.members]
    return _entry(image, str(uuid.UUID(image.id)), seeded.properties, members)


def write_catalog(
    images: Iterable[Any],
    write: Callable[[str], Any],
    as_entry: Callable[[Any], dict[str, Any]] = entry_for_export,
) -> int:
    """Write images as a catalog file, one entry per line; returns how many were written."""
    count = 0
    write('{"images": [')
    for count, image in enumerate(images, start=1):
        write("\n" if count == 1 else ",\n")
        write(orjson.dumps(as_entry(image)).decode())
    write("\n]}\n" if count else "]}\n")
    return count


# The lines a report shows before it only counts the rest.
PROBLEMS_SHOWN = 100
NOT_A_CATALOG = 'not a catalog file: expected {"images": [...]} at the top'


class Problems:
    """Every problem found in a catalog file, in the file's order: the first `shown` as
    lines, the rest only counted, so that a file with a million bad entries still takes
    little memory to report. `shown=None` keeps every line."""

    def __init__(self, shown: int | None = PROBLEMS_SHOWN):
        self.shown = shown
        self.lines: list[str] = []
        self.count = 0
        self.entries = 0  # how many entries have at least one problem

    def __bool__(self) -> bool:
        return self.count > 0

    def add(self, line: str) -> None:
        self.count += 1
        if self.shown is None or len(self.lines) < self.shown:
            self.lines.append(line)

    def add_entry(self, lines: Iterable[str]) -> None:
        self.entries += 1
        for line in lines:
            self.add(line)

    @property
    def more(self) -> int:
        """The problems found but not kept as lines."""
        return self.count - len(self.lines)

    def report(self) -> list[str]:
        """The lines, then "and N more" if some were only counted."""
        return self.lines + ([f"and {self.more} more"] if self.more else [])


class _Malformed(Exception):
    """The file is not a catalog file: reading it stops here."""


def _checked(events: Iterable[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
    """ijson's parse events, checked for the catalog file's outline as they pass: an object
    whose one key, `images`, holds an array."""
    images = False
    for prefix, event, value in events:
        # Most events are inside an entry (prefix "images.item..."): one comparison each.
        if prefix == "":
            if event == "map_key":
                if value != "images":
                    raise _Malformed(f"not a catalog file: unexpected top-level key {value!r}")
                if images:
                    raise _Malformed("not a catalog file: the key 'images' appears twice")
                images = True
            elif event not in ("start_map", "end_map"):
                raise _Malformed(NOT_A_CATALOG)
        elif prefix == "images" and event not in ("start_array", "end_array"):
            raise _Malformed(NOT_A_CATALOG)
        yield prefix, event, value
    if not images:
        raise _Malformed(NOT_A_CATALOG)


def read_entries(stream: BinaryIO, problems: Problems) -> Iterator[CatalogEntry]:
    """Yield the valid entries of a catalog file as they are read, noting every problem in
    `problems` and going on after a bad entry; the file is not valid if `problems` holds any
    once the entries are exhausted.

    Memory stays small whatever the file's size: one entry at a time, plus each id seen (about
    120 bytes an image) to refuse an id that comes twice.
    """
    seen_ids: dict[int, int] = {}
    position = 0
    # Fractional numbers come as Decimal, which no field takes (ijson's use_float would
    # refuse the whole file at an integer beyond 64 bits instead of the one entry).
    events = _checked(ijson.parse(stream))
    try:
        for position, raw in enumerate(ijson.items(events, "images.item"), start=1):
            try:
                entry = CatalogEntry.model_validate(raw)
            except ValidationError as error:
                # Every field's problem, not only the first: a report shows all there is to fix.
                problems.add_entry(
                    _describe_problem(problem, position, raw) for problem in error.errors()
                )
                continue
            if entry.id is not None:
                first = seen_ids.setdefault(entry.id.int, position)
                if first != position:
                    problems.add_entry(
                        [f"entry {position} (id {entry.id}): id: the same id as entry {first}"]
                    )
                    continue
            yield entry
    except _Malformed as malformed:
        problems.add(str(malformed))
    except ijson.JSONError as error:
        # The parser's message: its first line (the others draw the place in the text).
        where = f" after entry {position}" if position else ""
        problems.add(f"not a JSON document{where}: {str(error).strip().splitlines()[0]}")


def check_catalog(data: bytes) -> tuple[list[CatalogEntry], list[str]]:
    """Read a whole catalog file held in memory: its valid entries, and every error."""
    problems = Problems(shown=None)
    entries = list(read_entries(io.BytesIO(data), problems))
    return entries, problems.lines


def read_catalog(stream: BinaryIO) -> list[CatalogEntry]:
    """Read and validate a whole catalog file; CatalogFileError if anything is wrong with it,
    since a file is imported whole or not at all."""
    entries, errors = check_catalog(stream.read())
    if errors:
        raise CatalogFileError(errors)
    return entries
