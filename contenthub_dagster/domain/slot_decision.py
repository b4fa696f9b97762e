"""Whether an interval task is due: epoch-anchored slots, one run per slot (docs/domain.md §8)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from contenthub_dagster.domain.cadence import interval_slot, slot_start


class SlotVerdict(enum.Enum):
    """What an evaluation found."""

    DUE = "due"
    # No earlier slot on record: remember this one and wait for the next boundary.
    FIRST_EVALUATION = "first_evaluation"
    ALREADY_HANDLED = "already_handled"
    # The slot began before the sensor was (re)started; schedules do not catch up either.
    STARTED_MID_SLOT = "started_mid_slot"


@dataclass(frozen=True)
class SlotDecision:
    """The current slot, the verdict, and when the next slot begins (Unix seconds)."""

    verdict: SlotVerdict
    slot: int
    slot_started_at: float
    next_boundary: float
    last_slot: int | None

    @property
    def due(self) -> bool:
        return self.verdict is SlotVerdict.DUE

    @property
    def missed_slots(self) -> int:
        """Slots that passed unseen between the last recorded one and this one."""
        if self.last_slot is None or self.slot <= self.last_slot:
            return 0
        return self.slot - self.last_slot - 1


def decide_slot(
    now: float, minutes: int, last_slot: int | None, started_at: float | None
) -> SlotDecision:
    """Decide whether the slot ``now`` falls in needs a run.

    ``last_slot`` is the slot recorded by the previous evaluation (None: none, or counted in
    another interval); ``started_at`` is when the sensor was last started (None: unknown). With
    nothing recorded the current slot is only recorded, so a new task first runs at the next
    boundary. A slot is due once, when it is newer than ``last_slot`` and began while the sensor
    was running; several missed slots (the daemon was down) coalesce into one run.
    """
    slot = interval_slot(now, minutes)
    began = slot_start(slot, minutes)
    boundary = slot_start(slot + 1, minutes)
    if last_slot is None:
        verdict = SlotVerdict.FIRST_EVALUATION
    elif slot <= last_slot:
        verdict = SlotVerdict.ALREADY_HANDLED
    elif started_at is not None and began < started_at:
        verdict = SlotVerdict.STARTED_MID_SLOT
    else:
        verdict = SlotVerdict.DUE
    return SlotDecision(verdict, slot, began, boundary, last_slot)
