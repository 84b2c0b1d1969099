"""SQLModel tables, one module per aggregate. Importing this package registers them all."""

from server.models.answers import DotVote, GapAnswer, PairwiseAnswer, RankingBallot, Receipt
from server.models.base import NAME_MAX, TEXT_MAX, utcnow
from server.models.chain_summary import ChainGapCell, ChainRankCell, ChainStamp
from server.models.export import ExportLog
from server.models.roadmap import (
    FundingSource,
    RoadmapActivityItem,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapIndicator,
    RoadmapItem,
    RoadmapItemActionLine,
    RoadmapItemGap,
    RoadmapMilestone,
    RoadmapPartner,
    RoadmapPhase,
    RoadmapReceipt,
    RoadmapRevision,
    RoadmapSuggestion,
    RoadmapSupport,
    RoadmapWithdrawal,
)
from server.models.stakeholder import StakeholderGroup, WorkArea
from server.models.user import LoginSession, User
from server.models.valuechain import ActionLine, Gap, Segment, ValueChain, ValueChainShare
from server.models.workshop import (
    Activity,
    ActivityItem,
    ActivityStatus,
    Attendance,
    Participant,
    Workshop,
    WorkshopStatus,
)

__all__ = [
    "NAME_MAX",
    "TEXT_MAX",
    "ActionLine",
    "Activity",
    "ActivityItem",
    "ActivityStatus",
    "Attendance",
    "ChainGapCell",
    "ChainRankCell",
    "ChainStamp",
    "DotVote",
    "ExportLog",
    "FundingSource",
    "Gap",
    "GapAnswer",
    "LoginSession",
    "PairwiseAnswer",
    "Participant",
    "RankingBallot",
    "Receipt",
    "RoadmapActivityItem",
    "RoadmapComment",
    "RoadmapCommitment",
    "RoadmapIndicator",
    "RoadmapItem",
    "RoadmapItemActionLine",
    "RoadmapItemGap",
    "RoadmapMilestone",
    "RoadmapPartner",
    "RoadmapPhase",
    "RoadmapReceipt",
    "RoadmapRevision",
    "RoadmapSuggestion",
    "RoadmapSupport",
    "RoadmapWithdrawal",
    "Segment",
    "StakeholderGroup",
    "User",
    "ValueChain",
    "ValueChainShare",
    "WorkArea",
    "Workshop",
    "WorkshopStatus",
    "utcnow",
]
