"""Override reasons: the project's code system of why a clinician dismisses a card.

Every card carries CDS Hooks 2.0 `overrideReasons`, so an EHR's "Dismiss" dialog has something
to send back in feedback. The codes are this project's (`OVERRIDE_SYSTEM`, beside the rule
topic system); their displays are reviewed wording (`cards/wording/overrides.toml`), rendered
in the site profile's language. Each rule declares which codes fit its cards in
`OVERRIDE_REASONS`, beside `HOOKS` and `SOURCES`; `compose.card` gives every card its rule's.

How the lists are chosen: a reason is offered only where a clinician on that card could
truthfully pick it. "Will review later" is never offered by a rule that can fire a critical
card or that cautions about an order being signed now (folate-before-b12, nitrous-oxide,
b12-neuro-untreated, hypokalaemia-on-treatment, maintenance-overdue, paediatric-specialist,
cyanocobalamin-safety, b12-test-uninformative): deferring is not an answer to advice that
applies at this moment, and offering it would make the unsafe choice the easy one. "B12
deficiency excluded" is offered only where deficiency is in doubt, never where the card rests on
a deficient result. "Record incorrect" is offered wherever a card rests on a coded diagnosis,
result or medication that may be wrong, so governance sees data problems apart from
disagreement.
"""

from __future__ import annotations

import sys
from functools import cache

from cards.model import Coding
from cards.settings import Profile
from cards.wording import render


OVERRIDE_SYSTEM = "https://b12-cds.org/fhir/CodeSystem/override-reason"  # a URI this project owns

REASONS = (
    "already-treated-elsewhere",
    "result-not-current",
    "patient-declined",
    "not-clinically-relevant",
    "will-review-later",
    "b12-deficiency-excluded",
    "folic-acid-needed",
    "test-already-arranged",
    "specialist-managing",
    "record-incorrect",
    "order-intended",
    "treatment-choice-deliberate",
)


def display(profile: Profile, code: str) -> str:
    """Return the display of an override reason code in a profile's wording.

    Raises:
        KeyError: the code is not in the project's override-reason code system.
    """
    if code not in REASONS:
        raise KeyError(f"unknown override reason {code!r}")
    return render(profile, f"overrides.reason.{code}")


def coding(profile: Profile, code: str) -> Coding:
    """Return one override reason as a Coding with its display in a profile's wording."""
    return Coding(system=OVERRIDE_SYSTEM, code=code, display=display(profile, code))


def reasons_of(rule_id: str) -> tuple[str, ...]:
    """Return the override reason codes a rule declares (its module's `OVERRIDE_REASONS`).

    Raises:
        KeyError: no such rule module is loaded, or it declares no reasons.
    """
    module = sys.modules.get(f"cards.rules.{rule_id.replace('-', '_')}")
    codes: tuple[str, ...] = tuple(getattr(module, "OVERRIDE_REASONS", ()))
    if not codes:
        raise KeyError(f"rule {rule_id!r} declares no OVERRIDE_REASONS")
    return codes


@cache
def codings(profile: Profile, rule_id: str) -> tuple[Coding, ...]:
    """Return the override reasons of a rule's cards, in the order the rule lists them.

    Rendered once per profile and rule (the wording is fixed at start): every card of every hook
    call carries them, so they are not rendered again for each.
    """
    return tuple(coding(profile, code) for code in reasons_of(rule_id))
