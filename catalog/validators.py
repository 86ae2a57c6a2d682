"""What stored text may hold: the one rule for names, owners, property keys and values,
member and token projects, wherever they are written (models and so the admin's forms, the
catalog file, the token service).

Stored text goes out in HTTP headers (HEAD sends the metadata as `X-Image-Meta-*`), on
terminals (the commands print it) and in log lines. C0 control characters do harm in each:
servers refuse a header holding `\\x01` and answer 500, `\\x1b` starts a terminal escape
sequence, and PostgreSQL cannot store a NUL at all. DEL (`\\x7f`) is no more text than they are
and is refused with them. Tab, line feed and carriage return are ordinary in a description, so
they stay (HEAD sends them as spaces).
"""

import re

from django.core.exceptions import ValidationError

CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_problem(text: str) -> str | None:
    """Why `text` cannot be stored, in words that follow a field's name; None when it can."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return (
        f"contains the control character U+{ord(found.group()):04X} "
        "(tab, line feed and carriage return are the only ones allowed)"
    )


def validate_text(value: str) -> None:
    """The rule as a Django validator, for model fields (and through them, ModelForms)."""
    problem = control_character_problem(value)
    if problem is not None:
        raise ValidationError(f"This text {problem}.", code="control_character")
