"""Running a module's main() in-process, as Ansible would, with its result caught instead of printed."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Exited(Exception):
    """How the module ended: ``failed`` for fail_json, ``result`` as it would reach Ansible (plus ``warnings``)."""

    def __init__(self, failed: bool, result: dict) -> None:
        super().__init__(result.get("msg"))
        self.failed = failed
        self.result = result


def run(module, args: dict, check_mode: bool = False) -> Exited:
    def exit_json(_self, **result):
        raise Exited(False, result)

    def fail_json(_self, msg, **result):
        raise Exited(True, dict(result, msg=msg))

    warnings: list = []
    with patch_module_args({"_ansible_check_mode": check_mode, **args}), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
            mock.patch.object(basic.AnsibleModule, "warn", lambda _self, text: warnings.append(text)), \
            pytest.raises(Exited) as done:
        module.main()
    done.value.result["warnings"] = warnings
    return done.value
