"""Printable withdrawal receipts: plain text, and a one-page PDF written by hand (no PDF library needed for a page
of monospaced lines). Neither names a person: a receipt id, dates, counts and the audit entry that vouches for it."""

from __future__ import annotations

from service.retention.withdrawal import KINDS, Receipt

TITLE = "Withdrawal receipt"
LABELS = {
    "recordings": "recordings",
    "audio_files": "audio files",
    "raw_transcripts": "unredacted transcripts",
    "transcript_versions": "corrected transcript versions",
    "anonymised_transcripts": "anonymised transcripts",
    "search_index_rows": "search index entries",
    "redaction_spans": "redaction marks",
    "speaker_slots": "speaker labels",
    "slot_voices": "speaker voiceprints",
    "voice_profile_links": "voice profile sources unlinked",
    "attachments": "attached files (Teams, names)",
    "pseudonym_entries": "pseudonym entries",
    "jobs": "processing jobs",
    "export_files": "stored export files",
    "data_keys": "encryption keys destroyed",
}


def lines(receipt: Receipt) -> list[str]:
    out = [
        f"anonscribe - {TITLE}",
        "",
        f"Receipt        {receipt.receipt_id}",
        f"Issued         {receipt.issued_at.strftime('%Y-%m-%d %H:%M UTC')}",
        f"Study          {receipt.study}",
        f"Participant    ref. {receipt.participant_ref} (keyed hash; the code is not kept)",
        "",
    ]
    if receipt.nothing_left:
        out.append("Nothing was left to delete: this participant's data had already been deleted.")
    else:
        out.append("Deleted:")
        out += [f"  {LABELS[k]:<32}{receipt.deleted[k]:>6}" for k in KINDS if k in receipt.deleted]
    out.append("")
    if receipt.override:
        out.append("Withdrawn after the agreed deadline, by an administrator's recorded decision.")
    out += [
        "The audio and transcripts were deleted by destroying their encryption keys and removing the stored",
        "files; backups made before this date expire under the backup rotation.",
        "",
        f"Audit log entry #{receipt.audit_event_id}",
        f"  sha256 {receipt.audit_hash}",
    ]
    return out


def to_text(receipt: Receipt) -> str:
    return "\n".join(lines(receipt)) + "\n"


def _pdf_string(text: str) -> str:
    # PDF literal strings: escape the delimiters; keep to Latin-1, which the standard fonts encode.
    text = text.encode("latin-1", "replace").decode("latin-1")
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def to_pdf(receipt: Receipt) -> bytes:
    """A4, Courier 10 pt, one line per receipt line."""
    body = ["BT", "/F1 10 Tf", "13 TL", "56 786 Td"]
    for line in lines(receipt):
        body.append(f"{_pdf_string(line)} Tj T*")
    body.append("ET")
    content = "\n".join(body).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        # Document properties say what it is and nothing about whom.
        b"<< /Title " + _pdf_string(f"{TITLE} {receipt.receipt_id}").encode("latin-1") + b" /Producer (anonscribe) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
