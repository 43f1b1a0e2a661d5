# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Screenshot a drill's report.html with headless Chromium and check that the timeline chart is in the picture.

Parsing the HTML would only prove the markup is there; the screenshot proves a browser drew the bars. The
bars have fixed colours (plugins/module_utils/report/render_html.py), so the check counts pixels of each colour and
the horizontal bands they form: one band per VM row. Bands shorter than the bars' minimum height (such as the
legend's keys) are not counted.

    python screenshot.py REPORT_HTML OUT_PNG [--expect-rows N] [--no-revert]

Exit 0: chart found; 1: chart missing or incomplete; 2: no browser or the screenshot could not be taken.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

COLOURS = {"failover": "#1f6feb", "failed_over": "#2da44e", "revert": "#bf8700", "failed": "#cf222e"}
REQUIRED = ("failover", "failed_over", "revert")
TOLERANCE = 6  # per channel, for antialiased edges and colour management
MIN_RUN = 4  # pixels of a colour in one image row before the row counts: bars are at least 4 px wide
MIN_BAND = 8  # rows a band needs: bars are at least 8 px tall, legend keys are 6
DEFAULT_CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 60
WIDTH = 1400
MIN_HEIGHT, MAX_HEIGHT = 1000, 16000


def parse_colour(text: str) -> tuple[int, int, int]:
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


def _mask(channels, colour: tuple[int, int, int]):
    """A greyscale image, 255 where the pixel is within TOLERANCE of ``colour`` on every channel."""
    from PIL import ImageChops  # pylint: disable=import-outside-toplevel  # only the analysis needs Pillow

    masks = [channel.point([255 if abs(level - target) <= TOLERANCE else 0 for level in range(256)])
             for channel, target in zip(channels, colour)]
    return ImageChops.darker(ImageChops.darker(masks[0], masks[1]), masks[2])


def _bands(row_counts: list[int]) -> list[tuple[int, int]]:
    """(first row, row after the last) of each run of at least MIN_BAND rows holding MIN_RUN matching pixels."""
    found, start = [], None
    for row, matching in enumerate(row_counts + [0]):
        if matching >= MIN_RUN and start is None:
            start = row
        elif matching < MIN_RUN and start is not None:
            if row - start >= MIN_BAND:
                found.append((start, row))
            start = None
    return found


def _colour_figures(channels, width: int, colour: str) -> dict:
    data = _mask(channels, parse_colour(colour)).tobytes()
    row_counts = [data[offset:offset + width].count(255) for offset in range(0, len(data), width)]
    bands = _bands(row_counts)
    return {"colour": colour, "pixels": sum(sum(row_counts[first:end]) for first, end in bands),
            "pixels_anywhere": sum(row_counts), "bands": len(bands)}


def analyse(png_path: str, expect_rows: Optional[int] = None,
            required: tuple[str, ...] = REQUIRED) -> tuple[bool, dict]:
    """Whether the screenshot shows the timeline, and the figures that decided it.

    Each of the ``required`` colours (failover, failed-over and revert) must fill some bar-sized band; with
    ``expect_rows`` the failover colour must form at least that many separate bands, one per VM row.
    """
    from PIL import Image  # pylint: disable=import-outside-toplevel

    with Image.open(png_path) as image:
        rgb = image.convert("RGB")
    channels = rgb.split()
    figures = {"size": list(rgb.size), "colours": {name: _colour_figures(channels, rgb.size[0], colour)
                                                   for name, colour in COLOURS.items()}, "problems": []}
    for name in required:
        if not figures["colours"][name]["pixels"]:
            figures["problems"].append("no %s bar (%s) found" % (name, COLOURS[name]))
    bands = figures["colours"]["failover"]["bands"]
    if expect_rows is not None and bands < expect_rows:
        figures["problems"].append("failover bars in %d rows, expected at least %d" % (bands, expect_rows))
    return not figures["problems"], figures


def find_chromium() -> Optional[str]:
    candidate = os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM
    found = shutil.which(candidate)
    return found if found and os.access(found, os.X_OK) else None


def page_height(html_path: str) -> int:
    """A window tall enough for the whole page: the timeline's own height plus a line per table row and item."""
    text = Path(html_path).read_text(encoding="utf-8", errors="replace")
    svg = re.search(r'<svg id="timeline"[^>]*\sheight="(\d+)"', text)
    lines = len(re.findall(r"<(?:tr|li)\b", text))
    estimate = 900 + (int(svg.group(1)) if svg else 0) + 40 * lines
    return max(MIN_HEIGHT, min(MAX_HEIGHT, estimate))


def screenshot(chromium: str, html_path: str, png_path: str, height: int, timeout: int = TIMEOUT) -> Optional[str]:
    """Take the screenshot; None when it worked, else what went wrong."""
    profile = tempfile.mkdtemp(prefix="screenshot-chromium-")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", "--force-device-scale-factor=1", "--user-data-dir=" + profile,
               "--window-size=%d,%d" % (WIDTH, height), "--screenshot=" + str(Path(png_path).resolve()),
               Path(html_path).resolve().as_uri()]
    try:
        Path(png_path).unlink(missing_ok=True)
        return _run(command, timeout) or (None if Path(png_path).is_file() else "chromium wrote no screenshot")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _run(command: list[str], timeout: int) -> Optional[str]:
    # Its own session, so a timeout kills Chromium's helper processes too, not only the launcher.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as proc:
        try:
            err = proc.communicate(timeout=timeout)[1]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "chromium did not finish within %d s" % timeout
    if proc.returncode:
        return "chromium exited %d: %s" % (proc.returncode, err.decode("utf-8", "replace")[-2000:])
    return None


def _print_figures(png_path: str, ok: bool, figures: dict) -> None:
    print("screenshot: %s (%dx%d)" % (png_path, figures["size"][0], figures["size"][1]))
    for name, found in figures["colours"].items():
        print("  %-12s %s  pixels in bars %7d  anywhere %7d  bands %d" % (
            name, found["colour"], found["pixels"], found["pixels_anywhere"], found["bands"]))
    print("timeline chart: %s" % ("found" if ok else "NOT found: " + "; ".join(figures["problems"])))
    print("figures: " + json.dumps(figures, sort_keys=True))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("html", help="the report.html to open")
    parser.add_argument("png", help="where to write the screenshot (kept)")
    parser.add_argument("--expect-rows", type=int, default=None, help="VM rows that must show a failover bar")
    parser.add_argument("--no-revert", action="store_true",
                        help="the drill ran with revert: false, so there are no revert bars to require")
    parser.add_argument("--height", type=int, default=None, help="window height (default: estimated from the page)")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found (%s; set CHROMIUM to another path): run `make browser` to install it"
              % (os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM), file=sys.stderr)
        return 2
    trouble = screenshot(chromium, args.html, args.png, args.height or page_height(args.html))
    if trouble:
        print("screenshot failed: " + trouble, file=sys.stderr)
        return 2
    required = tuple(name for name in REQUIRED if not (args.no_revert and name == "revert"))
    ok, figures = analyse(args.png, args.expect_rows, required)
    _print_figures(args.png, ok, figures)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
