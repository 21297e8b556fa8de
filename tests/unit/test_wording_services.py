"""Discovery titles and descriptions, and product texts, come from cards/wording (issue 10)."""

from __future__ import annotations

import pytest

from cards import orders
from cards import wording
from cards.services import SERVICES
from cards.settings import Profile


@pytest.mark.parametrize("service_id", sorted(SERVICES))
def test_every_service_has_a_title_in_the_wording_file(service_id):
    assert f"services.{service_id}.title" in wording.MESSAGES


@pytest.mark.parametrize("service_id", sorted(SERVICES))
def test_discovery_text_is_the_wording_files_or_the_one_kept_in_python(service_id):
    service = SERVICES[service_id]
    for part in ("title", "description"):
        key = f"services.{service_id}.{part}"
        held = key in wording.MESSAGES
        assert held != bool(getattr(service, part)), (
            f"{key}: in the wording file or Python, not both"
        )
        for profile in wording.PROFILES:
            said = service.discovery(profile)[part]
            assert isinstance(said, str) and said
            if held:
                assert said == wording.render(profile, key)


@pytest.mark.parametrize(("profile", "word"), [(Profile.UK, "anaemia"), (Profile.US, "anemia")])
def test_order_sign_description_speaks_the_profiles_language(profile, word):
    """Every discovery text is wording content; b12-order-sign's says anaemia/anemia by profile
    (it said "anaemia" in us too until the text moved to services.toml)."""
    assert SERVICES["b12-order-sign"].discovery(profile)["description"] == (
        "Checks every draft order before signing, as order-select does, plus potassium "
        f"safety when a first course of parenteral B12 starts with {word}."
    )


def test_no_service_wording_message_is_unused():
    used = {f"services.{s}.{p}" for s in SERVICES for p in ("title", "description")}
    own = {k for k in wording.MESSAGES if k.startswith("services.")}
    assert own <= used, sorted(own - used)


@pytest.mark.parametrize("name", sorted(orders.REGIMENS))
def test_each_product_text_is_a_wording_message(name):
    texts = {
        wording.render(Profile.UK, k) for k in wording.MESSAGES if k.startswith("orders.product.")
    }
    assert orders.REGIMENS[name].product["text"] in texts


def test_an_im_copy_names_its_route_from_the_wording_file():
    draft = {"dosageInstruction": [{"text": "1000 mcg IV once monthly"}]}
    for profile in wording.PROFILES:
        copy = orders.with_route_im(draft, "p1", profile)
        dosage = copy["dosageInstruction"][0]
        assert dosage["route"]["text"] == wording.render(profile, "orders.route.im")
        assert dosage["text"] == "1000 mcg intramuscularly once monthly"
