"""Text normalisation and whole-word phrase matching (clinical-rules §2.7).

The text fallback reads free text (order text, coding displays, Condition text) only when no coding
settles the question; a match found here is lower-confidence evidence, and cards say "identified
from the order text". Every word list below is already normalised (see `normalise`), so "B-12"
in a text is matched by the phrase "b 12" and "L-methylfolate" by "l methylfolate".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final


# Removed outright: zero-width space, non-joiner and joiner, word joiner, BOM, soft hyphen.
_REMOVED = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# Characters that separate words: hyphens (ASCII, U+2010-U+2015, minus sign) and slashes.
_SEPARATORS = {
    ord(char): " " for char in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212/\u2044\u2215\\"
}
# Micro signs: after NFKC the micro sign U+00B5 is Greek mu U+03BC; both become "u".
_MICRO = {ord("\u00b5"): "u", ord("\u03bc"): "u"}
_TRANSLATION: Final = str.maketrans({**_REMOVED, **_SEPARATORS, **_MICRO})


def normalise(text: str) -> str:
    """Return text as matched: NFKC, lower case, micro as u, hyphens/slashes as spaces, trimmed."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLATION)
    return " ".join(text.split())


@lru_cache(maxsize=256)
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Return one regex matching any phrase as whole words, longest phrase first at a position."""
    ordered = sorted(
        {normalise(phrase) for phrase in phrases if normalise(phrase)}, key=lambda p: (-len(p), p)
    )
    if not ordered:
        return re.compile(r"(?!)")  # matches nothing
    alternatives = "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in ordered)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _key(phrases: Iterable[str]) -> tuple[str, ...]:
    return phrases if isinstance(phrases, tuple) else tuple(sorted(phrases))


def find_phrases(text_normalised: str, phrases: Iterable[str]) -> tuple[str, ...]:
    """Return every distinct phrase found as whole words, in order of first appearance.

    Args:
        text_normalised: text already passed through `normalise`.
        phrases: words or phrases; each is normalised before matching.
    """
    found: list[str] = []
    for match in _pattern(_key(phrases)).finditer(text_normalised):
        phrase = normalise(match.group(0))
        if phrase not in found:
            found.append(phrase)
    return tuple(found)


def has_phrase(text_normalised: str, phrases: Iterable[str]) -> str | None:
    """Return the first phrase found in the text as whole words, or None.

    Args:
        text_normalised: text already passed through `normalise` (matching ignores case, but
            hyphens and slashes are only word separators after normalising).
        phrases: words or phrases; each is normalised before matching. The longest phrase wins
            at a position ("vitamin b12" before "b12"); the phrase is returned normalised.
    """
    match = _pattern(_key(phrases)).search(text_normalised)
    return None if match is None else normalise(match.group(0))


# --- Medication ingredient words (clinical-rules §2.7, "ingredient class" table) --------------

# Folic acid. Source: clinical-rules §2.7. "folate" alone does not count next to a reduced folate.
FOLIC_ACID_WORDS: Final = ("folic acid", "folate", "pteroylglutamic acid")

# Products that count as folic acid without an ingredient list
# (`assume_folic_acid_in_prenatal_text`, default true). Source: clinical-rules §2.7; the
# "pre natal" forms are "pre-natal" after normalisation.
PRENATAL_WORDS: Final = (
    "prenatal vitamin",
    "prenatal vitamins",
    "antenatal vitamin",
    "antenatal vitamins",
    "pregnancy multivitamin",
    "pregnancy multivitamins",
    "pre natal vitamin",
    "pre natal vitamins",
    "ante natal vitamin",
    "ante natal vitamins",
)

# Multivitamins: plain multivitamin text is not folic acid by default
# (`assume_folic_acid_in_multivitamin_text`, default false). Source: clinical-rules §2.7.
MULTIVITAMIN_WORDS: Final = (
    "multivitamin",
    "multivitamins",
    "multi vitamin",
    "multi vitamins",
    "b complex",
    "vitamin b complex",
)

# B12 text meaning "multivitamin containing B12", never B12 treatment. Source: clinical-rules §2.7.
B12_MULTIVITAMIN_WORDS: Final = (
    *MULTIVITAMIN_WORDS,
    "prenatal",
    "antenatal",
    "pre natal",
    "ante natal",
)

# Reduced folates (exempt from folic acid by default). Source: clinical-rules §2.7;
# "methyl folate" and "5 methyl tetrahydrofolate" are spaced/hyphenated spellings of listed words.
REDUCED_FOLATE_WORDS: Final = (
    "folinic acid",
    "calcium folinate",
    "leucovorin",
    "levoleucovorin",
    "levomefolate",
    "levomefolic acid",
    "l methylfolate",
    "methylfolate",
    "methyl folate",
    "5 mthf",
    "5 methyltetrahydrofolate",
    "5 methyl tetrahydrofolate",
)

# Vitamin B12. Source: clinical-rules §2.7; "b 12" forms are "B-12" after normalisation.
B12_WORDS: Final = (
    "hydroxocobalamin",
    "hydroxycobalamin",
    "cyanocobalamin",
    "cobalamin",
    "vitamin b12",
    "vitamin b 12",
    "vit b12",
    "vit b 12",
    "b12",
    "b 12",
    "methylcobalamin",
    "mecobalamin",
    "nascobal",
)

# Hydroxocobalamin (the misspelling "hydroxycobalamin" is common). Source: clinical-rules §2.7.
HYDROXOCOBALAMIN_WORDS: Final = ("hydroxocobalamin", "hydroxycobalamin")

# Cyanocobalamin, including its nasal brand. Source: clinical-rules §2.7 (B12 words), §2.5.
CYANOCOBALAMIN_WORDS: Final = ("cyanocobalamin", "nascobal")

# Mecobalamin (no verified ingredient code). Source: clinical-rules §2.5, §2.7.
MECOBALAMIN_WORDS: Final = ("mecobalamin", "methylcobalamin")

# Hydroxocobalamin 5 g (Cyanokit) is a cyanide antidote, not B12 replacement. Source: §2.5, §2.7.
CYANIDE_ANTIDOTE_WORDS: Final = ("cyanokit", "cyanide")

# Nitrous oxide. Source: clinical-rules §2.7 (never when the text says "nitric oxide").
NITROUS_OXIDE_WORDS: Final = ("nitrous oxide", "nitrous", "n2o", "entonox", "laughing gas")

# Nitric oxide (RxNorm 7442, clinical-rules §2.3) must never count as nitrous oxide.
NITRIC_OXIDE_WORDS: Final = ("nitric oxide",)

# Metformin. Source: clinical-rules §2.7.
METFORMIN_WORDS: Final = ("metformin",)

# The ten ingredients of `acid-suppressants`. Source: clinical-rules §2.5, §2.7.
ACID_SUPPRESSANT_WORDS: Final = (
    "omeprazole",
    "esomeprazole",
    "lansoprazole",
    "dexlansoprazole",
    "pantoprazole",
    "rabeprazole",
    "famotidine",
    "ranitidine",
    "cimetidine",
    "nizatidine",
)

# Methotrexate. Source: clinical-rules §2.7.
METHOTREXATE_WORDS: Final = ("methotrexate",)

# Pemetrexed (no verified code; text only, for the folate-before-b12 exemption). Source: §2.5, §2.7.
PEMETREXED_WORDS: Final = ("pemetrexed",)

# --- Route and form words (clinical-rules §2.7, "Route and form") ------------------------------

# Parenteral route or form; plurals of the listed forms added. Source: clinical-rules §2.7.
PARENTERAL_WORDS: Final = (
    "intramuscular",
    "im",
    "subcutaneous",
    "sc",
    "sq",
    "subcut",
    "injection",
    "injections",
    "injectable",
    "ampoule",
    "ampoules",
    "vial",
    "vials",
)

# Intravenous route (an injectable given IV is still parenteral). Source: clinical-rules §2.7.
IV_WORDS: Final = ("intravenous", "intravenously", "iv")

# Oral route or form; plurals of the listed forms added. Source: clinical-rules §2.7.
ORAL_WORDS: Final = (
    "oral",
    "orally",
    "po",
    "by mouth",
    "tablet",
    "tablets",
    "capsule",
    "capsules",
    "lozenge",
    "lozenges",
)

# Nasal route or form. Source: clinical-rules §2.7.
NASAL_WORDS: Final = ("nasal", "intranasal", "nascobal")

# --- Condition and Observation text rules (used only when no coding matched the set) -----------

# `neuro-findings`. Source: clinical-rules §2.7; "paraesthesiae" is the usual UK plural and
# "sub acute" is "sub-acute" after normalisation.
NEURO_FINDING_WORDS: Final = (
    "subacute combined degeneration",
    "sub acute combined degeneration",
    "peripheral neuropathy",
    "polyneuropathy",
    "paraesthesia",
    "paraesthesiae",
    "paresthesia",
    "paresthesias",
    "ataxia",
    "encephalopathy",
)

# `vegan-vegetarian-diet`, not when preceded by a negating word (see `mentions_vegan`).
# Source: clinical-rules §2.7.
VEGAN_WORDS: Final = ("vegan", "vegetarian")
VEGAN_NEGATION_WORDS: Final = ("non", "not", "ex")

# `nitrous-oxide-exposure`. Source: clinical-rules §2.7.
N2O_EXPOSURE_WORDS: Final = ("nitrous oxide", "n2o", "laughing gas", "whippets")

# `optic-atrophy-conditions` (Leber's disease). Source: clinical-rules §2.4, §2.7.
OPTIC_ATROPHY_WORDS: Final = ("leber", "hereditary optic")

# Z90.49 counts as ileal resection only with one of these (`z90_49_requires_ileal_text`).
# Source: clinical-rules §2.4; "ileo caecal" is "ileo-caecal" after normalisation.
ILEAL_WORDS: Final = (
    "ileum",
    "ileal",
    "ileectomy",
    "ileocaecal",
    "ileocecal",
    "ileo caecal",
    "ileo cecal",
)

# E53.8 counts as B12 deficiency only when its text names B12 or cobalamin
# (`e53_8_requires_b12_text`). Source: clinical-rules §2.4.
B12_TEXT_WORDS: Final = ("b12", "b 12", "vitamin b12", "vitamin b 12", "cobalamin")

# A vegan word with the word before it, skipping an article ("not a vegan").
_VEGAN = re.compile(
    r"(?<!\w)(?:(?P<before>\w+) (?:an? )?)?(?P<word>"
    + "|".join(map(re.escape, VEGAN_WORDS))
    + r")(?!\w)"
)

_ALL_LISTS: Final = (
    FOLIC_ACID_WORDS,
    PRENATAL_WORDS,
    MULTIVITAMIN_WORDS,
    B12_MULTIVITAMIN_WORDS,
    REDUCED_FOLATE_WORDS,
    B12_WORDS,
    HYDROXOCOBALAMIN_WORDS,
    CYANOCOBALAMIN_WORDS,
    MECOBALAMIN_WORDS,
    CYANIDE_ANTIDOTE_WORDS,
    NITROUS_OXIDE_WORDS,
    NITRIC_OXIDE_WORDS,
    METFORMIN_WORDS,
    ACID_SUPPRESSANT_WORDS,
    METHOTREXATE_WORDS,
    PEMETREXED_WORDS,
    PARENTERAL_WORDS,
    IV_WORDS,
    ORAL_WORDS,
    NASAL_WORDS,
    NEURO_FINDING_WORDS,
    VEGAN_WORDS,
    N2O_EXPOSURE_WORDS,
    OPTIC_ATROPHY_WORDS,
    ILEAL_WORDS,
    B12_TEXT_WORDS,
)
for _words in _ALL_LISTS:  # compile every list once, at import
    _pattern(_words)


def mentions_folic_acid(
    text: str, *, prenatal_counts: bool = True, multivitamin_counts: bool = False
) -> str | None:
    """Return the folic acid phrase in a medication text, or None (clinical-rules §2.7).

    "folate" alone does not count when the text also names a reduced folate. Pass
    `prenatal_counts` / `multivitamin_counts` only when the product has no ingredient list
    (settings `assume_folic_acid_in_prenatal_text`, `assume_folic_acid_in_multivitamin_text`).
    """
    text = normalise(text)
    found = find_phrases(text, FOLIC_ACID_WORDS)
    strong = [phrase for phrase in found if phrase != "folate"]
    if strong:
        return strong[0]
    if found and has_phrase(text, REDUCED_FOLATE_WORDS) is None:
        return found[0]
    if prenatal_counts and (phrase := has_phrase(text, PRENATAL_WORDS)) is not None:
        return phrase
    if multivitamin_counts:
        return has_phrase(text, MULTIVITAMIN_WORDS)
    return None


def mentions_b12(text: str) -> str | None:
    """Return the B12 phrase in a medication text that is not a multivitamin, or None."""
    text = normalise(text)
    phrase = has_phrase(text, B12_WORDS)
    if phrase is None or has_phrase(text, B12_MULTIVITAMIN_WORDS) is not None:
        return None
    return phrase


def mentions_nitrous_oxide(text: str) -> str | None:
    """Return the nitrous oxide phrase in a medication text, or None when it says nitric oxide."""
    text = normalise(text)
    if has_phrase(text, NITRIC_OXIDE_WORDS) is not None:
        return None
    return has_phrase(text, NITROUS_OXIDE_WORDS)


def mentions_vegan(text: str) -> bool:
    """Return True when the text says vegan or vegetarian, not right after "non", "not" or "ex".

    An article between them is skipped, so "not a vegan" does not count either.
    """
    for match in _VEGAN.finditer(normalise(text)):
        if match.group("before") not in VEGAN_NEGATION_WORDS:
            return True
    return False
