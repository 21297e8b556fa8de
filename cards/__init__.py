"""Pure decision logic of b12-cds: facts, value sets, rules, card models. No flask, no requests."""
