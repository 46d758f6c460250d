"""``--vary`` axes, the grid, and validation of every point before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanrush.capacity.grid import Axis, grid, load_points, parse_axis
from scanrush.errors import InputError

SMOKE = Path(__file__).parents[2] / "scenarios" / "smoke.yaml"


def test_ranges_lists_and_yaml_values() -> None:
    assert parse_axis("gateway.workers=6..9").values == ("6", "7", "8", "9")
    assert parse_axis("gateway.workers=6..12:3").values == ("6", "9", "12")
    assert parse_axis("shoppers.huabei_share=40%, 60%").values == ("40%", "60%")
    axis = parse_axis("networks.wired.outages=[],[{at: 1m, for: 1m}]")
    assert axis.values == ("[]", "[{at: 1m, for: 1m}]")


@pytest.mark.parametrize("text", ["gateway.workers", "gateway.workers=", "=1,2", "x=9..3", "x=1,,2", "x=1,1"])
def test_bad_axes_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_axis(text)


def test_grid_is_row_major_and_labels_points() -> None:
    points = grid([Axis("a", ("1", "2")), Axis("b", ("x", "y", "z"))])
    assert len(points) == 6
    assert points[1].settings == (("a", "1"), ("b", "y"))
    assert points[3].overrides == ["a=2", "b=x"]
    with pytest.raises(InputError, match="twice"):
        grid([Axis("a", ("1",)), Axis("a", ("2",))])


def test_every_bad_point_is_named_before_anything_runs() -> None:
    points = grid([parse_axis("gateway.workers=2,0,-1")])
    with pytest.raises(InputError) as caught:
        load_points(str(SMOKE), ["replications=1"], points)
    message = str(caught.value)
    assert "2 of 3 grid points" in message
    assert "grid point 1 (gateway.workers=0)" in message
    assert "grid point 2 (gateway.workers=-1)" in message
    assert "grid point 0" not in message


def test_an_unknown_path_is_named_with_a_suggestion() -> None:
    with pytest.raises(InputError, match=r"gateway\.wrokers|wrokers"):
        load_points(str(SMOKE), [], grid([parse_axis("gateway.wrokers=4")]))
