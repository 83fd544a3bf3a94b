"""Regions from geotags and free-text profile locations, by the shipped gazetteer."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from uproar.config import load_brands
from uproar.errors import ConfigError
from uproar.simulate import load_scenario, simulate
from uproar.sources import ingest
from uproar.sources.regions import RegionResolver, load_gazetteer, words
from uproar.store import Store


@pytest.fixture(scope="module")
def resolver() -> RegionResolver:
    return RegionResolver(prefer=["NZ"])


@pytest.mark.parametrize(
    ("location", "region"),
    [
        ("Auckland, New Zealand", "NZ-AUK"),
        ("South Auckland 🇳🇿", "NZ-AUK"),
        ("Welly, NZ", "NZ-WGN"),
        ("Ōtautahi", "NZ-CAN"),
        ("Hawke's Bay", "NZ-HKB"),
        ("palmerston north / manawatū", "NZ-MWT"),
        ("Perth", "AU-WA"),  # listed first; no country says otherwise
        ("Perth, Scotland", "GB-PKN"),  # the country in the text settles it
        ("Victoria BC", "CA-BC"),  # the longer name wins
        ("Victoria, Australia", "AU-VIC"),
        ("Seattle, WA", "US-WA"),
        ("London", "GB-LND"),
        ("Aotearoa", "NZ"),  # a country and no region in it
        ("🇮🇪", "IE"),
        ("the internet", None),
        ("perthshire", "GB-PKN"),
        ("", None),
    ],
)
def test_profile_locations(resolver: RegionResolver, location: str, region: str | None) -> None:
    assert resolver.region(location=location) == region


def test_whole_words_only(resolver: RegionResolver) -> None:
    assert resolver.resolve("Aucklandish") is None
    assert resolver.resolve("uk") == "GB" and resolver.resolve("duke") is None


def test_brands_countries_settle_ambiguous_names() -> None:
    # "Hamilton" is listed for the Waikato; Ontario's is "Hamilton ON".
    assert RegionResolver(prefer=["NZ"]).region(location="Hamilton") == "NZ-WKO"
    assert RegionResolver().region(location="Hamilton ON, Canada") == "CA-ON"
    # "Perth" means Scotland's for a brand that serves only the UK.
    assert RegionResolver(prefer=["GB"]).region(location="Perth") == "GB-PKN"


def test_the_geotag_beats_the_profile(resolver: RegionResolver) -> None:
    # Posted from Wellington by someone whose profile says Auckland.
    assert resolver.region(place="Wellington", country="NZ", location="Auckland") == "NZ-WGN"
    # A geotag that names no known place keeps the profile's region in the same country...
    assert resolver.region(place="Somewhere", country="NZ", location="Dunedin") == "NZ-OTA"
    # ...but not one in another country: the post was made in NZ.
    assert resolver.region(place="Somewhere", country="NZ", location="London") == "NZ"
    assert resolver.region(place="Perth", country="GB") == "GB-PKN"
    assert resolver.region() is None


def test_words_fold_case_accents_and_apostrophes() -> None:
    assert words("Hawke’s BAY, Ōtautahi!") == ("hawkes", "bay", "otautahi")


def test_a_bad_gazetteer_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "gazetteer.toml"
    bad.write_text('[regions]\nNZ_AUK = ["auckland"]\n')
    with pytest.raises(ConfigError, match=r"regions\.NZ_AUK is not an ISO 3166-2 code"):
        load_gazetteer(bad)
    bad.write_text('[countries]\nNZ = "new zealand"\n')
    with pytest.raises(ConfigError, match=r"countries\.NZ must be a list of names"):
        load_gazetteer(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_gazetteer(tmp_path / "missing.toml")


def test_a_users_gazetteer(tmp_path: Path) -> None:
    own = tmp_path / "gazetteer.toml"
    own.write_text('[regions]\nNZ-AUK = ["jafa land"]\n')
    mine = RegionResolver(load_gazetteer(own))
    assert mine.region(location="JAFA land") == "NZ-AUK"
    assert mine.region(location="Auckland") is None


def test_a_regional_outage_shows_in_the_stored_regions(tmp_path: Path) -> None:
    """Simulated lower-North-Island storm: the incident's posts come from the two regions
    the truth names, read mostly from profile locations (few posts are geotagged)."""
    run = simulate(load_scenario("regional-mobile-outage"), tmp_path / "storm.jsonl", seed=3)
    (truth,) = run.truth["incidents"]
    onset, end = (datetime.fromisoformat(truth[k]).replace(tzinfo=None) for k in ("onset", "end"))
    with Store(tmp_path / "storm.duckdb") as store:
        ingest([run.out], store, load_brands(run.brands_path))
        rows = store.connection.execute(
            """SELECT region, place IS NOT NULL AS geotagged FROM posts
               WHERE created_at >= $onset AND created_at < $end
                 AND list_contains(brands, $brand) AND own_brand IS NULL""",
            {"onset": onset, "end": end, "brand": truth["brand"]},
        ).fetchall()
    regions = Counter(region for region, _ in rows if region)
    top_two = {region for region, _ in regions.most_common(2)}
    assert top_two == set(truth["regions"])  # {"NZ-WGN", "NZ-MWT"}
    assert sum(regions.values()) > 3 * sum(geotagged for _, geotagged in rows)


@pytest.mark.parametrize(
    ("location", "region"),
    [
        # issue 10: "City, ST" was unresolved, and Ontario's London was England's
        ("Tallahassee, FL", "US-FL"),
        ("Cambridge, MA", "US-MA"),
        ("London, ON", "CA-ON"),
        ("London, Ontario", "CA-ON"),
        ("London, Ontario, Canada", "CA-ON"),
        ("London, Canada", "CA"),  # the country outranks a bare city name elsewhere
        ("Birmingham, Michigan", "US-MI"),
        ("Portland, ME", "US-ME"),  # the state, not Oregon's Portland
        ("Newcastle, NSW", "AU-NSW"),
        ("Perth, WA", "AU-WA"),  # WA is a state of both: Perth settles it
        ("Bellevue, WA", "US-WA"),  # no other name: the first country listed
        ("Seattle, WA", "US-WA"),
        ("Natick, MA, USA", "US-MA"),
        ("Austin, TX 78701", "US-TX"),
        ("Austin TX", "US-TX"),
        ("Columbia, Mo.", "US-MO"),
        ("Thunder Bay, ON, Canada", "CA-ON"),
        # a country's own code is the country, not a state
        ("Toronto, CA", "CA-ON"),
        ("Berlin, DE", "DE-BE"),
        ("Mumbai, IN", "IN-MH"),
        # two cities: the first still wins; only a state's own name outranks a city
        ("Chicago, Mumbai", "US-IL"),
        ("New York, London, Tokyo", "US-NY"),
        ("Birmingham, England", "GB-BIR"),
        ("Perth, Scotland", "GB-PKN"),
        # not an abbreviation: lower case without a comma, or more words after the comma
        ("i am in", None),
        ("Home, in bed", None),
        ("ROCK ON", None),
    ],
)
def test_city_state_locations(location: str, region: str | None) -> None:
    assert RegionResolver().region(location=location) == region


def test_a_brands_country_settles_a_shared_state_code() -> None:
    assert RegionResolver(prefer=["AU"]).region(location="Midland, WA") == "AU-WA"
    assert RegionResolver().region(location="Midland, WA") == "US-WA"


def test_abbreviations_must_name_listed_regions(tmp_path: Path) -> None:
    bad = tmp_path / "gazetteer.toml"
    bad.write_text('[countries]\nUS = ["usa"]\n[regions]\nUS-FL = ["florida"]\n'
                   '[abbreviations]\nUS = ["FL", "ZZ"]\n')  # fmt: skip
    with pytest.raises(ConfigError, match="ZZ needs a region US-ZZ"):
        load_gazetteer(bad)


def test_csv_profile_locations_become_regions(tmp_path: Path) -> None:
    export = tmp_path / "e.csv"
    export.write_text(
        "id,created_at,text,username,user_location\n"
        '1,2014-09-06T10:00:00Z,a,x,"Tallahassee, FL"\n'
        '2,2014-09-06T10:00:00Z,b,y,"London, ON"\n'
    )
    with Store(":memory:") as store:
        ingest([export], store, {})
        assert {p.id: p.region for p in store.posts()} == {"1": "US-FL", "2": "CA-ON"}
