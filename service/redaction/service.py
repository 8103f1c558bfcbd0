"""The redaction domain's service surface, as other domains, views and tasks call it.

Its rules live in four modules: `review` (detected spans, reviewer decisions), `pseudonyms` (the sealed study map and
its lifecycle), `approval` (the anonymised transcript and what the library reads of it) and `lifecycle` (what the
retention domain asks of redaction). Callers keep one name to import; the modules stay small.
"""

from __future__ import annotations

from service.recordings.models import FINAL_STATES
from service.redaction.approval import Approved, approve, approved_index, load_anonymised, shown_labels
from service.redaction.corrections import edit_segment, merge_segments, split_segment
from service.redaction.corrections import reopen as reopen_review
from service.redaction.corrections import undo as undo_edit
from service.redaction.lifecycle import approval_times, approved_before, delete_for_recording, delete_spans
from service.redaction.pseudonyms import (
    PARTICIPANT_PREFIX,
    forget_recordings,
    idle_study_maps,
    load_study_map,
    participant_ref,
    retire_study_map,
    save_study_map,
    study_map_has_entities,
)
from service.redaction.review import (
    APPROVED,
    CONTEXT_CHARS,
    ReviewError,
    TextNotFound,
    add_span,
    decide,
    list_spans,
    replace_detected,
    review_items,
)

__all__ = [
    "APPROVED",
    "CONTEXT_CHARS",
    "FINAL_STATES",
    "PARTICIPANT_PREFIX",
    "Approved",
    "ReviewError",
    "TextNotFound",
    "add_span",
    "approval_times",
    "approve",
    "approved_before",
    "approved_index",
    "decide",
    "delete_for_recording",
    "delete_spans",
    "edit_segment",
    "forget_recordings",
    "idle_study_maps",
    "list_spans",
    "load_anonymised",
    "load_study_map",
    "merge_segments",
    "participant_ref",
    "reopen_review",
    "replace_detected",
    "retire_study_map",
    "review_items",
    "save_study_map",
    "shown_labels",
    "split_segment",
    "study_map_has_entities",
    "undo_edit",
]
