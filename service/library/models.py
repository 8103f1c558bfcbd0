from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, UTCDateTime


class SearchDocument(Base):
    """A library entry in the search index: which recordings are indexed (with no turns too), and the metadata
    every hit shows and the filters use. The turns themselves are in `library_search` (an FTS5 virtual table on
    SQLite, a table with a GIN-indexed tsvector on PostgreSQL: see service/library/index.py), which holds
    anonymised text only."""

    __tablename__ = "library_search_documents"

    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[str] = mapped_column(String(64))
    study: Mapped[str] = mapped_column(String(64), index=True)
    cohort: Mapped[str] = mapped_column(String(16), index=True)
    interview_month: Mapped[str] = mapped_column(String(7), index=True)
    turns: Mapped[int] = mapped_column(Integer)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime())
