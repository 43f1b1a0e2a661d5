# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for hyperv.replica.failover_network: target a Hyper-V host with a winrm or psrp connection directly (winrm_host.py)."""

from __future__ import annotations

from ansible_collections.hyperv.replica.plugins.plugin_utils.winrm_host import HypervHostAction


class ActionModule(HypervHostAction):
    """Runs hyperv.replica.failover_network on the controller for a host reached over WinRM."""
