# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM over WS-Management: WQL queries, Get and method Invoke, with typed Python values (values.py) in and out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TypeVar

from ansible_collections.hyperv.replica.plugins.module_utils.cim import schema
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import (
    Instance, Reference, parameter, parse_instance, parse_properties, parse_reference)
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import NO_RETRY, Retry
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import (
    WSManClient, WSManError, WSManProtocolError, qname)


T = TypeVar("T")


@dataclass
class MethodResult:
    """A method's ReturnValue and every output parameter it returned, typed."""

    return_value: int
    outputs: Dict[str, Any]


def _wql_class(wql: str) -> str:
    match = re.search(r"\bFROM\s+(\w+)", wql, re.IGNORECASE)
    return match.group(1) if match else ""


class CimClient:
    """WQL queries, Get and Invoke against one WMI namespace."""

    def __init__(self, wsman: WSManClient, namespace_uri: str = schema.V2_URI, concurrency: int = 1,
                 retry: Retry = NO_RETRY) -> None:
        self.wsman = wsman
        self.namespace_uri = namespace_uri
        # Reads (query, get) are retried by this policy; invoke never is (retry.py).
        self.retry = retry
        # How many requests the transport takes at once (its session pool); query_all runs that many queries.
        self.concurrency = max(1, concurrency)

    def iter_query(self, wql: str) -> Iterator[Instance]:
        """The instances a query selects, one by one (see _items)."""
        hint = _wql_class(wql)
        return (parse_instance(item, hint) for item in self._items(wql, None))

    def _items(self, wql: str, mode: Optional[str]) -> Iterator[ET.Element]:
        """Enumerate + Pull until EndOfSequence; an abandoned iteration Releases its context."""
        resource = self.namespace_uri + "/*"
        batch = self.wsman.enumerate(resource, wql, mode=mode)
        try:
            while True:
                yield from batch.items
                if batch.finished:
                    return
                batch = self.wsman.pull(resource, batch.context or "")
        finally:
            if not batch.finished:
                try:
                    self.wsman.release(resource, batch.context or "")
                except WSManError:
                    pass  # the error that stopped the iteration is the one worth reporting

    def query(self, wql: str) -> List[Instance]:
        """All rows of a query; a failed attempt starts again from the Enumerate (its context may be gone)."""
        hint = _wql_class(wql)
        return self.retry.call(lambda: self._query_once(wql, None, lambda item: parse_instance(item, hint)))

    def query_references(self, wql: str) -> List[Reference]:
        """The endpoint references of the instances a query selects (EnumerationMode EnumerateEPR), as the host
        writes them: what a method is invoked on, with no need to know the class's keys (libvirt does the same)."""
        return self.retry.call(lambda: self._query_once(wql, "EnumerateEPR", parse_reference))

    def _query_once(self, wql: str, mode: Optional[str], read: Callable[[ET.Element], T]) -> List[T]:
        with self.wsman.session():
            return [read(item) for item in self._items(wql, mode)]

    def query_all(self, wqls: Sequence[str]) -> List[Instance]:
        """The rows of several queries (the chunks of one long list), in order. Up to ``concurrency`` run at once:
        the chunks of a 500-VM poll would otherwise cost ten round trips one after another."""
        workers = min(self.concurrency, len(wqls))
        if workers <= 1:
            return [row for wql in wqls for row in self.query(wql)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hyperv-query") as executor:
            return [row for rows in executor.map(self.query, wqls) for row in rows]

    def get(self, reference: Reference) -> Instance:
        return parse_instance(self.retry.call(lambda: self.wsman.get(reference.resource_uri, reference.selectors)))

    def invoke(self, reference: Reference, method: str, params: Mapping[str, Any],
               output_types: Optional[Mapping[str, str]] = None) -> MethodResult:
        """Call ``method`` on the instance ``reference``; None parameters are omitted (WMI reads them as NULL), a
        list is sent as an array. ``output_types`` (name -> CIM type, "[]" for arrays) types the output
        parameters; every one the host returns is in the result."""
        request = ET.Element(qname(reference.resource_uri, method + "_INPUT"))
        for name, value in params.items():
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    request.append(parameter(reference.resource_uri, name, item))
        output = self.wsman.invoke(reference.resource_uri, method, reference.selectors, request)
        values = parse_properties(output, reference.class_name, output_types or {})
        return_value = values.pop("ReturnValue", None)
        try:
            code = int(return_value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise WSManProtocolError("%s returned no numeric ReturnValue" % method) from None
        return MethodResult(code, values)
