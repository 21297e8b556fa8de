"""The interval a B12 request orders, read from its dosage timing (clinical-rules §11.8).

§11.8 (second edition, revising §7.17): when the current B12 request states its own interval
(`timing.repeat` period between 1 and 3 months), `maintenance-overdue` counts the due date from
that interval plus the §7.17 table's grace. A month is 30.44 days rounded up, as the table's own
31, 61 and 92 days are; a period in weeks or days counts when it falls in the same range (4 weeks
to 3 months). A `periodMax` ("every 2-3 months") gives the longest interval the order allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


_DAYS_PER_UNIT = {"mo": 30.44, "wk": 7.0, "d": 1.0}
_SHORTEST_DAYS = 28  # 4 weeks: "monthly" in weeks
_LONGEST_DAYS = math.ceil(3 * _DAYS_PER_UNIT["mo"])  # 92 days, the table's 3 months


def ordered_interval_days(dosages: Sequence[Any]) -> int | None:
    """Return the interval in days that the last dosage row with a 1-3 month period orders.

    Args:
        dosages: the request's `dosageInstruction` models (fhir.resources).

    Returns:
        The interval in whole days, or None when no row states a period of 1 to 3 months (a
        loading phase such as "alternate days" or "weekly" is not a maintenance interval).
    """
    found: int | None = None
    for dosage in dosages:
        repeat = getattr(getattr(dosage, "timing", None), "repeat", None)
        if repeat is None:
            continue
        period = repeat.periodMax or repeat.period
        per_day = _DAYS_PER_UNIT.get(str(repeat.periodUnit or ""))
        frequency = repeat.frequency or 1
        if period is None or per_day is None or frequency < 1:
            continue
        days = math.ceil(float(period) * per_day / frequency - 1e-9)
        if _SHORTEST_DAYS <= days <= _LONGEST_DAYS:
            found = days
    return found
