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
      - If not set, the environment variable E(HYPERV_HOST) is used.
    type: str
    required: true
  port:
    description:
      - The WinRM port. Defaults to V(5986) for O(scheme=https) and V(5985) for O(scheme=http).
    type: int
  scheme:
    description:
      - V(https) (the default) or V(http). Over V(http), O(transport=ntlm), V(kerberos) and V(credssp)
        encrypt every message (see O(message_encryption)).
    type: str
    choices: [http, https]
    default: https
  path:
    description:
      - The WinRM URL path.
    type: str
    default: /wsman
  username:
    description:
      - The user to authenticate as, for example V(CONTOSO\\hvadmin) or V(hvadmin@contoso.com).
      - If not set, the environment variable E(HYPERV_USERNAME) is used.
    type: str
  password:
    description:
      - The user's password. It is never logged or returned.
      - If not set, the environment variable E(HYPERV_PASSWORD) is used.
    type: str
  transport:
    description:
      - How to authenticate. V(ntlm) is what a default Windows WinRM listener accepts.
      - V(basic) needs Basic authentication enabled on the host, and HTTPS unless the host allows unencrypted traffic.
      - V(kerberos) and V(credssp) need the pywinrm extras of the same name on the controller.
      - V(certificate) needs O(client_cert) and O(client_key).
    type: str
    choices: [ntlm, basic, kerberos, credssp, certificate]
    default: ntlm
  validate_certs:
    description:
      - Whether to validate the host's TLS certificate over HTTPS. Only turn it off for a lab host.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to trust for the host's certificate, instead of the system store.
    type: path
  client_cert:
    description:
      - The client certificate (PEM) for O(transport=certificate).
    type: path
  client_key:
    description:
      - The private key (PEM) of O(client_cert).
    type: path
  message_encryption:
    description:
      - WinRM message encryption for NTLM, Kerberos and CredSSP. V(auto) encrypts over HTTP and relies on TLS
        over HTTPS; V(always) encrypts in both; V(never) disables it (the host must allow unencrypted traffic).
    type: str
    choices: [auto, always, never]
    default: auto
  operation_timeout:
    description:
      - Seconds the host may spend on one WS-Management operation before it answers with a timeout fault.
    type: int
    default: 20
  read_timeout:
    description:
      - Seconds to wait for an HTTP answer. Must be greater than O(operation_timeout).
    type: int
    default: 30
requirements:
  - pywinrm >= 0.5.0 on the host that runs the module (usually the controller)
notes:
  - The module runs where Ansible runs it (use C(delegate_to=localhost)) and talks WS-Management to the
    Hyper-V host directly; it starts no PowerShell on the host.
  - The account needs the rights of the Hyper-V Administrators group on the host and access to the
    C(root/virtualization/v2) WMI namespace over WinRM.
'''
