"""Initial schema.

Accounts, reference lists, value chains and their library, workshops. Generated with
autogenerate against an empty SQLite database, then reviewed: indexes are created with
plain ``op.create_index`` (no batch needed for a new table), and the downgrade also drops
the PostgreSQL enum types that ``create_table`` made.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:11:16.087027

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The enum types of the status columns (native ENUM types on PostgreSQL, VARCHAR on SQLite).
ATTENDANCE = sa.Enum("none", "name", "full", name="attendance")
WORKSHOP_STATUS = sa.Enum("draft", "live", "ended", name="workshopstatus")
ACTIVITY_STATUS = sa.Enum("pending", "open", "closed", name="activitystatus")
ENUMS = (ATTENDANCE, WORKSHOP_STATUS, ACTIVITY_STATUS)

# Tables, parents before children.
TABLES = (
    "stakeholder_group",
    "user",
    "work_area",
    "login_session",
    "value_chain",
    "action_line",
    "gap",
    "segment",
    "value_chain_share",
    "workshop",
    "activity",
    "participant",
    "activity_item",
)


def upgrade() -> None:
    op.create_table('stakeholder_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name_es', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder_group')),
    sa.UniqueConstraint('key', name=op.f('uq_stakeholder_group_key'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user'))
    )
    op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=True)
    op.create_table('work_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name_es', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_area')),
    sa.UniqueConstraint('key', name=op.f('uq_work_area_key'))
    )
    op.create_table('login_session',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_login_session'))
    )
    op.create_index(op.f('ix_login_session_user_id'), 'login_session', ['user_id'], unique=False)
    op.create_table('value_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('product', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_value_chain_owner_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_value_chain'))
    )
    op.create_index(op.f('ix_value_chain_owner_id'), 'value_chain', ['owner_id'], unique=False)
    op.create_table('action_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('work_area_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chain.id'], name=op.f('fk_action_line_value_chain_id_value_chain'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_area_id'], ['work_area.id'], name=op.f('fk_action_line_work_area_id_work_area'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_line')),
    sa.UniqueConstraint('value_chain_id', 'key', name=op.f('uq_action_line_value_chain_id_key'))
    )
    op.create_index(op.f('ix_action_line_value_chain_id'), 'action_line', ['value_chain_id'], unique=False)
    op.create_table('gap',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('mechanisms', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chain.id'], name=op.f('fk_gap_value_chain_id_value_chain'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gap')),
    sa.UniqueConstraint('value_chain_id', 'key', name=op.f('uq_gap_value_chain_id_key'))
    )
    op.create_index(op.f('ix_gap_value_chain_id'), 'gap', ['value_chain_id'], unique=False)
    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chain.id'], name=op.f('fk_segment_value_chain_id_value_chain'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment'))
    )
    op.create_index(op.f('ix_segment_value_chain_id'), 'segment', ['value_chain_id'], unique=False)
    op.create_table('value_chain_share',
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_value_chain_share_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chain.id'], name=op.f('fk_value_chain_share_value_chain_id_value_chain'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('value_chain_id', 'user_id', name=op.f('pk_value_chain_share'))
    )
    op.create_index(op.f('ix_value_chain_share_user_id'), 'value_chain_share', ['user_id'], unique=False)
    op.create_table('workshop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('town', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('attendance', ATTENDANCE, nullable=False),
    sa.Column('status', WORKSHOP_STATUS, nullable=False),
    sa.Column('join_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('joining_open', sa.Boolean(), nullable=False),
    sa.Column('current_activity_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_workshop_created_by_user')),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chain.id'], name=op.f('fk_workshop_value_chain_id_value_chain'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop')),
    sa.UniqueConstraint('join_code', name=op.f('uq_workshop_join_code'))
    )
    op.create_index(op.f('ix_workshop_value_chain_id'), 'workshop', ['value_chain_id'], unique=False)
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('status', ACTIVITY_STATUS, nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_activity_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    op.create_index(op.f('ix_activity_workshop_id'), 'activity', ['workshop_id'], unique=False)
    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organization', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('stakeholder_group_id', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_participant_segment_id_segment')),
    sa.ForeignKeyConstraint(['stakeholder_group_id'], ['stakeholder_group.id'], name=op.f('fk_participant_stakeholder_group_id_stakeholder_group')),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_participant_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_participant_token_hash'))
    )
    op.create_index(op.f('ix_participant_segment_id'), 'participant', ['segment_id'], unique=False)
    op.create_index(op.f('ix_participant_workshop_id'), 'participant', ['workshop_id'], unique=False)
    op.create_table('activity_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('gap_id', sa.Integer(), nullable=True),
    sa.Column('action_line_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_line_id'], ['action_line.id'], name=op.f('fk_activity_item_action_line_id_action_line')),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_item_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['gap_id'], ['gap.id'], name=op.f('fk_activity_item_gap_id_gap')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_item')),
    sa.UniqueConstraint('activity_id', 'action_line_id', name=op.f('uq_activity_item_activity_id_action_line_id')),
    sa.UniqueConstraint('activity_id', 'gap_id', name=op.f('uq_activity_item_activity_id_gap_id'))
    )
    op.create_index(op.f('ix_activity_item_action_line_id'), 'activity_item', ['action_line_id'], unique=False)
    op.create_index(op.f('ix_activity_item_activity_id'), 'activity_item', ['activity_id'], unique=False)
    op.create_index(op.f('ix_activity_item_gap_id'), 'activity_item', ['gap_id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints.
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for enum in ENUMS:
            enum.drop(op.get_bind(), checkfirst=True)
