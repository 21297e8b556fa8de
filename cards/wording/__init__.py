"""What clinicians read, as reviewed content: one TOML file per rule plus shared phrases.

Each file in this folder (`<rule-id>.toml`, `common.toml`) holds a table per message: its
Jinja2 template as `text` when both site profiles say the same thing, or `uk` and `us` side by
side where the wording differs (spelling, the blood count's name, products), so that a clinical
safety officer reviews every sentence without reading Python. A rule names a message by key
(`say(facts, "vegan-diet-supplement.summary", regimen=...)`) and passes the values; which facts,
which branch and which values stay in the rule module.

Templates render with `StrictUndefined`: a value a template names and the rule does not pass is
an error, never an empty string. Files are read and compiled once, at import; a broken file
stops start-up with one line naming it (`WordingError`). `catalogue()` lists every message with
its placeholders (`b12-cds wording`, `docs/wording.md`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import jinja2.meta

from cards.errors import ValueSetError
from cards.settings import Profile


PROFILES = (Profile.UK, Profile.US)


class WordingError(ValueSetError):
    """A wording file is broken (a start-up error naming the file and the message)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message: its key, the template per profile and the placeholders it names."""

    key: str
    source: dict[Profile, str]
    placeholders: tuple[str, ...]
    templates: dict[Profile, jinja2.Template]

    @property
    def shared(self) -> bool:
        """Whether both profiles use the same text."""
        return self.source[Profile.UK] == self.source[Profile.US]


_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # plain text and Markdown, not HTML
    keep_trailing_newline=False,
)


def _messages(
    name: str, table: dict[str, Any], prefix: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (key, entry) for every message table, nested tables giving dotted keys."""
    for part, value in table.items():
        if not isinstance(value, dict):
            raise WordingError(f"{name}: {prefix}{part} is not a message table")
        if {"text", "uk", "us"} & set(value):
            yield prefix + part, value
        else:
            yield from _messages(name, value, f"{prefix}{part}.")


def _compile(name: str, key: str, entry: dict[str, Any]) -> Message:
    unknown = set(entry) - {"text", "uk", "us", "note"}
    if unknown:
        raise WordingError(f"{name}: {key} has unknown fields {sorted(unknown)}")
    if "text" in entry and ({"uk", "us"} & set(entry)):
        raise WordingError(f"{name}: {key} has both `text` and a profile's own wording")
    if "text" not in entry and not {"uk", "us"} <= set(entry):
        raise WordingError(f"{name}: {key} needs `text`, or both `uk` and `us`")
    source = {p: str(entry.get("text", entry.get(p.value))) for p in PROFILES}
    names: set[str] = set()
    templates = {}
    for profile, text in source.items():
        try:
            names |= jinja2.meta.find_undeclared_variables(_ENV.parse(text))
            templates[profile] = _ENV.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise WordingError(f"{name}: {key} ({profile.value}): {exc.message}") from None
    return Message(key, source, tuple(sorted(names)), templates)


def load(folder: Any = None) -> dict[str, Message]:
    """Return every message of the wording files in a folder (this package's by default).

    Raises:
        WordingError: a file is not TOML, or a message is malformed; names the file and key.
    """
    found: dict[str, Message] = {}
    folder = folder if folder is not None else resources.files(__package__)
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if not item.name.endswith(".toml"):
            continue
        namespace = item.name.removesuffix(".toml")
        try:
            table = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise WordingError(f"cards/wording/{item.name}: {exc}") from None
        for key, entry in _messages(f"cards/wording/{item.name}", table, f"{namespace}."):
            found[key] = _compile(f"cards/wording/{item.name}", key, entry)
    return found


MESSAGES: dict[str, Message] = load()


def render(profile: Profile, key: str, **values: Any) -> str:
    """Return a message in a profile's wording with the values filled in.

    Raises:
        KeyError: no message has this key.
        jinja2.UndefinedError: the template names a value that was not passed.
    """
    return MESSAGES[key].templates[profile].render(**values).strip()


def word(profile: Profile, kind: str, name: str) -> str:
    """Return the card's word for a value the code decides: `kind` is the vocabulary (`klass`,
    `route`, `product`, `dose_source`, `recognised`, `basis`), `name` the value's name in code
    (an enum member's name, or a dose source), so a card never shows the code's own names."""
    return render(profile, f"common.word.{kind}.{name.lower().replace(' ', '_')}")


def say(facts: Any, key: str, **values: Any) -> str:
    """Return a message in the wording of the facts' site profile (see `render`)."""
    return render(facts.profile, key, **values)


def catalogue(profile: Profile | None = None) -> str:
    """Return every message in Markdown, per file, with its placeholders (both profiles, or one)."""
    lines = [
        "# Card wording",
        "",
        "Every sentence b12-cds can put on a card, per rule and message, as the clinical safety",
        "officer signs it off. Generated from `cards/wording/*.toml` by `b12-cds wording`; do not",
        "edit by hand. `{{ name }}` is a value the rule fills in (a result as the lab reported it,",
        "a date, a regimen in words); `{% if %}` marks a branch.",
        "",
    ]
    current = ""
    for key, message in MESSAGES.items():
        namespace = key.split(".", 1)[0]
        if namespace != current:
            current = namespace
            lines += ["", f"## {namespace}", ""]
        placeholders = ", ".join(f"`{p}`" for p in message.placeholders) or "none"
        lines.append(f"- **{key.split('.', 1)[1]}** (placeholders: {placeholders})")
        shown = [profile] if profile is not None else list(PROFILES)
        if message.shared or profile is not None:
            text = message.source[shown[0]]
            label = "uk, us" if message.shared else shown[0].value
            lines.append(f"  - {label}: {_quoted(text)}")
        else:
            for each in shown:
                lines.append(f"  - {each.value}: {_quoted(message.source[each])}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return "`" + " ".join(text.split()).replace("`", "'") + "`"
