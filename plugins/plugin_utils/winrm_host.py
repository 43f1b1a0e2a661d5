# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind the modules that manage a Hyper-V host over WinRM: target the host itself, run on the controller.

When the task's host (or the host it is delegated to) uses the ``winrm`` or ``psrp`` connection, its connection
settings, already resolved by Ansible from inventory, group and extra vars, become the module's connection options,
and the module runs on the controller through the ``local`` connection (the ``ansible.posix.synchronize`` pattern).
Task arguments, ``module_defaults`` included, win over the inventory; the module's ``HYPERV_*`` environment
fallbacks come last. With any other connection (``delegate_to: localhost``) the module runs as usual.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import connection_loader

TRANSPORTS = ("ntlm", "kerberos", "basic", "credssp", "certificate")
# pywinrm transport names that are Basic under another name (plaintext: over http; ssl: over https).
_BASIC_ALIASES = {"plaintext": "basic", "ssl": "basic"}
_PSRP_AUTH = {"negotiate": "ntlm"}

Getter = Callable[[str], Any]


def _first(value: Any) -> Optional[str]:
    """ansible_winrm_transport is a list (pywinrm tries each); the modules take one, the first."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value).strip().lower() if value else None


def _transport(value: Optional[str], source: str) -> Optional[str]:
    if value is None:
        return None
    value = _BASIC_ALIASES.get(value, _PSRP_AUTH.get(value, value))
    if value not in TRANSPORTS:
        raise AnsibleActionFail("%s is %r, which the hyperv.replica modules cannot use: choose one of %s"
                                % (source, value, ", ".join(TRANSPORTS)))
    return value


def _validate(value: Any) -> Optional[bool]:
    if value is None:
        return None
    return str(value).strip().lower() not in ("ignore", "false", "no", "0")


def winrm_options(get: Getter) -> Dict[str, Any]:
    """Module options from the winrm connection plugin's resolved options (``ansible_winrm_*`` extras included)."""
    extras: Mapping[str, Any] = get("_extras") or {}
    port = get("port")
    timeout = get("connection_timeout")
    options = {
        "hostname": get("remote_addr"), "port": port, "path": get("path"),
        # The winrm plugin's own default: https unless the port is 5985.
        "scheme": get("scheme") or ("http" if port == 5985 else "https"),
        "username": get("remote_user"), "password": get("remote_password"),
        "transport": _transport(_first(get("transport")), "ansible_winrm_transport"),
        "validate_certs": _validate(extras.get("ansible_winrm_server_cert_validation")),
        "ca_path": extras.get("ansible_winrm_ca_trust_path"),
        "client_cert": extras.get("ansible_winrm_cert_pem"),
        "client_key": extras.get("ansible_winrm_cert_key_pem"),
        "message_encryption": extras.get("ansible_winrm_message_encryption"),
        # connection_timeout sets both, as the winrm plugin does; the specific pywinrm kwargs win.
        "operation_timeout": extras.get("ansible_winrm_operation_timeout_sec", timeout),
        "read_timeout": extras.get("ansible_winrm_read_timeout_sec", timeout + 10 if timeout else None),
    }
    return {key: value for key, value in options.items() if value is not None}


def psrp_options(get: Getter) -> Dict[str, Any]:
    """Module options from the psrp connection plugin's resolved options."""
    port = get("port")
    protocol = get("protocol") or ("http" if port == 5985 else "https")
    options = {
        "hostname": get("remote_addr"), "port": port or (5985 if protocol == "http" else 5986),
        "scheme": protocol, "path": get("path"), "username": get("remote_user"), "password": get("remote_password"),
        "transport": _transport(_first(get("auth")), "ansible_psrp_auth"),
        "validate_certs": _validate(get("cert_validation")), "ca_path": get("ca_cert"),
        "client_cert": get("certificate_pem"), "client_key": get("certificate_key_pem"),
        "message_encryption": get("message_encryption"),
        "operation_timeout": get("operation_timeout"), "read_timeout": get("read_timeout"),
    }
    return {key: value for key, value in options.items() if value is not None}


READERS = {"winrm": winrm_options, "psrp": psrp_options}


def merge(task_args: Mapping[str, Any], inventory: Mapping[str, Any]) -> Dict[str, Any]:
    """Task arguments win; the inventory fills what they leave out."""
    merged = dict(inventory)
    merged.update({key: value for key, value in task_args.items() if value is not None})
    return merged


class HypervHostAction(ActionBase):
    """Run the task's module on the controller, connected to the host the task targets."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        self._supports_check_mode = True
        # async as for any module where the task runs on the controller or a delegate; not on a WinRM host, whose
        # async_status would look for the job on Windows while it runs here.
        self._supports_async = True
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        kind = str(self._connection.transport).rsplit(".", 1)[-1]
        reader = READERS.get(kind)
        if reader is not None:
            if self._task.async_val:
                result.update(failed=True, msg="async is not supported on a task that targets the WinRM host "
                                               "itself: run it with delegate_to: localhost and the connection options")
                return result
            args = merge(args, reader(self._connection.get_option))
            self._run_on_controller(task_vars)
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result.update(self._execute_module(module_name=self._task.resolved_action, module_args=args,
                                           task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result

    def _run_on_controller(self, task_vars: Dict[str, Any]) -> None:
        """Swap in the local connection, with the controller's Python: the one running Ansible, which has
        pywinrm, unless the inventory gives localhost another interpreter."""
        self._play_context.shell = "sh"
        self._play_context.executable = "/bin/sh"
        self._play_context.become = False
        connection = connection_loader.get("local", self._play_context, getattr(self._connection, "_new_stdin", None))
        connection._remote_is_local = True  # pylint: disable=protected-access
        self._connection = connection
        localhost = (task_vars.get("hostvars") or {}).get("localhost") or {}
        task_vars["ansible_python_interpreter"] = (localhost.get("ansible_python_interpreter")
                                                   or task_vars.get("ansible_playbook_python"))
