# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by every module; documented by the hyperv.replica.connection doc fragment."""

from __future__ import annotations

from typing import Any, Dict

from ansible.module_utils.basic import env_fallback


def connection_argument_spec() -> Dict[str, Any]:
    return {
        # Not required: on a winrm or psrp host the action plugin supplies it from the inventory (ansible_host), and
        # Options.from_params says what is missing when nothing did.
        "hostname": {"type": "str", "fallback": (env_fallback, ["HYPERV_HOST"])},
        "port": {"type": "int"},
        "scheme": {"type": "str", "default": "https", "choices": ["http", "https"]},
        "path": {"type": "str", "default": "/wsman"},
        "username": {"type": "str", "fallback": (env_fallback, ["HYPERV_USERNAME"])},
        "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["HYPERV_PASSWORD"])},
        "transport": {"type": "str", "default": "ntlm",
                      "choices": ["ntlm", "basic", "kerberos", "credssp", "certificate"]},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "client_cert": {"type": "path"},
        "client_key": {"type": "path", "no_log": False},
        "message_encryption": {"type": "str", "default": "auto", "choices": ["auto", "always", "never"]},
        "operation_timeout": {"type": "int", "default": 20},
        "read_timeout": {"type": "int", "default": 30},
    }
