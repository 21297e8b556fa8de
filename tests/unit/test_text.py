"""Text normalisation and phrase matching for the text fallback (clinical-rules §2.7)."""

import pytest

from cards import text
from cards.text import has_phrase
from cards.text import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Folic  Acid\t5MG", "folic acid 5mg"),
        ("Vitamin B-12", "vitamin b 12"),
        ("L\u2010methylfolate", "l methylfolate"),
        ("B\u201112", "b 12"),
        ("5\u2013MTHF", "5 mthf"),
        ("hydroxocobalamin/cyanocobalamin", "hydroxocobalamin cyanocobalamin"),
        ("1000 \u00b5g", "1000 ug"),
        ("1000 \u03bcg", "1000 ug"),
        ("B\u200b12\ufeff", "b12"),
        ("\uff26\uff4f\uff4c\uff49\uff43 acid", "folic acid"),
        ("  N\u2082O  ", "n2o"),
        ("", ""),
    ],
    ids=[
        "case-and-spaces",
        "ascii-hyphen",
        "u2010-hyphen",
        "u2011-non-breaking-hyphen",
        "en-dash",
        "slash",
        "micro-sign",
        "greek-mu",
        "zero-width",
        "fullwidth",
        "subscript",
        "empty",
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    """normalise applies NFKC, lower case, micro to u, separators to spaces and trims."""
    assert expected == normalise(raw)


def test_normalise_is_idempotent() -> None:
    """Normalising twice gives the same text as normalising once."""
    once = normalise("Vitamin B\u201112 1000\u00b5g / Folic-Acid")
    assert once == normalise(once)


def test_folic_acid_tablets_match_folic_acid() -> None:
    """ "Folic Acid 5mg tablets" names folic acid."""
    assert "folic acid" == has_phrase(normalise("Folic Acid 5mg tablets"), text.FOLIC_ACID_WORDS)
    assert "folic acid" == text.mentions_folic_acid("Folic Acid 5mg tablets")


def test_calcium_folinate_is_not_folic_acid() -> None:
    """Calcium folinate is a reduced folate, not folic acid."""
    assert has_phrase(normalise("calcium folinate"), text.FOLIC_ACID_WORDS) is None
    assert text.mentions_folic_acid("Calcium folinate 15 mg tablets") is None
    assert "calcium folinate" == has_phrase(
        normalise("calcium folinate"), text.REDUCED_FOLATE_WORDS
    )


def test_l_methylfolate_matches_reduced_folate() -> None:
    """ "L-methylfolate" normalises to "l methylfolate" and is a reduced folate."""
    normalised = normalise("L-methylfolate 15 mg")
    assert "l methylfolate 15 mg" == normalised
    assert "l methylfolate" == has_phrase(normalised, text.REDUCED_FOLATE_WORDS)
    assert has_phrase(normalised, text.FOLIC_ACID_WORDS) is None


def test_folate_next_to_a_reduced_folate_is_not_folic_acid() -> None:
    """ "folate" does not count as folic acid when the text names a reduced folate."""
    assert text.mentions_folic_acid("Folate (as L-methylfolate calcium) 1 mg") is None
    assert "folate" == text.mentions_folic_acid("Folate 400 microgram tablets")


def test_prenatal_text_counts_as_folic_acid_only_by_setting() -> None:
    """Prenatal vitamins count as folic acid by default; plain multivitamins do not."""
    assert "prenatal vitamins" == text.mentions_folic_acid("Prenatal Vitamins tablet")
    assert text.mentions_folic_acid("Prenatal Vitamins tablet", prenatal_counts=False) is None
    assert text.mentions_folic_acid("Multivitamin tablet") is None
    assert "multi vitamin" == text.mentions_folic_acid(
        "Multi-vitamin tablet", multivitamin_counts=True
    )


def test_nitric_oxide_is_not_nitrous_oxide() -> None:
    """ "nitric oxide" never matches nitrous oxide."""
    assert has_phrase(normalise("Nitric oxide 20 ppm"), text.NITROUS_OXIDE_WORDS) is None
    assert text.mentions_nitrous_oxide("Nitric oxide 20 ppm") is None
    assert text.mentions_nitrous_oxide("nitric oxide and nitrous oxide") is None


def test_entonox_is_nitrous_oxide() -> None:
    """Entonox (nitrous oxide with oxygen) matches nitrous oxide."""
    assert "entonox" == text.mentions_nitrous_oxide("Entonox 50/50 inhalation")
    assert "nitrous oxide" == text.mentions_nitrous_oxide("Nitrous Oxide gas")


def test_vitamin_b12_with_hyphen_matches_b12() -> None:
    """ "Vitamin B-12 1000 mcg" matches B12 through the "b 12" form."""
    assert "vitamin b 12" == has_phrase(normalise("Vitamin B-12 1000 mcg"), text.B12_WORDS)
    assert "vitamin b 12" == text.mentions_b12("Vitamin B-12 1000 mcg")


def test_b12_in_a_multivitamin_is_not_b12_treatment() -> None:
    """B12 inside a multivitamin or B complex is not a B12 product."""
    assert text.mentions_b12("Vitamin B complex with B12") is None
    assert text.mentions_b12("Multivitamin with cyanocobalamin") is None
    assert "hydroxocobalamin" == text.mentions_b12("Hydroxocobalamin 1mg/1ml injection")


def test_longest_phrase_wins_and_words_are_whole() -> None:
    """The longest phrase at a position is returned, and words never match inside words."""
    assert "vitamin b12" == has_phrase("vitamin b12 tablet", text.B12_WORDS)
    assert has_phrase("cyanocobalamin", ("cobalamin",)) is None
    assert has_phrase("nonvegan", text.VEGAN_WORDS) is None
    assert "im" == has_phrase("1 mg (im) weekly", text.PARENTERAL_WORDS)


def test_has_phrase_accepts_any_iterable_of_phrases() -> None:
    """has_phrase takes sets or generators and normalises the phrases given."""
    assert "l methylfolate" == has_phrase("l methylfolate", {"L-Methylfolate"})
    assert has_phrase("anything", iter(())) is None


def test_find_phrases_lists_each_phrase_once() -> None:
    """find_phrases returns every distinct phrase in order of appearance."""
    found = text.find_phrases("folate and folic acid then folate", text.FOLIC_ACID_WORDS)
    assert ("folate", "folic acid") == found


@pytest.mark.parametrize(
    "phrase", ["non-vegan", "not vegan", "Non vegetarian", "ex-vegan", "not a vegan", "nonvegan"]
)
def test_negated_vegan_does_not_count(phrase: str) -> None:
    """ "vegan" or "vegetarian" right after "non", "not" or "ex" does not count."""
    assert not text.mentions_vegan(phrase)


@pytest.mark.parametrize("phrase", ["Vegan", "strict vegetarian diet", "Lacto-vegetarian"])
def test_vegan_counts(phrase: str) -> None:
    """A plain vegan or vegetarian mention counts."""
    assert text.mentions_vegan(phrase)


@pytest.mark.parametrize(
    ("words", "sample"),
    [
        (text.NEURO_FINDING_WORDS, "Peripheral neuropathy, both feet"),
        (text.NEURO_FINDING_WORDS, "Subacute combined degeneration of the cord"),
        (text.N2O_EXPOSURE_WORDS, "Recreational N2O use (whippets)"),
        (text.OPTIC_ATROPHY_WORDS, "Leber's hereditary optic neuropathy"),
        (text.ILEAL_WORDS, "Acquired absence of ileum"),
        (text.ILEAL_WORDS, "Ileo-caecal resection"),
        (text.B12_TEXT_WORDS, "Vitamin B12 deficiency"),
        (text.B12_TEXT_WORDS, "B-12 deficiency"),
        (text.B12_TEXT_WORDS, "Cobalamin deficiency"),
        (text.HYDROXOCOBALAMIN_WORDS, "Hydroxycobalamin 1 mg"),
        (text.CYANIDE_ANTIDOTE_WORDS, "Cyanokit 5 g"),
        (text.PEMETREXED_WORDS, "Pemetrexed 500 mg/m2"),
        (text.IV_WORDS, "given IV"),
        (text.NASAL_WORDS, "Nascobal spray"),
        (text.ORAL_WORDS, "by mouth daily"),
    ],
    ids=lambda value: value if isinstance(value, str) else "words",
)
def test_condition_and_route_words_match(words: tuple[str, ...], sample: str) -> None:
    """Each text rule finds its words in a typical text."""
    assert has_phrase(normalise(sample), words) is not None


@pytest.mark.parametrize(
    ("words", "sample"),
    [
        (text.ILEAL_WORDS, "Acquired absence of gallbladder"),
        (text.B12_TEXT_WORDS, "Thiamine (B1) deficiency"),
        (text.B12_TEXT_WORDS, "Vitamin B6 deficiency"),
        (text.OPTIC_ATROPHY_WORDS, "Optic neuritis"),
        (text.METFORMIN_WORDS, "Gliclazide 80 mg"),
    ],
    ids=lambda value: value if isinstance(value, str) else "words",
)
def test_condition_words_do_not_match_other_text(words: tuple[str, ...], sample: str) -> None:
    """A text rule does not fire on an unrelated text."""
    assert has_phrase(normalise(sample), words) is None


def test_every_word_list_is_already_normalised() -> None:
    """Each word list holds normalised, non-empty phrases, so matching needs no folding."""
    lists = [value for name, value in vars(text).items() if name.endswith("_WORDS")]
    assert 20 < len(lists)
    for words in lists:
        for phrase in words:
            assert phrase == normalise(phrase)
            assert phrase
