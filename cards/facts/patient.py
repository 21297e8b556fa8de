"""The patient family: sex, age and death from the Patient resource (§6.2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import timedelta
from typing import Any
from typing import TypedDict

from cards import labs
from cards.resources import as_date


class PatientFacts(TypedDict):
    """The facts read from the Patient resource."""

    age_years: int | None
    age_months: int | None  # whole months, for ages under 2 shown in months (§11.12)
    sex: str
    deceased: bool


def read_patient(models: Sequence[Any], today: date) -> tuple[PatientFacts, date | None]:
    """Return the patient facts and the birth date (the youngest reading of a partial one)."""
    sex, born, deceased = _patient(models, today)
    age = labs.Patient(sex, born).age_on(today)
    months = _months_between(born, today) if born is not None else None
    return {"age_years": age, "age_months": months, "sex": sex, "deceased": deceased}, born


def _months_between(born: date, today: date) -> int:
    """Return whole months of age on `today` (clinical-rules §11.12: "Age 7 months")."""
    months = (today.year - born.year) * 12 + today.month - born.month
    return months - (today.day < born.day)


def _patient(models: Sequence[Any], today: date) -> tuple[str, date | None, bool]:
    for model in models:
        if model.get_resource_type() != "Patient":
            continue
        sex = model.gender if model.gender in ("male", "female") else "unknown"
        born = as_date(model.birthDate)
        raw = str(model.birthDate) if model.birthDate is not None else ""
        if born is not None and len(raw) < 10:
            # A partial birth date gives the youngest possible age (§6.2): the period's last day.
            born = date(born.year, 12, 31) if len(raw) == 4 else _month_end(born)
        deceased = bool(model.deceasedBoolean) or (
            (d := as_date(model.deceasedDateTime)) is not None and d <= today
        )
        return sex, born, deceased
    return "unknown", None, False


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
