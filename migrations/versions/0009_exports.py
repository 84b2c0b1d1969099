"""The export log: who took what out of Minka, when

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 15:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'export_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('user_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('product', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_export_log_user_id_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log')),
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_log_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_log_created_at'))
    op.drop_table('export_log')
