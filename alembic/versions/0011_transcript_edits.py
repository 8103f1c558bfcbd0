"""transcript edits: sealed versions of a reviewer's corrections; a revision counter on the library entry

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'transcript_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recording_id', sa.String(length=32), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('base', sa.Boolean(), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('recording_id', 'number'),
    )
    with op.batch_alter_table('transcript_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_versions_recording_id'), ['recording_id'], unique=False)
    with op.batch_alter_table('anonymised_transcripts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('anonymised_transcripts', schema=None) as batch_op:
        batch_op.drop_column('revision')
    with op.batch_alter_table('transcript_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_versions_recording_id'))
    op.drop_table('transcript_versions')
