"""Load and check the classifier's knowledge file (``include/config/taxonomy.yaml``).

Knowledge lives in data so that a new lab, alias, model family or homonym guard is a YAML edit, not
a code change. This module turns the YAML into frozen dataclasses and refuses a malformed file with
one readable line that says where the problem is: a typo in a regex or a country code must fail
loudly at load time, not silently mislabel stories for weeks.

The path is ``$RACEWATCH_TAXONOMY`` when set, else the repository's ``include/config/taxonomy.yaml``
found relative to this package. Loading is cached per (path, modification time), so the file is
parsed once per process and an edited file is picked up without a restart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from racewatch import yamlio
from racewatch.errors import RacewatchError

__all__ = [
    "FLAGSHIP_TIERS",
    "TIERS",
    "Cue",
    "Family",
    "Lab",
    "Taxonomy",
    "TaxonomyError",
    "default_taxonomy_path",
    "load_taxonomy",
    "slugify",
    "taxonomy_path",
]

ENV_VAR = "RACEWATCH_TAXONOMY"
_DEFAULT_VERSION_RX = r"\d+(?:\.\d+)*"
_LAB_KINDS = frozenset({"lab", "bigtech", "chips", "investor"})
#: Model tiers, best first (docs/classification.md section 6). A new flagship is a new model of tier
#: flagship or major; the others are race news, never a flagship release.
TIERS: tuple[str, ...] = ("flagship", "major", "small", "specialised", "domain")
FLAGSHIP_TIERS = frozenset({"flagship", "major"})
_COUNTRY_RX = re.compile(r"^[A-Z]{2}$")
_SLUG_RX = re.compile(r"[^a-z0-9.]+")


class TaxonomyError(RacewatchError):
    """The taxonomy file is missing or malformed (the message says which entry and why)."""


def slugify(text: str) -> str:
    """Lowercase ``text`` into ``[a-z0-9.-]``: the alphabet of release keys."""
    return _SLUG_RX.sub("-", text.lower()).strip("-.")


@dataclass(frozen=True)
class Family:
    """A model family of one lab, with the naming grammar of its members (see the YAML header)."""

    name: str
    triggers: tuple[str, ...]
    sep: str = " "
    part_sep: str = "-"
    version: str = _DEFAULT_VERSION_RX
    version_upper: bool = False
    pre: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    versionless: bool = False
    bare_version: bool = False
    ambiguous: bool = False
    cased: bool = False
    requires_lab: bool = False
    product: bool = False
    tier: str = "flagship"
    #: tier words that do not lower this family ("Flash" in Meituan's 560B LongCat-Flash)
    tier_exempt: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lab:
    """An organisation in the race: canonical name, how it is written, where it is, what it makes."""

    name: str
    key: str
    country: str | None
    kind: str
    aliases: tuple[str, ...] = ()
    cased_aliases: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    families: tuple[Family, ...] = ()
    channels: tuple[str, ...] = ()  # the lab's own web addresses: "openai.com", "github.com/deepseek-ai"


@dataclass(frozen=True)
class Cue:
    """One cue phrase: a case-insensitive regex (unless ``cased``) with a weight."""

    pattern: str
    weight: float = 1.0
    cased: bool = False


@dataclass(frozen=True)
class Country:
    """A government (``names``, for policy stories) and its adjectives (to place unknown companies).

    ``code`` is None for supranational bodies (EU, UN): they act, but have no ISO country code.
    """

    code: str | None
    names: tuple[str, ...]
    adjectives: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """The whole knowledge file, checked."""

    version: str
    path: Path
    labs: tuple[Lab, ...]
    variants: tuple[str, ...]
    countries: tuple[Country, ...]
    cues: dict[str, tuple[Cue, ...]] = field(default_factory=dict)
    events: dict[str, tuple[Cue, ...]] = field(default_factory=dict)
    #: lowercased name part or variant word -> the tier it gives a model ("mini" -> small)
    tier_words: dict[str, str] = field(default_factory=dict)
    #: a model whose stated size is at most this many billion parameters is small
    small_max_b: float = 15.0

    def lab_by_name(self) -> dict[str, Lab]:
        """Canonical name, key and every alias (lowercased) -> lab, to canonicalize labels."""
        out: dict[str, Lab] = {}
        for lab in self.labs:
            for name in (lab.name, lab.key, *lab.aliases, *lab.cased_aliases, *lab.ambiguous):
                out.setdefault(name.lower(), lab)
        return out


def default_taxonomy_path() -> Path:
    """The repository's taxonomy, located relative to this package (``include/config/taxonomy.yaml``)."""
    return Path(__file__).resolve().parents[2] / "config" / "taxonomy.yaml"


def taxonomy_path() -> Path:
    """``$RACEWATCH_TAXONOMY`` if set (tests and experiments), else the repository's file."""
    override = os.environ.get(ENV_VAR, "").strip()
    return Path(override) if override else default_taxonomy_path()


_CACHE: dict[tuple[str, int], Taxonomy] = {}


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Parse and check the taxonomy at ``path`` (default :func:`taxonomy_path`), cached by mtime."""
    resolved = (path or taxonomy_path()).expanduser()
    try:
        stamp = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise TaxonomyError(f"taxonomy file {resolved} cannot be read: {exc.strerror or exc}") from exc
    cache_key = (str(resolved), stamp)
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    try:
        raw = yamlio.safe_load(resolved.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"taxonomy file {resolved} is not valid YAML: {exc}") from exc
    taxonomy = _build(raw, resolved)
    _CACHE.clear()  # one live taxonomy per process is plenty; do not keep stale versions around
    _CACHE[cache_key] = taxonomy
    return taxonomy


def _build(raw: Any, path: Path) -> Taxonomy:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{path}: top level must be a mapping with `labs`")
    labs_raw = raw.get("labs")
    if not isinstance(labs_raw, list) or not labs_raw:
        raise TaxonomyError(f"{path}: `labs` must be a non-empty list")
    labs = tuple(_lab(entry, f"{path}: labs[{i}]") for i, entry in enumerate(labs_raw))
    seen: dict[str, str] = {}
    for lab in labs:
        if lab.key in seen:
            raise TaxonomyError(f"{path}: lab key {lab.key!r} is used by both {seen[lab.key]!r} and {lab.name!r}")
        seen[lab.key] = lab.name
    cues = {
        name: _cues(items, f"{path}: cues.{name}") for name, items in _mapping(raw.get("cues"), f"{path}: cues").items()
    }
    events = {
        name: _cues(items, f"{path}: events.{name}")
        for name, items in _mapping(raw.get("events"), f"{path}: events").items()
    }
    countries = tuple(
        _country(entry, f"{path}: countries[{i}]") for i, entry in enumerate(_list(raw.get("countries"), "countries"))
    )
    tiers = _mapping(raw.get("tiers"), f"{path}: tiers")
    tier_words: dict[str, str] = {}
    for tier, words in tiers.items():
        if tier == "small_max_b":
            continue
        if tier not in TIERS:
            raise TaxonomyError(f"{path}: tiers.{tier} is not one of {list(TIERS)}")
        for word in _strings(words, f"{path}: tiers.{tier}"):
            tier_words[word.lower()] = tier
    try:
        small_max_b = float(tiers.get("small_max_b", 15.0))
    except (TypeError, ValueError) as exc:
        raise TaxonomyError(f"{path}: tiers.small_max_b must be a number") from exc
    return Taxonomy(
        version=str(raw.get("version", "0")),
        path=path,
        labs=labs,
        variants=_strings(raw.get("variants"), f"{path}: variants"),
        countries=countries,
        cues=cues,
        events=events,
        tier_words=tier_words,
        small_max_b=small_max_b,
    )


def _lab(entry: Any, where: str) -> Lab:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise TaxonomyError(f"{where}: each lab needs a `name`")
    name = entry["name"].strip()
    where = f"{where} ({name})"
    country = entry.get("country")
    if country is not None:
        _check_country(country, where)
    kind = entry.get("kind", "lab")
    if kind not in _LAB_KINDS:
        raise TaxonomyError(f"{where}: kind {kind!r} is not one of {sorted(_LAB_KINDS)}")
    key = slugify(str(entry.get("key") or name))
    if not key:
        raise TaxonomyError(f"{where}: name gives an empty key; set `key`")
    guards = _strings(entry.get("guards"), f"{where}.guards")
    for guard in guards:
        _check_regex(guard, f"{where}.guards")
    families = tuple(
        _family(f, f"{where}.families[{i}]") for i, f in enumerate(_list(entry.get("families"), f"{where}.families"))
    )
    aliases = _strings(entry.get("aliases"), f"{where}.aliases")
    cased = _strings(entry.get("cased_aliases"), f"{where}.cased_aliases")
    ambiguous = _strings(entry.get("ambiguous"), f"{where}.ambiguous")
    if not (aliases or cased or ambiguous):
        raise TaxonomyError(f"{where}: a lab needs at least one of aliases, cased_aliases, ambiguous")
    channels = tuple(c.lower().removeprefix("www.").rstrip("/")
                     for c in _strings(entry.get("channels"), f"{where}.channels"))
    return Lab(
        name=name,
        key=key,
        channels=channels,
        country=country,
        kind=kind,
        aliases=aliases,
        cased_aliases=cased,
        ambiguous=ambiguous,
        guards=guards,
        families=families,
    )


def _family(entry: Any, where: str) -> Family:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise TaxonomyError(f"{where}: each family needs a `name`")
    name = entry["name"].strip()
    where = f"{where} ({name})"
    sep = str(entry.get("sep", " "))
    version = str(entry.get("version", _DEFAULT_VERSION_RX))
    _check_regex(version, f"{where}.version")
    if re.compile(version).groups:
        raise TaxonomyError(f"{where}.version: use (?:...) groups only")
    flags = {
        flag: bool(entry.get(flag, False))
        for flag in ("version_upper", "versionless", "bare_version", "ambiguous", "cased", "requires_lab", "product")
    }
    tier = str(entry.get("tier", "flagship"))
    if tier not in TIERS:
        raise TaxonomyError(f"{where}.tier: {tier!r} is not one of {list(TIERS)}")
    unknown = set(entry) - {"name", "triggers", "sep", "part_sep", "version", "pre", "parts", "variants", "tier",
                            "tier_exempt", *flags}
    if unknown:
        raise TaxonomyError(f"{where}: unknown keys {sorted(unknown)}")
    return Family(
        name=name,
        triggers=_strings(entry.get("triggers"), f"{where}.triggers") or (name,),
        sep=sep,
        part_sep=str(entry.get("part_sep", sep or "-")),
        version=version,
        pre=_strings(entry.get("pre"), f"{where}.pre"),
        parts=_strings(entry.get("parts"), f"{where}.parts"),
        variants=_strings(entry.get("variants"), f"{where}.variants"),
        tier=tier,
        tier_exempt=tuple(w.lower() for w in _strings(entry.get("tier_exempt"), f"{where}.tier_exempt")),
        **flags,
    )


def _cues(items: Any, where: str) -> tuple[Cue, ...]:
    out: list[Cue] = []
    for i, item in enumerate(_list(items, where)):
        if isinstance(item, str):
            cue = Cue(item)
        elif isinstance(item, dict) and isinstance(item.get("cue"), str):
            try:
                weight = float(item.get("weight", 1.0))
            except (TypeError, ValueError) as exc:
                raise TaxonomyError(f"{where}[{i}]: weight must be a number") from exc
            cue = Cue(item["cue"], weight, bool(item.get("cased", False)))
        else:
            raise TaxonomyError(f"{where}[{i}]: a cue is a regex string or {{cue: ..., weight: n}}")
        _check_regex(cue.pattern, f"{where}[{i}]")
        out.append(cue)
    return tuple(out)


def _country(entry: Any, where: str) -> Country:
    if not isinstance(entry, dict):
        raise TaxonomyError(f"{where}: must be a mapping with code, names, adjectives")
    code = entry.get("code")
    if code is not None:
        _check_country(code, where)
    return Country(
        code=code,
        names=_strings(entry.get("names"), f"{where}.names"),
        adjectives=_strings(entry.get("adjectives"), f"{where}.adjectives"),
    )


def _check_country(code: Any, where: str) -> None:
    from racewatch.quality import ISO_3166_ALPHA2  # lazy: quality is light, but keep imports one-way

    if not isinstance(code, str) or not _COUNTRY_RX.match(code) or code not in ISO_3166_ALPHA2:
        raise TaxonomyError(f"{where}: country {code!r} is not an ISO 3166-1 alpha-2 code")


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise TaxonomyError(f"{where}: bad regex {pattern!r}: {exc}") from exc


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TaxonomyError(f"{where}: must be a list")
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaxonomyError(f"{where}: must be a mapping")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = _list(value, where)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise TaxonomyError(f"{where}: must be a list of non-empty strings")
    return tuple(v.strip() for v in items)
