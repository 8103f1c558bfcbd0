"""A corpus ZIP: one folder per cohort, the chosen formats per transcript, and a manifest (CSV and JSON).

Member names are built only from the document id (participant pseudonym + short recording id) and the cohort:
no participant code, no date, no name. The archive is built in memory: anonymised text is never written to disk.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

from service.library.exports import FORMATS, Options, render

# Fixed member times: the archive says nothing about when it was made, and equal inputs give equal bytes.
EPOCH = (1980, 1, 1, 0, 0, 0)
MANIFEST_COLUMNS = ("document", "participant", "cohort", "interview_month", "speakers", "duration_s", "segments",
                    "words", "files")


def add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def manifest_row(document: dict[str, Any], files: list[str], code: str | None) -> dict[str, Any]:
    row = {
        "document": document["document"],
        "participant": document["participant"],
        "cohort": document["cohort"],
        "interview_month": document["interview_month"],
        "speakers": "; ".join(document.get("speaker_labels") or []),
        "duration_s": round(float(document.get("duration") or 0.0), 3),
        "segments": len(document["segments"]),
        "words": sum(len(s.get("words", [])) for s in document["segments"]),
        "files": "; ".join(files),
    }
    if code is not None:
        row["participant_code"] = code
    return row


def build_zip(documents: Sequence[dict[str, Any]], *, include: Sequence[str], options: Options,
              about: dict[str, Any], participant_codes: dict[str, str] | None = None) -> bytes:
    """`participant_codes` (recording id -> code) only when the admin allows codes: they go into the manifest."""
    buf = io.BytesIO()
    rows = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            files = []
            for fmt in include:
                name = f"{document['cohort']}/{document['document']}.{FORMATS[fmt].extension}"
                add(archive, name, render(document, fmt, options))
                files.append(name)
            rows.append(manifest_row(document, files, (participant_codes or {}).get(document["id"])))
        columns = list(MANIFEST_COLUMNS) + (["participant_code"] if any("participant_code" in r for r in rows) else [])
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        add(archive, "manifest.csv", out.getvalue().encode("utf-8-sig"))
        add(archive, "manifest.json", json.dumps({**about, "transcripts": rows}, ensure_ascii=False,
                                                 indent=2).encode())
    return buf.getvalue()
