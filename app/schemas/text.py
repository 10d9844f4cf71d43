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

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""C0 and C1 controls and DEL; tab, line feed and carriage return are text."""


def _without_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters (tabs and line breaks are fine)")
    return value


NO_CONTROL_CHARACTERS = AfterValidator(_without_control_characters)


def _one_line(value: str) -> str:
    return " ".join(value.split())


ONE_LINE = AfterValidator(_one_line)
"""Names are shown as one line (speaker labels in subtitles, RTTM): runs of whitespace become one space."""
VoiceName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NO_CONTROL_CHARACTERS, ONE_LINE
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), NO_CONTROL_CHARACTERS]


def _something_to_say(value: str) -> str:
    if not any(character.isalnum() for character in value):
        raise ValueError("must contain something to speak (letters or digits), not only punctuation or symbols")
    return value


SpokenText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    NO_CONTROL_CHARACTERS,
    AfterValidator(_something_to_say),
]
"""What a clone says; the service still checks the length it counts after its own clean-up. Text of punctuation
alone would come back as a silent file."""
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), NO_CONTROL_CHARACTERS, ONE_LINE]
LanguageCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
"""A language as users name it ("en", "pt-BR"); longer values are refused before any lookup would echo them
back in an error."""
