"""WQL parser and evaluator: syntax, escaping, operators, case rules, associations."""

import pytest

from hypervsim import wql
from hypervsim.faults import WsmanFault


def names(sim, query):
    return [row.instance.get("ElementName") for row in wql.execute(query, sim.model)]


def test_select_star_and_list():
    q = wql.parse("select * from Msvm_ComputerSystem")
    assert q.class_name == "Msvm_ComputerSystem" and q.props is None and q.where is None
    q = wql.parse("SELECT Name, ElementName FROM msvm_computersystem")
    assert q.props == ("Name", "ElementName")


def test_and_binds_tighter_than_or_and_parentheses():
    q = wql.parse("SELECT * FROM X WHERE a = 1 OR b = 2 AND c = 3")
    assert q.where.op == "OR" and q.where.right.op == "AND"
    q = wql.parse("SELECT * FROM X WHERE (a = 1 OR b = 2) AND NOT c = 3")
    assert q.where.op == "AND" and q.where.left.op == "OR" and isinstance(q.where.right, wql.Not)


@pytest.mark.parametrize("literal, expected", [
    (r"'it\'s'", "it's"),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'a\\b'", "a\\b"),
    (r"""'mixed "double" inside single'""", 'mixed "double" inside single'),
])
def test_string_escapes(literal, expected):
    q = wql.parse(f"SELECT * FROM X WHERE Name = {literal}")
    assert q.where.value == expected


@pytest.mark.parametrize("bad", [
    r"SELECT * FROM X WHERE Name = 'C:\Windows'",     # unknown escape, as WMI rejects it
    "SELECT * FROM X WHERE Name = 'open",
    "SELECT * FROM X WHERE 1 = 1",
    "SELECT * FROM X WHERE Name = ElementName",
    "SELECT FROM X",
    "SELECT * X",
    "DELETE FROM X",
    "SELECT * FROM X WHERE Name = 'a' garbage",
    "SELECT * FROM X WHERE Name ~ 'a'",
    "SELECT * FROM X WHERE",
])
def test_syntax_errors(bad):
    with pytest.raises(wql.WqlError):
        wql.parse(bad)


def test_escaped_name_is_found(sim):
    assert names(sim, r"SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'it\'s \"x\" \\ y'") == ["it's \"x\" \\ y"]
    assert names(sim, r'SELECT * FROM Msvm_ComputerSystem WHERE ElementName = "it\'s \"x\" \\ y"') == ["it's \"x\" \\ y"]


def test_or_inside_literal_does_not_widen(sim):
    assert not names(sim, r"SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web01\' OR 1=1 OR \'x'")
    assert not names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = \"web01' OR '1'='1\"")


def test_case_insensitive_keywords_properties_classes_and_values(sim):
    assert names(sim, "select * from MSVM_COMPUTERSYSTEM where elementname = 'WEB01'") == ["web01"]
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE Name = '5f1d2a4b-9c3e-4f7a-8b6d-1e2f3a4b5c6d'") == ["web01"]


def test_numeric_comparisons_and_string_numbers(sim):
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode = 0 AND EnabledState = 2") == [
        "it's \"x\" \\ y"]
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode = '1'") == ["prim01"]
    assert set(names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationState >= 5")) == {"dup"}
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE 1 = ReplicationMode") == ["prim01"]
    assert "web01" not in names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode <> 2")
    assert "web01" not in names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode != 2")
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode < 1 AND ElementName <> 'HV-TEST01'") \
        == ["it's \"x\" \\ y"]


def test_like_patterns(sim):
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE 'w%'") == ["web01"]
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE '_ql0_'") == ["sql01"]
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE '[sw]%01'") == ["web01", "sql01"]
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE '[^wH]%01'") == ["sql01", "prim01"]
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE '[a-s]ql%'") == ["sql01"]
    assert "web01" not in names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName NOT LIKE 'WEB%'")


def test_null_tests(sim):
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode IS NULL") == ["HV-TEST01"]
    assert "HV-TEST01" not in names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode IS NOT NULL")
    assert names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode = NULL") == ["HV-TEST01"]
    # A NULL property never equals a value, and "<>" is not true for it either.
    assert "HV-TEST01" not in names(sim, "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode <> 7")


def test_boolean_and_datetime(sim):
    rows = wql.execute("SELECT * FROM Msvm_ReplicationService WHERE Started = TRUE", sim.model)
    assert len(rows) == 1
    assert not wql.execute("SELECT * FROM Msvm_ReplicationService WHERE Started = false", sim.model)
    rows = wql.execute("SELECT * FROM Msvm_VirtualSystemSettingData WHERE CreationTime > '20261121093000.000000+000'",
                       sim.model)
    assert [r.instance.get("VirtualSystemType") for r in rows] == ["Microsoft:Hyper-V:Snapshot:Replica:PlannedFailover"]


@pytest.mark.parametrize("query", [
    "SELECT * FROM Msvm_ComputerSystem WHERE NoSuchProperty = 1",
    "SELECT NoSuchProperty FROM Msvm_ComputerSystem",
    "SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode = 'two'",
    "SELECT * FROM Msvm_ComputerSystem WHERE OperationalStatus = 2",
    "SELECT * FROM Msvm_ComputerSystem WHERE EnabledState LIKE '2%'",
    "SELECT * FROM Msvm_ReplicationService WHERE Started = 'maybe'",
])
def test_semantic_errors(sim, query):
    with pytest.raises(wql.WqlError):
        wql.execute(query, sim.model)


def test_unknown_class(sim):
    with pytest.raises(wql.ClassNotFound):
        wql.execute("SELECT * FROM Msvm_NoSuchClass", sim.model)


def test_polymorphic_superclass_query(sim):
    rows = wql.execute("SELECT * FROM CIM_ComputerSystem", sim.model)
    # The host, its VMs, and its virtual switches (Msvm_VirtualEthernetSwitch derives from CIM_ComputerSystem).
    assert {r.instance.cls.name for r in rows} == {"Msvm_ComputerSystem", "Msvm_VirtualEthernetSwitch"}
    assert all(r.instance.cls.name == "Msvm_ComputerSystem" for r in wql.execute(
        "SELECT * FROM Msvm_ComputerSystem", sim.model))


def test_select_list_rows(sim):
    rows = wql.execute("SELECT name, ElementName FROM Msvm_ComputerSystem WHERE ElementName = 'web01'", sim.model)
    assert rows[0].props == ["Name", "ElementName"]


def test_dunder_class(sim):
    assert len(wql.execute("SELECT * FROM CIM_ManagedElement WHERE __CLASS = 'msvm_replicationservice'", sim.model)) == 1


def test_associators_snapshots(sim, client):
    path = f'Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{client.WEB01}"'
    rows = wql.execute(f"ASSOCIATORS OF {{{path}}} WHERE AssocClass = Msvm_SnapshotOfVirtualSystem "
                       "ResultClass = Msvm_VirtualSystemSettingData", sim.model)
    kinds = sorted(r.instance.get("VirtualSystemType").rsplit(":", 1)[1] for r in rows)
    assert kinds == ["ApplicationConsistent", "PlannedFailover", "Standard"]
    # Server and namespace prefix, key order and case do not matter.
    path = f'\\\\HV-TEST01\\root\\virtualization\\v2:msvm_computersystem.Name="{client.WEB01.lower()}",' \
           'CreationClassName="Msvm_ComputerSystem"'
    rows = wql.execute(f"associators of {{{path}}} where resultclass = CIM_VirtualSystemSettingData", sim.model)
    # three recovery points, the active settings (Msvm_SettingsDefineState) and, being a CIM_VirtualSystemSettingData
    # too, the Msvm_ReplicationSettingData (Msvm_ElementSettingData)
    assert sorted(r.instance.cls.name for r in rows) == ["Msvm_ReplicationSettingData"] + ["Msvm_VirtualSystemSettingData"] * 4


def test_associators_affected_jobs_and_references(sim, client):
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref(client.WEB01))
    assert resp.status == 200
    path = f'Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{client.WEB01}"'
    rows = wql.execute(f"ASSOCIATORS OF {{{path}}} WHERE AssocClass = Msvm_AffectedJobElement", sim.model)
    assert [r.instance.cls.name for r in rows] == ["Msvm_ConcreteJob"]
    job_id = rows[0].instance.get("InstanceID")
    back = wql.execute(f'ASSOCIATORS OF {{Msvm_ConcreteJob.InstanceID="{job_id}"}} WHERE '
                       "ResultClass = Msvm_ComputerSystem Role = AffectingElement", sim.model)
    assert [r.instance.get("Name") for r in back] == [client.WEB01]
    refs = wql.execute(f"REFERENCES OF {{{path}}} WHERE ResultClass = Msvm_AffectedJobElement", sim.model)
    assert [r.instance.cls.name for r in refs] == ["Msvm_AffectedJobElement"]


def test_reference_property_in_where(sim, client):
    path = f'Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{client.SQL01}"'
    rows = wql.execute(f"SELECT * FROM Msvm_SnapshotOfVirtualSystem WHERE Antecedent = '{path}'", sim.model)
    assert len(rows) == 1


def test_associators_errors(sim):
    with pytest.raises(WsmanFault) as exc:
        wql.execute('ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="nope"}',
                    sim.model)
    assert exc.value.wsman_code == 2150858752
    with pytest.raises(wql.ClassNotFound):
        wql.execute('ASSOCIATORS OF {Msvm_Nope.Name="x"}', sim.model)
    with pytest.raises(wql.ClassNotFound):
        wql.execute('ASSOCIATORS OF {Msvm_ReplicationService.Name="replicasvc"} WHERE AssocClass = Msvm_Nope', sim.model)
    with pytest.raises(wql.WqlError):
        wql.execute('ASSOCIATORS OF {Msvm_ReplicationService.Name="replicasvc"} WHERE ClassDefsOnly = x', sim.model)
    with pytest.raises(wql.WqlError):
        wql.parse("ASSOCIATORS OF {Msvm_ReplicationService")


@pytest.mark.parametrize("query", [
    "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'WEB01' OR ElementName = 'sql01' OR ElementName = 'none'",
    "SELECT * FROM Msvm_ComputerSystem WHERE (ElementName = 'web01' OR ElementName = 'DUP') AND ReplicationMode = 2",
    "SELECT * FROM Msvm_ComputerSystem WHERE NOT (ElementName = 'web01' OR ElementName = 'dup')",
    "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web01' OR ReplicationMode = 1",
])
def test_an_or_of_equalities_on_one_string_property_matches_as_the_comparisons_do(sim, query):
    """The evaluator folds such an OR into one set lookup; the rows are those of the comparisons one by one."""
    parsed = wql.parse(query)
    evaluator = wql._Evaluator([sim.model.classes.get("Msvm_ComputerSystem")], sim.model)  # pylint: disable=protected-access
    evaluator.check(parsed.where)
    instances = sim.model.instances_of("Msvm_ComputerSystem")
    slow = [i.get("ElementName") for i in instances if evaluator.matches(parsed.where, i)]
    assert names(sim, query) == slow and slow


def test_an_or_of_reference_equalities_matches_as_the_comparisons_do(sim):
    vm_ids = [v["id"] for v in sim.vms()][:3]
    paths = ['Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="%s"' % i.lower() for i in vm_ids]
    query = "SELECT * FROM Msvm_SettingsDefineState WHERE " + " OR ".join("ManagedElement = '%s'" % p for p in paths)
    parsed = wql.parse(query)
    evaluator = wql._Evaluator([sim.model.classes.get("Msvm_SettingsDefineState")], sim.model)  # pylint: disable=protected-access
    evaluator.check(parsed.where)
    instances = sim.model.instances_of("Msvm_SettingsDefineState")
    slow = [i.get("ManagedElement").key("Name") for i in instances if evaluator.matches(parsed.where, i)]
    fast = [row.instance.get("ManagedElement").key("Name") for row in wql.execute(query, sim.model)]
    assert fast == slow and sorted(slow) == sorted(vm_ids)
