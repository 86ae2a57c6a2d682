"""An image as staff see it, and how two such pictures differ, in words.

The admin writes these differences into an image's history, and shows them when a save is
refused because someone else changed the image meanwhile.
"""

from typing import Any

from .models import Image

# The image fields staff edit; everything else (id, timestamps, deleted) the services keep.
EDITABLE_FIELDS = (
    "name",
    "status",
    "is_public",
    "protected",
    "owner",
    "disk_format",
    "container_format",
    "size",
    "virtual_size",
    "checksum",
    "min_ram",
    "min_disk",
)

EMPTY_STATE: dict[str, dict[str, Any]] = {"fields": {}, "properties": {}, "members": {}}
# The fields' names on the change form, e.g. "Minimum RAM".
_LABELS = {field.name: str(field.verbose_name) for field in Image._meta.fields}


def image_state(image: Image, *, properties=None, members=None) -> dict:
    """An image as staff see it: its editable fields, properties and members (JSON-able).

    `properties` (a mapping) and `members` (MemberData) default to what the database holds.
    """
    if properties is None:
        properties = image.properties.values_list("key", "value")
    if members is None:
        members = image.members.all()
    return {
        "fields": {name: getattr(image, name) for name in EDITABLE_FIELDS},
        "properties": dict(properties),
        "members": {m.member_id: {"status": m.status, "can_share": m.can_share} for m in members},
    }


def _show(value) -> str:
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)


def _show_member(member: dict) -> str:
    return member["status"] + (", can share" if member["can_share"] else "")


def describe_changes(before: dict, after: dict) -> list[str]:
    """What differs between two image_state()s, one line per change, for people."""
    lines = []
    for name in EDITABLE_FIELDS:
        old, new = before["fields"].get(name), after["fields"].get(name)
        if old != new:
            label = _LABELS[name]
            lines.append(f"{label}: {_show(old)} → {_show(new)}")
    old_props, new_props = before["properties"], after["properties"]
    for key in sorted(old_props.keys() | new_props.keys()):
        if key not in old_props:
            lines.append(f"property {key} added: {_show(new_props[key])}")
        elif key not in new_props:
            lines.append(f"property {key} removed (was {_show(old_props[key])})")
        elif old_props[key] != new_props[key]:
            lines.append(f"property {key}: {_show(old_props[key])} → {_show(new_props[key])}")
    old_members, new_members = before["members"], after["members"]
    for member_id in sorted(old_members.keys() | new_members.keys()):
        if member_id not in old_members:
            lines.append(f"member {member_id} added ({_show_member(new_members[member_id])})")
        elif member_id not in new_members:
            lines.append(f"member {member_id} removed")
        elif old_members[member_id] != new_members[member_id]:
            old, new = old_members[member_id], new_members[member_id]
            lines.append(f"member {member_id}: {_show_member(old)} → {_show_member(new)}")
    return lines


def describe_fields(old: dict, new: dict) -> list[str]:
    """describe_changes() for some fields only, given as {name: value}."""
    return describe_changes({**EMPTY_STATE, "fields": old}, {**EMPTY_STATE, "fields": new})
