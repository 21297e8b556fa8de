"""A card being written: one rule's wording bound to the facts, and the card's parts in order.

A rule module decides; `Draft` keeps the bookkeeping out of its way. The rule names messages by
their key inside its own wording file (`evidence.order` for `<rule-id>.evidence.order`), adds
evidence lines, actions, caveats, suggestions and evidence references as its branches decide,
and `card` renders the detail and builds the card the same way for every rule (`compose.card`).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from cards import compose
from cards.compose import Offer
from cards.facts import Facts
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


class Described(Protocol):
    """Anything with a reference and a line of evidence: a finding, a result, an order."""

    @property
    def ref(self) -> str: ...

    def describe(self) -> str: ...


@dataclass(slots=True)
class Draft:
    """The parts of one card, in the order they are shown, and the rule's own wording."""

    facts: Facts
    rule_id: str
    title: str
    evidence: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def say(self, key: str, **values: Any) -> str:
        """Return this rule's message `key` rendered in the site's wording."""
        return say(self.facts, f"{self.rule_id}.{key}", **values)

    def line(self, key: str, **values: Any) -> None:
        """Add the evidence line `evidence.<key>`."""
        self.evidence.append(self.say(f"evidence.{key}", **values))

    def each(self, key: str, items: Iterable[Described], name: str = "finding") -> None:
        """Add the evidence line `evidence.<key>` once per item, its description as `name`."""
        self.evidence += [self.say(f"evidence.{key}", **{name: i.describe()}) for i in items]

    def act(self, *keys: str, **values: Any) -> None:
        """Add the actions `action.<key>`, in order, each rendered with the same values."""
        self.actions += [self.say(f"action.{key}", **values) for key in keys]

    def caveat(self, key: str, **values: Any) -> None:
        """Add the caveat `caveat.<key>`."""
        self.caveats.append(self.say(f"caveat.{key}", **values))

    def treat(self, kind: str, recommended: bool = True, folic_acid_offer: bool = True) -> None:
        """Offer the B12 regimen (`compose.treatment`) and then the folate part (`folate_part`)."""
        self.offers.append(compose.treatment(self.facts, kind, self.refs, recommended))
        self.folate_part(folic_acid_offer)

    def folate_part(self, folic_acid_offer: bool = True) -> None:
        """Add, with a combined B12 and folate deficiency, the folate part of §11.6: the low
        folate as evidence, the folic acid action and (unless `folic_acid_offer` is off) the folic
        acid suggestion, not recommended.

        Only a card that has just offered a B12 regimen calls this, so the folic acid is never
        offered without it; `services.interact` strips both together from a lower card (§7.0).
        """
        folate = compose.folate_lines(self.facts)
        if folate is None:
            return
        self.evidence.append(folate[0])
        self.actions.append(folate[1])
        if self.facts.folate is not None and self.facts.folate.ref:
            self.refs.append(self.facts.folate.ref)
        if folic_acid_offer and not self.facts.is_child:
            self.offers.append(compose.folate_offer(self.facts, self.refs))

    def cite(self, items: Iterable[Described]) -> None:
        """Add the references of findings, results or orders to the card's evidence references."""
        self.refs += [item.ref for item in items if item.ref]

    def card(
        self,
        indicator: Indicator,
        summary: str,
        sources: Sequence[str],
        *,
        refs: Iterable[str] | None = None,
        **values: Any,
    ) -> Card:
        """Return the card: `summary` is this rule's message key (rendered with `values`),
        `sources` the rule's sources for it, best first. The rule only lists them: the card's
        `source` is chosen per profile (the first UK source in uk, US in us; §11.4,
        `compose.card_sources`) and the detail cites them in that order.

        `refs` replaces the collected evidence references for the card's uuid where a branch
        identifies its card by more than its evidence (one card per draft and caution).
        """
        return self.build(indicator, self.say(summary, **values), sources, refs=refs)

    def build(
        self,
        indicator: Indicator,
        summary: str,
        sources: Sequence[str],
        *,
        refs: Iterable[str] | None = None,
    ) -> Card:
        """Return the card with a summary already rendered (a rule that chooses between texts)."""
        return compose.card(
            self.facts,
            self.rule_id,
            self.title,
            indicator,
            summary,
            compose.detail(self.facts, self.evidence, self.actions, self.caveats, sources),
            self.refs if refs is None else refs,
            sources,
            self.offers,
        )
