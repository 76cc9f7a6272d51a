"""The targets slide of the review pack: every target of the account against the pack's range
(the same evaluation as the dashboard and ``python -m whatfix_data alerts``)."""

from __future__ import annotations

import logging

from whatfix_data import targets as target_model
from whatfix_data.errors import WhatfixError
from whatfix_data.review_pack.model import TableItem

SECTION = "Targets"
LOGGER = logging.getLogger("whatfix_data.review_pack")


def targets_takeaway(evaluations: list[target_model.Evaluation]) -> str:
    """E.g. "2 of 5 target checks breached: Completion rate at least 60.0 % (41.2 %)"."""
    broken = target_model.breaches(evaluations)
    if not broken:
        checks = "1 check" if len(evaluations) == 1 else f"{len(evaluations)} checks"
        return f"Every target is met ({checks})."
    first = broken[0]
    return (f"{len(broken)} of {len(evaluations)} target checks breached, e.g. "
            f"{first.target.label} for {first.target.applies_to}: {first.value_label} in "
            f"{first.period}.")


def targets_table(evaluations: list[target_model.Evaluation]) -> TableItem | None:
    """The targets table (breaches first), or None when the account has no target."""
    if not evaluations:
        return None
    ordered = sorted(evaluations, key=lambda e: (not e.breached, e.target.key, e.period_start))
    return TableItem(SECTION, "Targets", target_model.evaluation_frame(ordered), "targets",
                     targets_takeaway(ordered))


def account_evaluations(client, date_range) -> list[target_model.Evaluation]:
    """The account's stored targets evaluated over the range (empty when none is set, or when
    the store cannot be opened: a pack never fails for want of its targets slide)."""
    try:
        targets = target_model.TargetStore(client.settings).targets()
    except WhatfixError:
        LOGGER.warning("The targets store could not be read; the pack has no targets slide.")
        return []
    return target_model.load_and_evaluate(client, targets, date_range) if targets else []
