# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill_report module's body: records in, the report built once, each format written atomically."""

from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.report import (
    render_html, render_json, render_junit, render_markdown, verdicts)

# Format name -> (file name, renderer). The file names are what CI jobs and auditors are told to look for.
FORMATS: Dict[str, Any] = {
    "json": ("report.json", render_json.render),
    "junit": ("report.xml", render_junit.render),
    "markdown": ("report.md", render_markdown.render),
    "html": ("report.html", render_html.render),
}


def _write(module: AnsibleModule, path: str, text: str) -> None:
    """Write next to the target, then rename: a reader never sees half a report, and a failure loses no old one."""
    folder = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(prefix=".report-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        module.atomic_move(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _render_all(report: Dict[str, Any], formats: list) -> Dict[str, str]:
    texts = {}
    for name in formats:
        render: Callable[[Dict[str, Any]], str] = FORMATS[name][1]
        texts[name] = render(report)
    return texts


def run_report(module: AnsibleModule) -> None:
    params = module.params
    dest = os.path.abspath(params["dest"])
    try:
        report = verdicts.build_report(params["records"], params["settings"] or {}, title=params["title"],
                                       lost_hosts=params["lost_hosts"])
    except HypervError as exc:
        module.fail_json(msg="drill_report: %s" % exc)
    # Rendered before anything is written: a renderer error leaves the previous report whole.
    texts = _render_all(report, params["formats"])
    files = {name: os.path.join(dest, FORMATS[name][0]) for name in params["formats"]}
    if not module.check_mode:
        try:
            os.makedirs(dest, exist_ok=True)
            for name, text in texts.items():
                _write(module, files[name], text)
        except OSError as exc:
            module.fail_json(msg="cannot write the drill report to %s: %s" % (dest, exc), report=report)
    for vm in verdicts.left_failed_over(report):
        module.warn("LEFT FAILED OVER: %s" % vm)
    recorded = {str(record.get("host")) for record in params["records"]}
    lost = [host for host in report["hosts"] if host["name"] in params["lost_hosts"] and host["name"] not in recorded]
    for host in lost:
        module.warn(host["error"])
    module.exit_json(changed=not module.check_mode, report=report, files=files, dest=dest, result=report["result"],
                     left_failed_over=verdicts.left_failed_over(report), lost_hosts=[h["name"] for h in lost],
                     table=render_markdown.summary_table(report), msg=verdicts.summary(report))
