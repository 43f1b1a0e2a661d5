"""Enumerate / Pull / Release: item placement, batching, contexts, expiry (wire notes 2.2-2.4)."""

from hypervsim import enumeration

ALL_VMS = "SELECT * FROM Msvm_ComputerSystem"   # the host + 6 VMs = 7 instances


def ctx_of(resp, op="EnumerateResponse"):
    elem = resp.find(f"s:Body/n:{op}/n:EnumerationContext")
    return None if elem is None else elem.text


def test_optimized_single_result_ends_at_once(client):
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web01'")
    assert resp.status == 200
    assert "<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext><w:Items><p:Msvm_ComputerSystem " \
        in resp.text
    assert resp.text.endswith("</w:Items><w:EndOfSequence/></n:EnumerateResponse></s:Body></s:Envelope>")
    assert resp.text.startswith('<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                                'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
                                'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
                                'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
                                '<a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse</a:Action>')
    assert resp.find("s:Header/a:RelatesTo").text == client.last_message_id
    assert resp.find("s:Header/a:To").text == client.ANON


def test_optimized_empty_result(client):
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'nothing'")
    assert "<n:EnumerationContext></n:EnumerationContext><w:Items></w:Items><w:EndOfSequence/>" in resp.text


def test_optimized_gives_one_item_then_pulls(client):
    resp = client.enumerate(ALL_VMS)
    assert len(resp.find("s:Body/n:EnumerateResponse/w:Items")) == 1
    assert resp.find("s:Body/n:EnumerateResponse/w:EndOfSequence") is None
    context = ctx_of(resp)
    assert context.startswith("uuid:") and context[5:] == context[5:].upper()
    seen = 1
    batches = []
    while context:
        pulled = client.pull(context, max_elements=2)
        items = pulled.find("s:Body/n:PullResponse/n:Items")
        batches.append(len(items))
        seen += len(items)
        new_context = ctx_of(pulled, "PullResponse")
        if new_context:
            assert new_context != context
            assert pulled.find("s:Body/n:PullResponse/n:EndOfSequence") is None
        else:
            assert pulled.text.endswith("</n:Items><n:EndOfSequence/></n:PullResponse></s:Body></s:Envelope>")
        context = new_context
    assert batches == [2, 2, 2]
    assert seen == 7


def test_old_context_is_invalid_after_a_pull(client):
    first = ctx_of(client.enumerate(ALL_VMS))
    assert client.pull(first, max_elements=1).status == 200
    assert client.pull(first, max_elements=1).fault()["subcode"] == "n:InvalidEnumerationContext"


def test_finished_context_is_gone(client):
    context = ctx_of(client.enumerate(ALL_VMS))
    last = client.pull(context)
    assert ctx_of(last, "PullResponse") is None
    assert last.find("s:Body/n:PullResponse/n:EndOfSequence") is not None
    assert client.pull(context).fault()["wsman_code"] == 2150858779


def test_pull_without_max_elements_gives_one(client):
    context = ctx_of(client.enumerate(ALL_VMS))
    resp = client.pull(context, max_elements=None)
    assert len(resp.find("s:Body/n:PullResponse/n:Items")) == 1


def test_not_optimized_returns_only_a_context(client):
    resp = client.enumerate(ALL_VMS, optimize=False)
    body = resp.find("s:Body/n:EnumerateResponse")
    assert [child.tag.split("}")[1] for child in body] == ["EnumerationContext"]
    items = client.pull(ctx_of(resp)).find("s:Body/n:PullResponse/n:Items")
    assert len(items) == 7


def test_not_optimized_empty(client):
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'nothing'", optimize=False)
    pulled = client.pull(ctx_of(resp))
    assert "<n:PullResponse><n:Items></n:Items><n:EndOfSequence/></n:PullResponse>" in pulled.text


def test_release(client):
    context = ctx_of(client.enumerate(ALL_VMS))
    resp = client.release(context)
    assert resp.status == 200
    assert resp.find("s:Header/a:Action").text == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse"
    assert len(resp.body) == 0
    assert client.pull(context).fault()["subcode"] == "n:InvalidEnumerationContext"


def test_idle_expiry(make_client, clock):
    client = make_client(enumeration_timeout=60)
    context = ctx_of(client.enumerate(ALL_VMS))
    clock.advance(59)
    context = ctx_of(client.pull(context, max_elements=1), "PullResponse")
    clock.advance(59)
    context = ctx_of(client.pull(context, max_elements=1), "PullResponse")
    clock.advance(60)
    assert client.pull(context).fault()["wsman_code"] == 2150858779


def test_envelope_size_bounds_the_batch(client):
    context = ctx_of(client.enumerate(ALL_VMS))
    resp = client.pull(context, max_elements=100, max_envelope=8192)   # 4096 characters: one instance at a time
    assert len(resp.find("s:Body/n:PullResponse/n:Items")) == 1
    assert ctx_of(resp, "PullResponse")


def test_batch_helper():
    items = ["x" * 100] * 5
    assert len(enumeration.batch(items, 0, 10, enumeration.ENVELOPE_OVERHEAD + 250)) == 2
    assert len(enumeration.batch(items, 0, 10, 10)) == 1     # always at least one item
    assert len(enumeration.batch(items, 3, 10, 100000)) == 2


def test_epr_modes(client):
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web01'", mode="EnumerateEPR")
    epr = resp.find("s:Body/n:EnumerateResponse/w:Items/a:EndpointReference")
    assert epr.find("a:Address", client.NS).text == client.ANON
    selectors = {s.get("Name"): s.text for s in epr.iterfind(".//w:Selector", client.NS)}
    assert selectors == {"CreationClassName": "Msvm_ComputerSystem", "Name": client.WEB01}
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web01'",
                            mode="EnumerateObjectAndEPR")
    item = resp.find("s:Body/n:EnumerateResponse/w:Items/w:Item")
    assert [c.tag.split("}")[1] for c in item] == ["Msvm_ComputerSystem", "EndpointReference"]
    resp = client.enumerate(ALL_VMS, mode="Bogus")
    assert resp.fault()["detail"].endswith("/EnumerationMode")


def test_select_list_gives_xml_fragments(client):
    items = client.query("SELECT ReplicationState, Name FROM Msvm_ComputerSystem WHERE ElementName = 'web01'")
    assert len(items) == 1
    assert items[0].tag == "{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}XmlFragment"
    assert [(c.tag, c.text) for c in items[0]] == [("Name", client.WEB01), ("ReplicationState", "3")]


def test_association_query_over_the_wire(client):
    path = f'Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{client.WEB01}"'
    items = client.query(f"ASSOCIATORS OF {{{path}}} WHERE AssocClass = Msvm_SnapshotOfVirtualSystem")
    assert len(items) == 3
    assert all(i.tag.endswith("}Msvm_VirtualSystemSettingData") for i in items)
    items = client.query("SELECT * FROM Msvm_SnapshotOfVirtualSystem")
    assert len(items) == 4
    antecedent = items[0].find("{*}Antecedent")
    assert antecedent.find("a:ReferenceParameters/w:ResourceURI", client.NS).text.endswith("/Msvm_ComputerSystem")


def test_counters_count_operations(client):
    context = ctx_of(client.enumerate(ALL_VMS))
    client.pull(context, max_elements=1)
    client.release(ctx_of(client.enumerate(ALL_VMS)))
    counts = client.sim.counters()
    assert counts["Enumerate"] == 2 and counts["Pull"] == 1 and counts["Release"] == 1 and counts["total"] == 4
    client.sim.reset_counters()
    assert client.sim.counters() == {"total": 0, "auth_failures": 0, "connections": 0, "logons": 0}
