"""The dr_drill target's screenshot checker decides from pixels alone whether the timeline chart was drawn.

Its analysis runs here on images drawn with Pillow, so no browser is needed; taking real screenshots is the
integration target's job.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")

SCRIPT = Path(__file__).resolve().parents[3] / "integration" / "targets" / "dr_drill" / "files" / "screenshot.py"
BLUE, GREEN, GOLD, RED = (0x1f, 0x6f, 0xeb), (0x2d, 0xa4, 0x4e), (0xbf, 0x87, 0x00), (0xcf, 0x22, 0x2e)


@pytest.fixture(scope="module")
def screenshot():
    spec = importlib.util.spec_from_file_location("dr_drill_screenshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def draw(path: Path, rows: int, colours=(BLUE, GREEN, GOLD), legend: bool = True, shift: int = 0) -> str:
    """A page-like image: an optional legend of thin keys, then ``rows`` rows of 14 px bars."""
    image = Image.new("RGB", (600, 400), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    if legend:
        for index, colour in enumerate((BLUE, GREEN, GOLD, RED)):
            pen.rectangle((20 + 60 * index, 10, 41 + 60 * index, 15), fill=colour)  # 22 x 6, like the page's keys
    for row in range(rows):
        top = 60 + 30 * row
        left = 200
        for colour, width in zip(colours, (6, 180, 4)):
            tinted = tuple(min(255, channel + shift) for channel in colour)
            pen.rectangle((left, top, left + width - 1, top + 13), fill=tinted)
            left += width
    image.save(path)
    return str(path)


def test_three_rows_of_bars_pass_with_three_expected_and_fail_with_four(screenshot, tmp_path):
    png = draw(tmp_path / "three.png", 3)
    ok, figures = screenshot.analyse(png, 3)
    assert ok, figures
    assert figures["colours"]["failover"]["bands"] == 3
    assert figures["colours"]["failover"]["pixels"] == 3 * 6 * 14
    assert figures["colours"]["revert"]["pixels"] == 3 * 4 * 14
    ok, figures = screenshot.analyse(png, 4)
    assert not ok
    assert "failover bars in 3 rows, expected at least 4" in figures["problems"]


def test_blank_image_fails(screenshot, tmp_path):
    png = tmp_path / "blank.png"
    Image.new("RGB", (600, 400), (255, 255, 255)).save(png)
    ok, figures = screenshot.analyse(str(png))
    assert not ok
    assert len(figures["problems"]) == 3
    assert all(found["pixels"] == 0 for found in figures["colours"].values())


def test_legend_alone_is_not_a_chart(screenshot, tmp_path):
    ok, figures = screenshot.analyse(draw(tmp_path / "legend.png", 0), None)
    assert not ok
    assert figures["colours"]["failover"]["pixels_anywhere"] == 22 * 6
    assert figures["colours"]["failover"]["bands"] == 0


def test_missing_revert_bars_fail_unless_not_required(screenshot, tmp_path):
    png = draw(tmp_path / "norevert.png", 2, colours=(BLUE, GREEN))
    ok, figures = screenshot.analyse(png, 2)
    assert not ok and figures["problems"] == ["no revert bar (#bf8700) found"]
    ok, figures = screenshot.analyse(png, 2, ("failover", "failed_over"))
    assert ok, figures


@pytest.mark.parametrize("shift, found", [(6, True), (7, False)])
def test_colour_tolerance(screenshot, tmp_path, shift, found):
    ok = screenshot.analyse(draw(tmp_path / "tinted.png", 1, legend=False, shift=shift), 1)[0]
    assert ok is found


def test_touching_rows_count_as_one_band(screenshot):
    assert screenshot._bands([0] * 3 + [5] * 14 + [0] + [5] * 14 + [3] * 2) == [(3, 17), (18, 32)]
    assert screenshot._bands([5] * 7) == []
    assert screenshot._bands([5] * 8) == [(0, 8)]


def test_missing_browser_exits_2_and_says_how_to_get_one(screenshot, tmp_path, monkeypatch, capsys):
    html = tmp_path / "report.html"
    html.write_text("<!DOCTYPE html><p>no chart</p>", encoding="utf-8")
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert screenshot.main([str(html), str(tmp_path / "out.png")]) == 2
    assert "make browser" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_window_height_grows_with_the_page(screenshot, tmp_path):
    small, large = tmp_path / "small.html", tmp_path / "large.html"
    small.write_text('<svg id="timeline" width="1280" height="50"></svg>', encoding="utf-8")
    large.write_text('<svg id="timeline" width="1280" height="3000"></svg>' + "<tr></tr>" * 100, encoding="utf-8")
    assert screenshot.page_height(str(small)) == screenshot.MIN_HEIGHT
    assert screenshot.page_height(str(large)) == 900 + 3000 + 40 * 100
