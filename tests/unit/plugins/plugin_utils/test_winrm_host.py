"""How a winrm or psrp host's resolved connection options become the modules' options, and who wins."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.hyperv.replica.plugins.plugin_utils.winrm_host import merge, psrp_options, winrm_options


def getter(options):
    return options.get


WINRM = {"remote_addr": "hv01.contoso.com", "port": 5986, "scheme": None, "path": "/wsman",
         "remote_user": "CONTOSO\\drill", "remote_password": "S3cret!", "transport": ["ntlm"],
         "connection_timeout": None, "_extras": {}}


def test_winrm_inventory_becomes_module_options():
    extras = {"ansible_winrm_server_cert_validation": "ignore", "ansible_winrm_ca_trust_path": "/pki/ca.pem",
              "ansible_winrm_message_encryption": "always", "ansible_winrm_operation_timeout_sec": 30,
              "ansible_winrm_read_timeout_sec": 40, "ansible_winrm_kerberos_delegation": True}
    options = winrm_options(getter(dict(WINRM, _extras=extras)))
    assert options == {"hostname": "hv01.contoso.com", "port": 5986, "path": "/wsman", "scheme": "https",
                       "username": "CONTOSO\\drill", "password": "S3cret!", "transport": "ntlm",
                       "validate_certs": False, "ca_path": "/pki/ca.pem", "message_encryption": "always",
                       "operation_timeout": 30, "read_timeout": 40}


@pytest.mark.parametrize("port, scheme, expected", [(5985, None, "http"), (5986, None, "https"), (8080, None, "https"),
                                                    (5985, "https", "https")])
def test_winrm_scheme_follows_the_connection_plugin(port, scheme, expected):
    assert winrm_options(getter(dict(WINRM, port=port, scheme=scheme)))["scheme"] == expected


@pytest.mark.parametrize("transport, expected", [(None, None), ([], None), (["kerberos", "ntlm"], "kerberos"),
                                                 (["plaintext"], "basic"), (["ssl"], "basic"), ("NTLM", "ntlm")])
def test_winrm_transport_is_the_first_one_pywinrm_would_try(transport, expected):
    assert winrm_options(getter(dict(WINRM, transport=transport))).get("transport") == expected


def test_an_unusable_transport_names_its_inventory_variable():
    with pytest.raises(AnsibleActionFail, match="ansible_winrm_transport is 'digest'"):
        winrm_options(getter(dict(WINRM, transport=["digest"])))


def test_connection_timeout_sets_both_timeouts_unless_given_apart():
    assert {k: v for k, v in winrm_options(getter(dict(WINRM, connection_timeout=60))).items()
            if k.endswith("timeout")} == {"operation_timeout": 60, "read_timeout": 70}


def test_nothing_unset_is_passed_so_module_defaults_and_env_still_apply():
    options = winrm_options(getter({"remote_addr": "hv01", "port": 5985, "_extras": {}}))
    assert options == {"hostname": "hv01", "port": 5985, "scheme": "http"}


def test_psrp_inventory_becomes_module_options():
    psrp = {"remote_addr": "hv01", "port": None, "protocol": "http", "path": "wsman", "remote_user": "u",
            "remote_password": "p", "auth": "negotiate", "cert_validation": "ignore", "ca_cert": None,
            "certificate_pem": None, "certificate_key_pem": None, "message_encryption": "auto",
            "operation_timeout": 20, "read_timeout": 30}
    assert psrp_options(getter(psrp)) == {
        "hostname": "hv01", "port": 5985, "scheme": "http", "path": "wsman", "username": "u", "password": "p",
        "transport": "ntlm", "validate_certs": False, "message_encryption": "auto", "operation_timeout": 20,
        "read_timeout": 30}


def test_task_arguments_win_and_their_unset_values_do_not_erase_the_inventory():
    inventory = {"hostname": "hv01", "password": "from-inventory", "port": 5986}
    task = {"password": "from-task", "port": None, "vms": ["web01"]}
    assert merge(task, inventory) == {"hostname": "hv01", "password": "from-task", "port": 5986, "vms": ["web01"]}
