"""DOCX (python-docx): a title, a metadata line, then one paragraph per speaker turn with the speaker in bold.

Word carries metadata of its own (core properties: author, title, comments, dates; python-docx's template says
"python-docx" as author). Every property is overwritten here so the file holds nothing but anonymised content and
a neutral title: the document id.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from service.core.timestamps import stamp
from service.library.exports.text import turns

GREY = RGBColor(0x59, 0x59, 0x59)


def to_docx(document: dict[str, Any], *, timestamps: bool = True, line_numbers: bool = False) -> bytes:
    doc = Document()
    _neutral_properties(doc, title=f"Transcript {document['document']}", language=document.get("language"))
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)

    doc.add_heading(f"Transcript {document['document']}", level=0)
    meta = doc.add_paragraph()
    for i, (name, value) in enumerate(_metadata(document)):
        if i:
            meta.add_run("    ")
        meta.add_run(f"{name}: ").bold = True
        meta.add_run(value)
    doc.add_heading("Interview", level=1)
    for turn in turns(document):
        p = doc.add_paragraph()
        if timestamps:
            run = p.add_run(f"[{stamp(turn.start)}] ")
            run.font.color.rgb = GREY
        if turn.speaker:
            p.add_run(f"{turn.speaker}: ").bold = True
        p.add_run(turn.text)
    if line_numbers:
        _number_lines(doc)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _metadata(document: dict[str, Any]) -> list[tuple[str, str]]:
    speakers = ", ".join(document.get("speaker_labels") or []) or "-"
    return [
        ("Participant", document["participant"]),
        ("Cohort", document["cohort"]),
        ("Interview month", document["interview_month"]),
        ("Speakers", speakers),
        ("Duration", stamp(float(document.get("duration") or 0.0))),
    ]


def _neutral_properties(doc: Any, *, title: str, language: str | None) -> None:
    props = doc.core_properties
    for name in ("author", "last_modified_by", "comments", "subject", "keywords", "category", "content_status",
                 "identifier", "version"):
        setattr(props, name, "")
    props.title = title
    props.language = language or ""
    props.revision = 1
    now = datetime.now(UTC).replace(microsecond=0)
    props.created = now
    props.modified = now


def _number_lines(doc: Any) -> None:
    """Word's own line numbering (restarts never): quotes can be cited by line, and it survives reflowing."""
    for section in doc.sections:
        sect = section._sectPr
        ln = OxmlElement("w:lnNumType")
        ln.set(qn("w:countBy"), "1")
        ln.set(qn("w:restart"), "continuous")
        # Schema order: lnNumType comes before pgNumType, cols and docGrid.
        anchor = next((c for c in sect if c.tag in {qn("w:pgNumType"), qn("w:cols"), qn("w:docGrid")}), None)
        if anchor is not None:
            anchor.addprevious(ln)
        else:
            sect.append(ln)
