"""How many workers a backend should have, from its load: the HPA rule, sans IO.

The load is the calls in flight plus the calls waiting. Like the Kubernetes
Horizontal Pod Autoscaler: the wanted count is ceil(load / target per
worker), left alone inside a tolerance band around the current count, kept
within [minimum, maximum]; a rise takes effect at once (a burst must not
wait), a fall only once it has held for the whole stabilisation window
(the largest recommendation in the window wins), so that the pool does not
flap. Time comes in as an argument: the rule is a pure function of what it
is told, and tests drive it with numbers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Autoscaler:
    minimum: int
    maximum: int
    scale_down_after: float = 300.0  # seconds: the stabilisation window for a fall
    target_per_worker: float = 1.0  # calls one worker should carry (GAP: one at a time)
    tolerance: float = 0.1  # no change while load / capacity is within 1 +- tolerance
    _history: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.minimum <= self.maximum or self.maximum < 1:
            raise ValueError(
                f"need 0 <= minimum <= maximum and maximum >= 1, got {self.minimum}..{self.maximum}"
            )

    def desired(self, load: int, current: int, now: float) -> int:
        """The worker count to aim for, given ``load`` calls and ``current`` workers."""
        recommendation = self._recommend(load, current)
        history = self._history
        if not history:
            history.append((now, current))  # the count it started with counts as a wish
        history.append((now, recommendation))
        while history and history[0][0] < now - self.scale_down_after:
            history.popleft()
        if recommendation >= current:
            return recommendation
        return max(r for _, r in history)  # fall only as far as the whole window agrees

    def _recommend(self, load: int, current: int) -> int:
        if current and abs(load / (current * self.target_per_worker) - 1) <= self.tolerance:
            wanted = current
        else:
            wanted = math.ceil(load / self.target_per_worker)
        return min(self.maximum, max(self.minimum, wanted))
