"""Text typed by users, as the speech engines and every database can take it.

A NUL or another control character cannot be pronounced, and PostgreSQL refuses NUL in text and JSON columns, so
such text is refused at the door with a validation error rather than failing a job (or a query) later. Tabs and
line breaks are ordinary text. Surrounding whitespace is dropped before length limits apply, so a name of three
spaces is as empty as no name.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _without_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters (tabs and line breaks are fine)")
    return value


PlainText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_without_control_characters)]
