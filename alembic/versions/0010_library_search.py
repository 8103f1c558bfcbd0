"""library full-text search: turns of anonymised transcripts (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06

The rows are filled by the application, not here: existing approved transcripts are sealed, and a migration holds
no keys. At start the app indexes every approved transcript the index doesn't hold yet
(service/library/service.index_missing), which is every one the first time.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'library_search_documents',
        sa.Column('recording_id', sa.String(length=32), nullable=False),
        sa.Column('document', sa.String(length=64), nullable=False),
        sa.Column('study', sa.String(length=64), nullable=False),
        sa.Column('cohort', sa.String(length=16), nullable=False),
        sa.Column('interview_month', sa.String(length=7), nullable=False),
        sa.Column('turns', sa.Integer(), nullable=False),
        sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('recording_id'),
    )
    with op.batch_alter_table('library_search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_search_documents_study'), ['study'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_search_documents_cohort'), ['cohort'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_search_documents_interview_month'), ['interview_month'],
                              unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        # `terms` holds the index's own tokens (service/library/query.tokens), already folded: the tokenizer only
        # splits on the spaces between them. Everything else is stored, not indexed.
        op.execute(
            "CREATE VIRTUAL TABLE library_search USING fts5("
            "terms, recording_id UNINDEXED, turn UNINDEXED, speaker UNINDEXED, role UNINDEXED, "
            "start_s UNINDEXED, end_s UNINDEXED, text UNINDEXED, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
    else:
        op.create_table(
            'library_search',
            sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
            sa.Column('recording_id', sa.String(length=32), nullable=False),
            sa.Column('turn', sa.Integer(), nullable=False),
            sa.Column('speaker', sa.String(length=64), nullable=False),
            sa.Column('role', sa.String(length=64), nullable=False),
            sa.Column('start_s', sa.Float(), nullable=False),
            sa.Column('end_s', sa.Float(), nullable=False),
            sa.Column('text', sa.Text(), nullable=False),
            sa.Column('terms', postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id'),
        )
        op.create_index('ix_library_search_recording_id', 'library_search', ['recording_id'])
        op.create_index('ix_library_search_terms', 'library_search', ['terms'], postgresql_using='gin')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE library_search")
    else:
        op.drop_index('ix_library_search_terms', table_name='library_search')
        op.drop_index('ix_library_search_recording_id', table_name='library_search')
        op.drop_table('library_search')
    with op.batch_alter_table('library_search_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_search_documents_interview_month'))
        batch_op.drop_index(batch_op.f('ix_library_search_documents_cohort'))
        batch_op.drop_index(batch_op.f('ix_library_search_documents_study'))
    op.drop_table('library_search_documents')
