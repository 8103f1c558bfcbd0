"""REFI-QDA project exchange (.qdpx): a ZIP of `project.qde` (QDA-XML, urn:QDA-XML:project:1.0) and the transcripts
as UTF-8 plain-text sources under `sources/`, which NVivo, ATLAS.ti and MAXQDA import.

- a TextSource per transcript, named by its document id, its text in `sources/<guid>.txt` (REFI-QDA 1.5, 8.3/8.4:
  internal files carry GUID names), with the cohort, interview month and speaker roles as variables;
- a Case per participant pseudonym (two interviews of one participant share it), with cohort and participant role;
- a "Speakers" code folder with one code per role, and every speaker turn a PlainTextSelection coded with its
  speaker's role: the equivalent of auto-coding by speaker, so officers' and victims' turns can be compared.
Selection positions are Unicode code points into the source text, end exclusive.
GUIDs are name-based (UUID5) on the study and recording id: exporting again gives the same GUIDs, so a QDA tool
can recognise a source it already holds. No Users element: the file names nobody.
"""

from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from service.core.timestamps import stamp
from service.library.exports.corpus import add
from service.library.exports.text import txt_with_offsets

NS = "urn:QDA-XML:project:1.0"
_GUID_SPACE = uuid.UUID("6f1f3c1e-9a57-4d0b-b5de-2b8f0e4c7a11")
VARIABLES = ("Cohort", "Interview month", "Speaker roles", "Participant role")


def role_of(label: str) -> str:
    """"Officer 2" -> "Officer": codes and variables are per role, not per numbered voice."""
    return re.sub(r"\s+\d+$", "", label)


def _guid(study: str, *parts: str) -> str:
    return str(uuid.uuid5(_GUID_SPACE, "/".join((study, *parts))))


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)


def _value(parent: ET.Element, variable_guid: str, text: str) -> None:
    vv = _el(parent, "VariableValue")
    _el(vv, "VariableRef", targetGUID=variable_guid)
    _el(vv, "TextValue").text = text


def _roles(document: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(role_of(lab) for lab in document.get("speaker_labels") or []))


def participant_role(document: dict[str, Any]) -> str:
    others = [r for r in _roles(document) if r != "Interviewer"]
    return others[0] if others else "Participant"


def build_qdpx(documents: Sequence[dict[str, Any]], *, study: str, title: str, timestamps: bool = True) -> bytes:
    ET.register_namespace("", NS)
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    project = ET.Element(f"{{{NS}}}Project", {"name": title, "origin": "anonscribe", "creationDateTime": now})

    roles = list(dict.fromkeys(r for d in documents for r in _roles(d)))
    codebook = _el(_el(project, "CodeBook"), "Codes")
    folder = _el(codebook, "Code", guid=_guid(study, "code-folder", "speakers"), name="Speakers", isCodable="false")
    _el(folder, "Description").text = "Speaker turns by role (anonymised transcripts)"
    code_guid = {}
    for role in roles:
        code_guid[role] = _guid(study, "code", role)
        _el(folder, "Code", guid=code_guid[role], name=role, isCodable="true")

    variables = _el(project, "Variables")
    var_guid = {name: _guid(study, "variable", name) for name in VARIABLES}
    for name in VARIABLES:
        _el(variables, "Variable", guid=var_guid[name], name=name, typeOfVariable="Text")

    cases_el = _el(project, "Cases")
    sources_el = _el(project, "Sources")
    files: list[tuple[str, bytes]] = []
    by_participant: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        rid = document["id"]
        source_guid = _guid(study, "source", rid)
        file_name = f"{_guid(study, 'file', rid)}.txt"
        body, spans = txt_with_offsets(document, timestamps=timestamps)
        files.append((f"sources/{file_name}", body.encode("utf-8")))
        source = _el(sources_el, "TextSource", guid=source_guid, name=document["document"],
                     plainTextPath=f"internal://{file_name}", creationDateTime=now)
        _el(source, "Description").text = (
            f"Anonymised interview transcript, {document['cohort']} cohort, {document['interview_month']}"
        )
        for i, (start, end, turn) in enumerate(spans):
            if not turn.speaker:
                continue
            role = role_of(turn.speaker)
            selection = _el(source, "PlainTextSelection", guid=_guid(study, "selection", rid, str(i)),
                            name=f"{turn.speaker} {stamp(turn.start)}", startPosition=str(start),
                            endPosition=str(end))
            coding = _el(selection, "Coding", guid=_guid(study, "coding", rid, str(i)))
            _el(coding, "CodeRef", targetGUID=code_guid[role])
        _value(source, var_guid["Cohort"], document["cohort"])
        _value(source, var_guid["Interview month"], document["interview_month"])
        _value(source, var_guid["Speaker roles"], "; ".join(_roles(document)))
        by_participant.setdefault(document["participant"], []).append(document)

    for participant, docs in sorted(by_participant.items()):
        case = _el(cases_el, "Case", guid=_guid(study, "case", participant), name=participant)
        _value(case, var_guid["Cohort"], docs[0]["cohort"])
        _value(case, var_guid["Participant role"], participant_role(docs[0]))
        for d in docs:
            _el(case, "SourceRef", targetGUID=_guid(study, "source", d["id"]))
    if not roles:
        project.remove(project.find(f"{{{NS}}}CodeBook"))  # type: ignore[arg-type]
    if not by_participant:
        project.remove(cases_el)
        project.remove(sources_el)

    xml = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        add(archive, "project.qde", xml)
        for name, data in files:
            add(archive, name, data)
    return buf.getvalue()
