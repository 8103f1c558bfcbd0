"""data lifecycle: retention markers on recordings, erasable object ids in the audit chain

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_warned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('raw_transcript_deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_recordings_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('object_ref', sa.String(length=64), nullable=True))
        # Existing events keep chain version 1 (their hashes cover the clear object id); new ones are version 2.
        batch_op.add_column(sa.Column('chain_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_index(batch_op.f('ix_audit_events_object_ref'), ['object_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)

    # object_ref is outside the version-1 hash, so filling it in changes no hash; it makes old events findable too.
    conn = op.get_bind()
    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('object_id', sa.String),
                      sa.column('object_ref', sa.String))
    rows = conn.execute(sa.select(events.c.id, events.c.object_id).where(events.c.object_id.is_not(None))).all()
    for event_id, object_id in rows:
        conn.execute(events.update().where(events.c.id == event_id)
                     .values(object_ref=hashlib.sha256(object_id.encode()).hexdigest()))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))
        batch_op.drop_index(batch_op.f('ix_audit_events_object_ref'))
        batch_op.drop_column('chain_version')
        batch_op.drop_column('object_ref')

    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_created_at'))
        batch_op.drop_column('raw_transcript_deleted_at')
        batch_op.drop_column('deletion_warned_at')
