"""What downloaded outputs are called, whichever route hands out the link ), and how the name travels."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from app.api.presenters import download_name
from app.models.job import Job
from app.storage import attachment_disposition


@pytest.mark.parametrize(
    ("uploaded", "expected"),
    [
        ('日本語 "quote";.flac', '日本語 "quote";.transcript.txt'),
        ("C:\\Users\\me\\board meeting.mp3", "board meeting.transcript.txt"),
        ("../../etc/passwd", "passwd.transcript.txt"),
        (None, "job-7.transcript.txt"),
        ("   .flac", "job-7.transcript.txt"),
        (".bashrc", "bashrc.transcript.txt"),  # never a hidden file
        ("...", "job-7.transcript.txt"),
    ],
)
def test_outputs_are_named_after_the_uploaded_file(uploaded: str | None, expected: str) -> None:
    assert download_name(Job(id=7, input_filename=uploaded), "transcript.txt") == expected


def test_any_name_travels_in_the_content_disposition() -> None:
    name = '日本語 "quote";\\.transcript.txt'
    disposition = attachment_disposition(name)

    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback and "\\" not in fallback
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name
