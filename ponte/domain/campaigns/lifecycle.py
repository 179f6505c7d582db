"""A campaign's states and what a person (or the sender) may do in each (no I/O).

    draft --approve--> approved --start--> running <--pause/resume--> paused
      ^                   |                   |                          |
      +------ edit -------+                   +-- (all sent) --> completed
    any state but completed/cancelled --cancel--> cancelled

Nothing goes out before an owner or admin approved exactly the content that was previewed;
editing an approved campaign voids the approval. The audience is frozen at start.
"""

from __future__ import annotations

from enum import StrEnum

from ponte.domain.campaigns.auto_pause import PauseReason


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Command(StrEnum):
    EDIT = "edit"
    PREVIEW = "preview"
    APPROVE = "approve"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    COMPLETE = "complete"  # the sender: nothing left to send
    AUTO_PAUSE = "auto_pause"  # the sender: a pause rule fired


class CampaignStateError(Exception):
    """The command does not apply in this state (409 with ``code``)."""

    def __init__(self, status: CampaignStatus, command: Command) -> None:
        super().__init__(f"a {status.value} campaign cannot {command.value}")
        self.code = f"campaign_{status.value}"
        self.status = status
        self.command = command


S = CampaignStatus
_NEXT: dict[tuple[CampaignStatus, Command], CampaignStatus] = {
    (S.DRAFT, Command.EDIT): S.DRAFT,
    (S.APPROVED, Command.EDIT): S.DRAFT,
    (S.DRAFT, Command.PREVIEW): S.DRAFT,
    (S.APPROVED, Command.PREVIEW): S.APPROVED,
    (S.RUNNING, Command.PREVIEW): S.RUNNING,
    (S.PAUSED, Command.PREVIEW): S.PAUSED,
    (S.DRAFT, Command.APPROVE): S.APPROVED,
    (S.APPROVED, Command.START): S.RUNNING,
    (S.RUNNING, Command.PAUSE): S.PAUSED,
    (S.RUNNING, Command.AUTO_PAUSE): S.PAUSED,
    (S.PAUSED, Command.RESUME): S.RUNNING,
    (S.RUNNING, Command.COMPLETE): S.COMPLETED,
    (S.DRAFT, Command.CANCEL): S.CANCELLED,
    (S.APPROVED, Command.CANCEL): S.CANCELLED,
    (S.RUNNING, Command.CANCEL): S.CANCELLED,
    (S.PAUSED, Command.CANCEL): S.CANCELLED,
}
# States in which recipients may still be sent to once resumed / while running.
ACTIVE = frozenset({S.RUNNING, S.PAUSED})
FINAL = frozenset({S.COMPLETED, S.CANCELLED})


def next_status(status: CampaignStatus, command: Command) -> CampaignStatus:
    found = _NEXT.get((status, command))
    if found is None:
        raise CampaignStateError(status, command)
    return found


def allowed_commands(status: CampaignStatus) -> tuple[Command, ...]:
    """What a person may do now (the UI's buttons); the sender's own commands are left out."""
    internal = {Command.COMPLETE, Command.AUTO_PAUSE}
    return tuple(c for c in Command if (status, c) in _NEXT and c not in internal)


def pause_detail(reason: PauseReason | None) -> str | None:
    return f"{reason.code}: {reason.detail}" if reason else None
