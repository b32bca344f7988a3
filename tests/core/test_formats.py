"""The one way a share reads in text a user sees."""

from __future__ import annotations

from filterscope.core.base.formats import percent


def test_percent_reads_a_fraction_as_the_readme_writes_it() -> None:
    assert percent(0.5114) == "51.1 %"
    assert percent(0.8254) == "82.5 %"
    assert percent(1.0) == "100.0 %" and percent(0.0) == "0.0 %"
    assert percent(0.2, 0) == "20 %"
    assert percent(None) == "-"
