"""The release ledger: the first story sets a release, later coverage only adds outlets and fills gaps."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from racewatch.store import db
from racewatch.store.stories import ClassifiedStory, save_classified

T0 = datetime(2026, 11, 28, 9, 0)


def story(i: int, feed: str, facts: dict, *, flagship: bool = True) -> ClassifiedStory:
    label = {"is_ai_competition": True, "event_type": "model_release", "is_flagship_release": flagship,
             "orgs": ["Moonshot AI"], "models": ["Kimi K2.5"], "country": "CN", "release_key": "moonshot-ai/kimi-k2.5",
             "score": 0.9, "reasons": ["test"]}
    seen = T0 + timedelta(minutes=i)
    return ClassifiedStory(f"{feed}:{i}", feed, f"Kimi K2.5 story {i}", f"https://{feed}.example/{i}", seen, seen,
                           label, facts)


coverage = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]),
              st.fixed_dictionaries({"parameters": st.sampled_from([None, "1T", "1.2T"]),
                                     "open_weights": st.sampled_from([None, True, False]),
                                     "claim": st.sampled_from([None, "world's most powerful open-source model"])}),
              st.booleans()),
    min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(coverage)
def test_one_release_however_coverage_arrives(tmp_path_factory, items) -> None:
    path = tmp_path_factory.mktemp("ledger") / "r.duckdb"
    stories = [story(i, feed, facts, flagship=flag) for i, (feed, facts, flag) in enumerate(items)]
    with db.connect(path) as con:
        for s in stories:  # one story per batch, as if each came in its own poll
            save_classified(con, [s], [s.entry_key], "v", channel="#c", alert_max_age=None)
        releases = con.execute("SELECT parameters, open_weights, outlets, first_entry_key, provenance "
                               "FROM model_releases").fetchall()
        roots = con.execute("SELECT count(*) FROM alerts WHERE kind = 'release_root'").fetchone()[0]
    flagships = [s for s in stories if s.label["is_flagship_release"]]
    if not flagships:
        assert releases == [] and roots == 0  # no release without a flagship story
        return
    assert len(releases) == 1 and roots == 1
    parameters, open_weights, outlets, first, provenance = releases[0]
    first_flagship = flagships[0]
    assert first == first_flagship.entry_key
    # every story from the first flagship on covers the release (earlier ones had nothing to cover)
    assert outlets == len({s.feed_id for s in stories[stories.index(first_flagship):]})
    expected_params = next((s.facts["parameters"] for s in flagships if s.facts["parameters"]), None)
    assert parameters == expected_params
    expected_open = next((s.facts["open_weights"] for s in flagships if s.facts["open_weights"] is not None), None)
    assert open_weights == expected_open
    if expected_params:
        source = next(s for s in flagships if s.facts["parameters"])
        assert f'"parameters":"{source.entry_key}"' in provenance.replace(" ", "")


def test_a_replayed_batch_adds_nothing(tmp_path: Path) -> None:
    s = story(0, "a", {"parameters": "1T", "open_weights": True, "claim": None})
    with db.connect(tmp_path / "r.duckdb") as con:
        first = save_classified(con, [s], [s.entry_key], "v", channel="#c", alert_max_age=None)
        again = save_classified(con, [s], [s.entry_key], "v", channel="#c", alert_max_age=None)
    assert (first.new_releases, first.alerts_enqueued) == (1, 1)
    assert (again.new_releases, again.alerts_enqueued, again.coverage_added) == (0, 0, 0)
