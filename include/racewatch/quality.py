"""Great Expectations gate run on every batch before it is stored.

Two suites, both defined here in code: ``entries`` (normalized feed entries, before the upsert) and
``stories`` (the classifier's JSON Lines output, before ``stories``/``quarantine``). Each call runs
one GX validation over a pandas DataFrame of the batch and maps GX's unexpected rows back to the
input rows, so the caller gets the rows to store, the rows to quarantine (with a one-line reason
each) and whether the batch is so broken that the pipeline should stop before alerting.

GX decides, this module only maps: every pass/fail comes from GX's result (COMPLETE format with a
row-number column as ``unexpected_index_column_names``); the Python here builds the frame, renders
reasons and applies the one batch policy GX has no switch for (of a duplicated key keep the first
occurrence).

Why the ceremony around the import: ``great_expectations`` takes seconds to import and logs
noisily at INFO, so it is imported lazily (DAG parsing and the CLI must not pay for it), its
loggers are turned down, analytics are disabled before the import, and the ephemeral context is
built once per process and reused. Nothing here opens a network connection.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from racewatch.contract import EVENT_TYPES as CONTRACT_EVENT_TYPES

if TYPE_CHECKING:  # pragma: no cover - typing only; the real imports are lazy
    import pandas as pd

__all__ = [
    "CRITICAL_SHARE",
    "EVENT_TYPES",
    "ISO_3166_ALPHA2",
    "Quarantined",
    "ValidationOutcome",
    "batch_warnings",
    "build_docs",
    "validate_entries",
    "validate_releases",
    "validate_stories",
    "warm_up",
    "write_results",
]

logger = logging.getLogger(__name__)

EVENT_TYPES: frozenset[str] = frozenset(CONTRACT_EVENT_TYPES)

# ISO 3166-1 alpha-2, the 249 officially assigned codes (shipped here so no country package is
# needed). Exceptionally or user-assigned codes (EU, UN, XK, ZZ...) are deliberately absent.
_ISO_3166_ALPHA2_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_ALPHA2: frozenset[str] = frozenset(_ISO_3166_ALPHA2_CODES.split())

#: A critical expectation failing for more than this share of a batch's rows stops the pipeline:
#: at that point the batch is broken (a parser or classifier bug), not a few bad rows.
CRITICAL_SHARE = 0.5

TITLE_MAX_CHARS = 1000
SUMMARY_MAX_CHARS = 100_000
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)

# Column added to the validation frame so GX reports failing rows by position. The row's own key
# cannot be the index: it may be null or duplicated, which is exactly what is being checked.
_ROW = "_rw_row"
# Unparseable published_at values are replaced by this pre-1990 instant in the frame (never in the
# returned rows) so that GX's range check rejects them instead of treating them as "no date".
_UNPARSEABLE_TIMESTAMP = datetime(1900, 1, 1, tzinfo=UTC)
_PUBLISHED_MAX_PARAM = "published_at_max"
_REASON_VALUE_CHARS = 80
_RECENT_RESULTS = 20


@dataclass(frozen=True)
class Quarantined:
    """One row kept out of storage, with the expectation(s) it failed."""

    key: str  # the row's stable id ("" when the id itself is missing)
    expectation: str  # first failing expectation, e.g. "expect_column_values_to_match_regex(link)"
    reason: str  # one line, every failure of the row joined with "; "
    row: dict[str, Any]  # the raw row, JSON-serializable (datetimes as ISO strings)


@dataclass(frozen=True)
class ValidationOutcome:
    """What the gate decided about one batch."""

    suite: str  # "entries" | "stories"
    valid: list[dict[str, Any]]  # rows that passed every row-level expectation (original dicts)
    quarantined: list[Quarantined]  # one record per failing row, in input order
    success: bool  # no row failed and every expectation could be evaluated
    stats: dict[str, Any]  # evaluated, failed per expectation, seconds, gx version, ...
    critical_failure: str | None  # why the caller must stop before alerting, or None


# --------------------------------------------------------------------------------------------
# Suite definitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """One expectation of a suite plus what the gate needs to explain its failures.

    ``build`` receives the lazily imported ``great_expectations.expectations`` module and GX's
    row-condition ``Column`` class and returns the configured expectation. ``reason`` renders the
    one-line reason from the original row's value of ``column``.
    """

    name: str
    column: str
    build: Callable[[Any, Any], Any]
    reason: Callable[[Any], str]
    critical: bool = False
    keep_first: bool = False  # uniqueness: the first occurrence of a duplicated value passes


@dataclass(frozen=True)
class _Suite:
    name: str
    key: str  # the column that identifies a row (Quarantined.key)
    columns: tuple[str, ...]  # the columns the frame needs (missing keys become null)
    checks: tuple[_Check, ...] = field(default_factory=tuple)


def _short(value: Any) -> str:
    """repr() of a value, cut so a reason always stays one short line."""
    text = repr(value)
    if len(text) > _REASON_VALUE_CHARS:
        text = text[: _REASON_VALUE_CHARS - 3] + "..."
    return " ".join(text.split())


def _missing(column: str) -> Callable[[Any], str]:
    def reason(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{column} missing"
        return f"{column} is not usable: {_short(value)}"

    return reason


def _not_null(column: str, *, reason: Callable[[Any], str] | None = None, critical: bool = False) -> _Check:
    """The column must hold a value; the reason defaults to "<column> missing"."""
    return _Check(
        f"expect_column_values_to_not_be_null({column})",
        column,
        lambda gxe, _c: gxe.ExpectColumnValuesToNotBeNull(column=column),
        reason or _missing(column),
        critical=critical,
    )


def _unique(column: str, reason: Callable[[Any], str]) -> _Check:
    """Within a batch, the first row with a value passes and later copies are quarantined."""
    return _Check(
        f"expect_column_values_to_be_unique({column})",
        column,
        lambda gxe, _c: gxe.ExpectColumnValuesToBeUnique(column=column),
        reason,
        keep_first=True,
    )


def _length_reason(column: str, low: int | None, high: int) -> Callable[[Any], str]:
    def reason(value: Any) -> str:
        length = len(value) if isinstance(value, str) else None
        if length == 0:
            return f"{column} is empty"
        if length is not None and length > high:
            return f"{column} too long ({length} chars > {high})"
        bounds = f"{low}..{high}" if low is not None else f"<= {high}"
        return f"{column} length outside {bounds}: {_short(value)}"

    return reason


def _published_reason(value: Any) -> str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if aware < EARLIEST_PUBLISHED:
            return f"published_at {value.isoformat()} is before {EARLIEST_PUBLISHED.date().isoformat()}"
        return f"published_at {value.isoformat()} is too far in the future"
    return f"published_at is not a timestamp: {_short(value)}"


def _entries_suite() -> _Suite:
    return _Suite(
        name="entries",
        key="entry_key",
        columns=("entry_key", "title", "link", "published_at", "summary_text"),
        checks=(
            _not_null("entry_key", critical=True),
            _unique("entry_key", lambda v: f"duplicate entry_key {_short(v)} (first occurrence kept)"),
            _not_null("title", critical=True),
            _Check(
                "expect_column_value_lengths_to_be_between(title)",
                "title",
                lambda gxe, _c: gxe.ExpectColumnValueLengthsToBeBetween(
                    column="title", min_value=1, max_value=TITLE_MAX_CHARS
                ),
                _length_reason("title", 1, TITLE_MAX_CHARS),
            ),
            _not_null("link"),
            _Check(
                "expect_column_values_to_match_regex(link)",
                "link",
                lambda gxe, _c: gxe.ExpectColumnValuesToMatchRegex(column="link", regex=r"^https?://"),
                lambda v: f"link is not http(s): {_short(v)}",
            ),
            _Check(
                "expect_column_values_to_be_between(published_at)",
                "published_at",
                # The upper bound moves with `now`, so it is a suite parameter filled per run.
                lambda gxe, _c: gxe.ExpectColumnValuesToBeBetween(
                    column="published_at",
                    min_value=EARLIEST_PUBLISHED,
                    max_value={"$PARAMETER": _PUBLISHED_MAX_PARAM},
                ),
                _published_reason,
            ),
            _Check(
                "expect_column_value_lengths_to_be_between(summary_text)",
                "summary_text",
                lambda gxe, _c: gxe.ExpectColumnValueLengthsToBeBetween(
                    column="summary_text", min_value=None, max_value=SUMMARY_MAX_CHARS
                ),
                _length_reason("summary_text", None, SUMMARY_MAX_CHARS),
            ),
        ),
    )


def _stories_suite() -> _Suite:
    def flagship(column: Any) -> Any:
        # Row condition: only flagship rows are in the domain of the two "implies" checks.
        # GX's Column overloads ==, building a condition (is_in() rejects booleans).
        return column("is_flagship_release") == True  # noqa: E712

    return _Suite(
        name="stories",
        key="id",
        columns=("id", "event_type", "is_flagship_release", "country", "release_key", "score"),
        checks=(
            _not_null("id"),
            _unique("id", lambda v: f"duplicate id {_short(v)} (first occurrence kept)"),
            # in-set and between ignore nulls, so "missing" is checked on its own; it is as
            # critical as a bad value because it means the classifier's output is broken.
            _not_null("event_type", critical=True),
            _Check(
                "expect_column_values_to_be_in_set(event_type)",
                "event_type",
                lambda gxe, _c: gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=sorted(EVENT_TYPES)),
                lambda v: f"event_type {_short(v)} is not in the taxonomy",
                critical=True,
            ),
            _not_null(
                "score",
                reason=lambda v: "score missing" if v is None else f"score is not a number: {_short(v)}",
                critical=True,
            ),
            _Check(
                "expect_column_values_to_be_between(score)",
                "score",
                lambda gxe, _c: gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=1),
                lambda v: f"score {_short(v)} outside 0..1",
                critical=True,
            ),
            _Check(
                "expect_column_values_to_be_in_set(country)",
                "country",
                lambda gxe, _c: gxe.ExpectColumnValuesToBeInSet(column="country", value_set=sorted(ISO_3166_ALPHA2)),
                lambda v: f"country {_short(v)} is not an ISO 3166-1 alpha-2 code",
            ),
            _Check(
                "expect_column_values_to_be_in_set(event_type) if is_flagship_release",
                "event_type",
                lambda gxe, col: gxe.ExpectColumnValuesToBeInSet(
                    column="event_type", value_set=["model_release"], row_condition=flagship(col)
                ),
                lambda v: f"flagship release but event_type is {_short(v)}, not 'model_release'",
            ),
            _Check(
                "expect_column_values_to_not_be_null(release_key) if is_flagship_release",
                "release_key",
                lambda gxe, col: gxe.ExpectColumnValuesToNotBeNull(column="release_key", row_condition=flagship(col)),
                lambda _v: "flagship release without release_key",
            ),
        ),
    )


def _releases_suite() -> _Suite:
    def open_weights(column: Any) -> Any:
        return column("open_weights") == True  # noqa: E712 - GX row condition, not a Python comparison

    return _Suite(
        name="model_releases",
        key="release_key",
        columns=("release_key", "open_weights", "announce_url"),
        checks=(
            _not_null("release_key", critical=True),
            _unique("release_key", lambda v: f"second row for release {_short(v)} (first kept)"),
            _Check(
                "expect_column_values_to_not_be_null(announce_url) if open_weights",
                "announce_url",
                lambda gxe, col: gxe.ExpectColumnValuesToNotBeNull(column="announce_url",
                                                                   row_condition=open_weights(col)),
                lambda _v: "open weights claimed without a weights or announcement link",
            ),
            _Check(
                "expect_column_values_to_match_regex(announce_url) if open_weights",
                "announce_url",
                lambda gxe, col: gxe.ExpectColumnValuesToMatchRegex(column="announce_url", regex=r"^https?://",
                                                                    row_condition=open_weights(col)),
                lambda v: f"open weights claimed but the link {_short(v)} is not http(s)",
            ),
        ),
    )


_SUITES: dict[str, _Suite] = {s.name: s for s in (_entries_suite(), _stories_suite(), _releases_suite())}


# --------------------------------------------------------------------------------------------
# The cached GX context
# --------------------------------------------------------------------------------------------


@dataclass
class _Gx:
    """Everything GX that is built once per process."""

    version: str
    setup_seconds: float  # GX import + context build, paid once per process
    context: Any
    batch_definitions: dict[str, Any]
    suites: dict[str, Any]
    checks_by_id: dict[str, _Check]  # expectation meta id -> check
    # The last few suite results, for build_docs(). Kept as objects (not in GX's store) so a run
    # that never builds docs pays nothing for them, and bounded so a long-lived worker does not grow.
    recent: deque[tuple[str, datetime, str, Any]] = field(default_factory=lambda: deque(maxlen=_RECENT_RESULTS))
    docs_sites: dict[Path, str] = field(default_factory=dict)  # folder -> GX site name
    stored: deque[Any] = field(default_factory=deque)  # result ids currently in GX's store


_gx_state: _Gx | None = None
# GX's context, stores and validator are not documented as thread-safe; batches are small, so
# serializing the validation calls costs little and rules out interleaved runs.
_gx_lock = threading.RLock()
DATASOURCE = "racewatch"


def _quiet_gx_logging() -> None:
    """Turn down GX's INFO chatter (its _docs_decorators logs hundreds of lines at import)."""
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _build_gx() -> _Gx:
    """Import GX and build the ephemeral context, datasource, assets and both suites.

    Not cached itself: code goes through :func:`_gx`, which builds it once per process.
    """
    # Before the import: no usage statistics, ever, whatever the environment says.
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    _quiet_gx_logging()

    started = time.perf_counter()
    with warnings.catch_warnings():
        # GX imports deprecated stdlib modules (sre_parse, ...); not our users' concern.
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.expectations.row_conditions import Column

    config = DataContextConfig(
        # In-memory stores, and no throwaway docs-site directory.
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        # tqdm bars would spam the Airflow task log.
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    datasource = context.data_sources.add_pandas(name=DATASOURCE)

    batch_definitions: dict[str, Any] = {}
    suites: dict[str, Any] = {}
    checks_by_id: dict[str, _Check] = {}
    for spec in _SUITES.values():
        asset = datasource.add_dataframe_asset(name=spec.name)
        batch_definitions[spec.name] = asset.add_batch_definition_whole_dataframe(f"{spec.name}-batch")
        suite = gx.ExpectationSuite(name=spec.name)
        for check in spec.checks:
            expectation = check.build(gxe, Column)
            check_id = f"{spec.name}:{check.name}"
            expectation.meta = {**(expectation.meta or {}), "racewatch_check": check_id}
            suite.add_expectation(expectation)
            checks_by_id[check_id] = check
        suites[spec.name] = context.suites.add(suite)

    return _Gx(
        version=str(gx.__version__),
        setup_seconds=time.perf_counter() - started,
        context=context,
        batch_definitions=batch_definitions,
        suites=suites,
        checks_by_id=checks_by_id,
    )


def _release_batch_data(state: _Gx) -> None:
    """Let go of the validated DataFrame: GX's pandas engine caches the last batch of each asset.

    Left there, a batch's rows outlive the validation (the poll would carry ~25 MB of them into
    DuckDB's load, its memory peak) and a long-lived worker would hold them until the next batch.
    """
    manager = state.context.data_sources.get(DATASOURCE).get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def _gx() -> _Gx:
    """The process-wide GX state, built on first use (a few seconds: the GX import)."""
    global _gx_state
    if _gx_state is None:
        with _gx_lock:
            if _gx_state is None:
                _gx_state = _build_gx()
    return _gx_state


def warm_up() -> None:
    """Import GX and build the context now (e.g. at worker start) instead of on the first batch."""
    _gx()


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def validate_entries(
    rows: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    future_tolerance: timedelta = timedelta(days=2),
) -> ValidationOutcome:
    """Validate normalized feed entries; ``now + future_tolerance`` caps ``published_at``.

    The tolerance exists because feeds publish in local time with wrong offsets and schedule
    posts slightly ahead; anything further in the future is a broken date, not news.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # naive means UTC everywhere in racewatch
    upper = (now + future_tolerance).astimezone(UTC)
    return _validate(_SUITES["entries"], rows, {_PUBLISHED_MAX_PARAM: upper})


def validate_stories(rows: list[dict[str, Any]]) -> ValidationOutcome:
    """Validate classifier output rows (``racewatch classify`` JSON Lines objects)."""
    return _validate(_SUITES["stories"], rows, {})


def validate_releases(rows: list[dict[str, Any]]) -> ValidationOutcome:
    """The ledger rows a batch created or changed: one row per release_key, open weights need a link."""
    return _validate(_SUITES["model_releases"], rows, {})


def batch_warnings(
    outcome: ValidationOutcome,
    *,
    previous_rows: int | None = None,
    max_quarantine_share: float = 0.2,
    min_volume_share: float = 0.5,
) -> list[str]:
    """Batch-level checks: too many quarantined rows, or far fewer rows than the same feeds gave before.

    These compare a batch with a threshold or with history (``previous_rows``: what the same feeds
    delivered last time), which row-level GX expectations cannot see; they warn rather than stop,
    because a quiet news day and a broken feed look alike from one batch.
    """
    warnings = []
    evaluated = len(outcome.valid) + len(outcome.quarantined)
    if evaluated and len(outcome.quarantined) / evaluated > max_quarantine_share:
        warnings.append(f"{outcome.suite}: {len(outcome.quarantined)} of {evaluated} rows quarantined "
                        f"({len(outcome.quarantined) / evaluated:.0%} > {max_quarantine_share:.0%})")
    if previous_rows and evaluated < previous_rows * min_volume_share:
        warnings.append(f"{outcome.suite}: volume dropped to {evaluated} rows from {previous_rows} "
                        f"(< {min_volume_share:.0%})")
    return warnings


def _frame(spec: _Suite, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The batch as GX sees it: only the validated columns, plus the row number.

    Built column by column from ``row.get`` so that a key missing from some or all rows is a null
    (failing not-null checks) rather than a missing column (which GX reports as an error), and so
    that extra payload (lists, nested dicts) never reaches pandas or GX.
    """
    import pandas as pd

    data: dict[str, Any] = {col: [row.get(col) for row in rows] for col in spec.columns}
    if "published_at" in data:
        data["published_at"] = _timestamps(data["published_at"])
    if "score" in data:
        # Non-numbers become NaN, which the score not-null check then reports.
        data["score"] = pd.to_numeric(
            pd.Series([_number_or_none(v) for v in data["score"]], dtype="object"), errors="coerce"
        )
    frame = pd.DataFrame(data)
    frame[_ROW] = range(len(rows))
    return frame


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _timestamps(values: Iterable[Any]) -> pd.Series:
    """Make published_at a tz-aware UTC column GX can compare with its tz-aware bounds.

    Naive datetimes are taken as UTC (racewatch's convention); ISO strings are parsed; anything
    else non-null becomes a pre-1990 sentinel so GX's range check fails it (the reason is
    rendered from the original value, so the sentinel never shows).
    """
    import pandas as pd

    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        try:
            if isinstance(value, datetime | str):
                stamp = pd.Timestamp(value)
                if pd.isna(stamp):
                    out.append(None)
                    continue
                out.append(stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC))
                continue
        except (ValueError, TypeError, OverflowError):
            pass
        out.append(pd.Timestamp(_UNPARSEABLE_TIMESTAMP))
    return pd.to_datetime(pd.Series(out, dtype="object"), utc=True).astype("datetime64[us, UTC]")


def _exception_message(result: Any) -> str | None:
    """GX's error for one expectation result, if it could not be evaluated.

    ``exception_info`` is either one ``{raised_exception, exception_message, ...}`` dict or a
    dict of those keyed by metric id, depending on where the failure happened.
    """
    info = getattr(result, "exception_info", None) or {}
    candidates = [info] if "raised_exception" in info else list(info.values())
    for item in candidates:
        if isinstance(item, dict) and (item.get("raised_exception") or item.get("exception_message")):
            message = str(item.get("exception_message") or "unknown error")
            return " ".join(message.split())[:200]
    return None


def _validate(spec: _Suite, rows: list[dict[str, Any]], parameters: dict[str, Any]) -> ValidationOutcome:
    if not rows:
        return ValidationOutcome(
            suite=spec.name,
            valid=[],
            quarantined=[],
            success=True,
            stats={"evaluated": 0, "valid": 0, "quarantined": 0, "failed": {}, "seconds": 0.0},
            critical_failure=None,
        )

    fresh = _gx_state is None
    state = _gx()
    # Timed after the one-time setup so "seconds" is the per-batch cost; the setup is reported
    # separately on the call that paid it.
    started = time.perf_counter()
    frame = _frame(spec, rows)
    result_format = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [_ROW],
        "return_unexpected_index_query": False,
        "partial_unexpected_count": 0,
    }
    gx_started = time.perf_counter()
    with _gx_lock:
        batch = state.batch_definitions[spec.name].get_batch(batch_parameters={"dataframe": frame})
        suite_result = batch.validate(
            state.suites[spec.name], result_format=result_format, expectation_parameters=parameters
        )
        state.recent.append((spec.name, datetime.now(UTC), batch.id, suite_result))
        _release_batch_data(state)
    gx_seconds = time.perf_counter() - gx_started

    # row number -> [(suite position, check, reason)]
    failures: dict[int, list[tuple[int, _Check, str]]] = {}
    order = {check.name: i for i, check in enumerate(spec.checks)}
    failed_counts: dict[str, int] = {}
    gx_unexpected: dict[str, int] = {}
    errors: list[str] = []
    critical: list[str] = []

    for result in suite_result.results:
        check = state.checks_by_id[result.expectation_config.meta["racewatch_check"]]
        error = _exception_message(result)
        if error is not None:
            errors.append(f"{check.name} could not be evaluated: {error}")
            continue
        details = result.result or {}
        unexpected = int(details.get("unexpected_count") or 0)
        gx_unexpected[check.name] = unexpected
        if result.success and not unexpected:
            continue
        # The denominator is the batch, not GX's element_count (which a row condition would
        # shrink): "more than half of the rows" is what stops the pipeline.
        if check.critical and unexpected / len(rows) > CRITICAL_SHARE:
            critical.append(f"{check.name} failed for {unexpected} of {len(rows)} rows ({unexpected / len(rows):.0%})")
        index_list = details.get("unexpected_index_list") or []
        if unexpected and not index_list:
            # GX failed rows it did not name: nothing to quarantine, so the batch cannot pass.
            errors.append(f"{check.name}: GX reported {unexpected} failures without row indices")
            continue
        positions = sorted(int(item[_ROW]) for item in index_list)
        if check.keep_first:
            positions = _drop_first_occurrences(positions, rows, check.column)
        for pos in positions:
            reason = check.reason(rows[pos].get(check.column))
            failures.setdefault(pos, []).append((order[check.name], check, reason))
            failed_counts[check.name] = failed_counts.get(check.name, 0) + 1

    valid: list[dict[str, Any]] = []
    quarantined: list[Quarantined] = []
    for pos, row in enumerate(rows):
        row_failures = failures.get(pos)
        if not row_failures:
            valid.append(row)
            continue
        row_failures.sort(key=lambda item: item[0])
        key = row.get(spec.key)
        quarantined.append(
            Quarantined(
                key="" if key is None else str(key),
                expectation=row_failures[0][1].name,
                reason="; ".join(reason for _, _, reason in row_failures),
                row=_jsonable(row),
            )
        )

    critical_failure: str | None = None
    if errors or critical:
        critical_failure = f"{spec.name}: " + "; ".join([*critical, *errors])

    seconds = time.perf_counter() - started
    stats: dict[str, Any] = {
        "evaluated": len(rows),
        "valid": len(valid),
        "quarantined": len(quarantined),
        "failed": failed_counts,
        "gx_unexpected": gx_unexpected,
        "expectations": len(spec.checks),
        "errors": errors,
        "seconds": round(seconds, 4),
        "gx_seconds": round(gx_seconds, 4),
        "gx_setup_seconds": round(state.setup_seconds, 4) if fresh else 0.0,
        "gx_version": state.version,
    }
    outcome = ValidationOutcome(
        suite=spec.name,
        valid=valid,
        quarantined=quarantined,
        success=not quarantined and not errors,
        stats=stats,
        critical_failure=critical_failure,
    )
    log = logger.warning if (quarantined or critical_failure) else logger.info
    log(
        "quality %s: %d rows, %d valid, %d quarantined in %.2fs%s",
        spec.name,
        len(rows),
        len(valid),
        len(quarantined),
        seconds,
        f"; CRITICAL: {critical_failure}" if critical_failure else "",
    )
    return outcome


def _drop_first_occurrences(positions: list[int], rows: list[dict[str, Any]], column: str) -> list[int]:
    """Of the rows GX flagged as sharing a value, keep the first of each value (batch policy)."""
    seen: set[Any] = set()
    rest: list[int] = []
    for pos in positions:  # ascending, so the first seen is the first occurrence
        value = rows[pos].get(column)
        marker = (type(value).__name__, repr(value))
        if marker in seen:
            rest.append(pos)
        else:
            seen.add(marker)
    return rest


def _jsonable(value: Any) -> Any:
    """A JSON-serializable copy of a row: datetimes as ISO strings, NaN as null, sets as lists."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def build_docs(directory: Path) -> Path:
    """Render GX Data Docs for this process's recent validations into ``directory/data_docs``.

    Returns the site's ``index.html``. Cheap (a fraction of a second per build, plus ~4 MB of
    static assets copied on the first build) and offline to build; the pages themselves pull
    CSS/JS from public CDNs when opened in a browser. Only the last ``_RECENT_RESULTS`` batches
    validated in this process are listed: the ephemeral context keeps nothing across processes,
    and the durable record is :func:`write_results` plus the ``quarantine`` table.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    state = _gx()
    folder = (Path(directory) / "data_docs").resolve()
    with _gx_lock:
        site = state.docs_sites.get(folder)
        if site is None:
            site = f"racewatch-{len(state.docs_sites)}"
            state.context.add_data_docs_site(
                site,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(folder),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
            state.docs_sites[folder] = site
        store = state.context.validation_results_store
        for key in state.stored:
            store.remove_key(key)
        state.stored.clear()
        for suite_name, run_time, batch_id, result in state.recent:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                run_id=RunIdentifier(run_name=f"{suite_name}-{run_time:%Y%m%dT%H%M%S%fZ}", run_time=run_time),
                batch_identifier=batch_id,
            )
            store.set(key, result)
            state.stored.append(key)
        urls = state.context.build_data_docs(site_names=[site])
    return Path(urls[site].removeprefix("file://"))


# --------------------------------------------------------------------------------------------
# Results on disk
# --------------------------------------------------------------------------------------------


def write_results(outcome: ValidationOutcome, directory: Path) -> Path:
    """Write the outcome summary as JSON under ``directory/validations/`` and return its path.

    The file is what the task log links to: suite, success, critical failure, stats and one line
    per quarantined row (the rows themselves go to the ``quarantine`` table, not here). Written
    to a temporary name and renamed so a reader never sees half a file.
    """
    folder = Path(directory) / "validations"
    folder.mkdir(parents=True, exist_ok=True)
    written_at = datetime.now(UTC)
    stamp = written_at.strftime("%Y%m%dT%H%M%S%fZ")
    payload = {
        "suite": outcome.suite,
        "success": outcome.success,
        "critical_failure": outcome.critical_failure,
        "written_at": written_at.isoformat(),
        "stats": _jsonable(outcome.stats),
        "quarantined": [{"key": q.key, "expectation": q.expectation, "reason": q.reason} for q in outcome.quarantined],
    }
    text = json.dumps(payload, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    for attempt in range(100):
        suffix = "" if attempt == 0 else f"-{attempt}"
        path = folder / f"{outcome.suite}-{stamp}{suffix}.json"
        if path.exists():
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return path
    raise FileExistsError(f"no free file name for {outcome.suite}-{stamp} in {folder}")
