# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WinRM connection options shared by every hyperv.replica module."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r'''
options:
  hostname:
    description:
      - The Hyper-V host to manage, as a DNS name or IP address.
      - For a task whose host uses the C(winrm) or C(psrp) connection, every connection option that the task (or
        C(module_defaults)) does not set comes from that host's connection settings, here C(ansible_host) (or the
        inventory name). See the C(Target the host) example.
      - If not set, the environment variable E(HYPERV_HOST) is used.
      - Needed only when the task's host does not use the C(winrm) or C(psrp) connection, for example with
        C(delegate_to=localhost); the task fails before contacting anything when it is needed and missing.
    type: str
  port:
    description:
      - The WinRM port. Defaults to V(5986) for O(scheme=https) and V(5985) for O(scheme=http).
      - From a winrm or psrp host, C(ansible_port).
    type: int
  scheme:
    description:
      - V(https) (the default) or V(http). Over V(http), O(transport=ntlm), V(kerberos) and V(credssp)
        encrypt every message (see O(message_encryption)).
      - From a winrm host, C(ansible_winrm_scheme) (else V(http) when its port is 5985); from a psrp host,
        C(ansible_psrp_protocol).
    type: str
    choices: [http, https]
    default: https
  path:
    description:
      - The WinRM URL path.
      - From a winrm host, C(ansible_winrm_path); from a psrp host, C(ansible_psrp_path).
    type: str
    default: /wsman
  username:
    description:
      - The user to authenticate as, for example V(CONTOSO\\hvadmin) or V(hvadmin@contoso.com).
      - From a winrm or psrp host, C(ansible_user).
      - If not set, the environment variable E(HYPERV_USERNAME) is used.
    type: str
  password:
    description:
      - The user's password. It is never logged or returned.
      - From a winrm or psrp host, C(ansible_password).
      - If not set, the environment variable E(HYPERV_PASSWORD) is used.
    type: str
  transport:
    description:
      - How to authenticate. V(ntlm) is what a default Windows WinRM listener accepts.
      - V(basic) needs Basic authentication enabled on the host, and HTTPS unless the host allows unencrypted traffic.
      - V(kerberos) and V(credssp) need the pywinrm extras of the same name on the controller.
      - V(certificate) needs O(client_cert) and O(client_key).
      - From a winrm host, the first entry of C(ansible_winrm_transport) (V(plaintext) and V(ssl) are V(basic));
        from a psrp host, C(ansible_psrp_auth) (V(negotiate) is V(ntlm)).
    type: str
    choices: [ntlm, basic, kerberos, credssp, certificate]
    default: ntlm
  validate_certs:
    description:
      - Whether to validate the host's TLS certificate over HTTPS. Only turn it off for a lab host.
      - From a winrm host, C(ansible_winrm_server_cert_validation=ignore) turns it off; from a psrp host,
        C(ansible_psrp_cert_validation).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to trust for the host's certificate, instead of the system store.
      - From a winrm host, C(ansible_winrm_ca_trust_path); from a psrp host, C(ansible_psrp_ca_cert).
    type: path
  client_cert:
    description:
      - The client certificate (PEM) for O(transport=certificate).
      - From a winrm host, C(ansible_winrm_cert_pem); from a psrp host, C(ansible_psrp_certificate_pem).
    type: path
  client_key:
    description:
      - The private key (PEM) of O(client_cert).
      - From a winrm host, C(ansible_winrm_cert_key_pem); from a psrp host, C(ansible_psrp_certificate_key_pem).
    type: path
  message_encryption:
    description:
      - WinRM message encryption for NTLM, Kerberos and CredSSP. V(auto) encrypts over HTTP and relies on TLS
        over HTTPS; V(always) encrypts in both; V(never) disables it (the host must allow unencrypted traffic).
      - From a winrm host, C(ansible_winrm_message_encryption); from a psrp host, C(ansible_psrp_message_encryption).
    type: str
    choices: [auto, always, never]
    default: auto
  operation_timeout:
    description:
      - Seconds the host may spend on one WS-Management operation before it answers with a timeout fault.
      - From a winrm host, C(ansible_winrm_operation_timeout_sec) (or C(ansible_winrm_connection_timeout)); from
        a psrp host, C(ansible_psrp_operation_timeout).
    type: int
    default: 20
  read_timeout:
    description:
      - Seconds to wait for an HTTP answer. Must be greater than O(operation_timeout).
      - From a winrm host, C(ansible_winrm_read_timeout_sec) (or C(ansible_winrm_connection_timeout) + 10); from
        a psrp host, C(ansible_psrp_read_timeout).
    type: int
    default: 30
requirements:
  - pywinrm >= 0.5.0 on the host that runs the module (usually the controller)
notes:
  - The module runs on the controller and talks WS-Management to the Hyper-V host directly; it starts no
    PowerShell on the host. Target the Hyper-V host itself when the inventory gives it C(ansible_connection=winrm)
    or C(psrp), or use C(delegate_to=localhost) with the connection options.
  - The account needs the rights of the Hyper-V Administrators group on the host and access to the
    C(root/virtualization/v2) WMI namespace over WinRM.
'''

    # What the action plugin shared by the modules that reach a host over WinRM does (plugin_utils/winrm_host.py).
    ATTRIBUTES = r'''
attributes:
  action:
    support: full
    details:
      - For a host with C(ansible_connection=winrm) or C(psrp), the action plugin turns the host's connection settings
        into this module's connection options (O(hostname), O(username), ...) and runs the module on the
        controller with its Python; no C(delegate_to) is needed.
  action_group:
    membership: [hyperv.replica.hyperv]
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  connection:
    support: full
    details: Uses the WinRM or PSRP settings of the task's host as connection options; it never opens that connection.
  delegation:
    support: full
    details: With C(delegate_to=localhost) give the connection options in the task or in C(module_defaults).
'''
