"""Which regions an incident names: the over-represented ones, else the whole country."""

from __future__ import annotations

from collections import Counter

from uproar.detect.describe import affected_regions

USUAL = Counter({"NZ-AUK": 400, "NZ-WGN": 200, "NZ-CAN": 100, "NZ-MWT": 40, "NZ-OTA": 40})


def test_a_regional_outage_names_its_regions() -> None:
    storm = Counter({"NZ-WGN": 260, "NZ-MWT": 70, "NZ-AUK": 40, "NZ-CAN": 12, "NZ-OTA": 5})
    assert set(affected_regions(storm, USUAL)) == {"NZ-WGN", "NZ-MWT"}


def test_a_nationwide_outage_is_the_country_not_noise() -> None:
    # Every region up about sixfold; shares wobble a little, as they do.
    nationwide = Counter(
        {"NZ-AUK": 2350, "NZ-WGN": 1260, "NZ-CAN": 590, "NZ-MWT": 260, "NZ-OTA": 230}
    )
    assert affected_regions(nationwide, USUAL) == ("NZ",)


def test_without_history_every_region_counts_and_without_regions_none() -> None:
    assert affected_regions(Counter({"AU": 30}), Counter()) == ("AU",)
    assert affected_regions(Counter(), USUAL) == ()
