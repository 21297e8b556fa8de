"""One clinical rule per module; each exposes RULE_ID, TITLE and evaluate(facts) -> list[Card]."""
