"""CIM machinery: classes, instances, references, object paths, selector resolution and Windows' XML rendering.

Rendering follows wire notes 2.5/2.6: instance element named after the actual class with xmlns:xsi, xmlns:p (class
URI), xmlns:cim and xsi:type in that order; every property in case-insensitive alphabetical order; NULL as
xsi:nil="true"; arrays as repeated elements; datetimes in cim:Datetime; intervals in cim:Interval; REF values as
a:Address + a:ReferenceParameters with no a:EndpointReference wrapper.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any, Iterable

from . import faults, ns
from .xmlutil import attr, text

UTC = datetime.timezone.utc
# FILETIME 0, which WMI shows as 16010101000000.000000-000 for "never" (hyperv notes 2.1).
NEVER = datetime.datetime(1601, 1, 1, tzinfo=UTC)

SCALAR_TYPES = {"string", "boolean", "uint8", "uint16", "uint32", "uint64", "sint8", "sint16", "sint32", "sint64",
                "real32", "real64", "char16", "datetime", "interval", "ref"}
NUMERIC_TYPES = {"uint8", "uint16", "uint32", "uint64", "sint8", "sint16", "sint32", "sint64", "real32", "real64"}


@dataclass(frozen=True)
class Prop:
    """One property of a class: CIM type, array flag, key flag."""

    name: str
    cimtype: str = "string"
    array: bool = False
    key: bool = False

    def __post_init__(self) -> None:
        if self.cimtype not in SCALAR_TYPES:
            raise ValueError(f"unknown CIM type {self.cimtype!r} for {self.name}")


class CimClass:
    """A class definition; lookups are case-insensitive, output uses the canonical casing."""

    def __init__(self, name: str, props: Iterable[Prop], superclasses: Iterable[str] = (),
                 provider: str = faults.HYPERV_PROVIDER) -> None:
        self.name = name
        self.superclasses = tuple(superclasses)
        self.provider = provider
        self.ordered = sorted(props, key=lambda p: p.name.lower())
        self._by_lower = {p.name.lower(): p for p in self.ordered}
        if len(self._by_lower) != len(self.ordered):
            raise ValueError(f"duplicate property in {name}")
        self.keys = [p for p in self.ordered if p.key]

    @property
    def uri(self) -> str:
        return ns.class_uri(self.name)

    def prop(self, name: str) -> Prop | None:
        return self._by_lower.get(name.lower())

    def is_a(self, name: str) -> bool:
        """True for the class itself or one of its superclasses (WQL polymorphism)."""
        low = name.lower()
        return low == self.name.lower() or any(low == s.lower() for s in self.superclasses)


@dataclass(frozen=True)
class CimRef:
    """A reference: class plus key values (strings, ints or nested CimRefs), keys in canonical casing."""

    class_name: str
    keys: tuple[tuple[str, Any], ...]

    @staticmethod
    def make(class_name: str, keys: dict[str, Any]) -> "CimRef":
        return CimRef(class_name, tuple(sorted(keys.items(), key=lambda kv: kv[0].lower())))

    def key(self, name: str) -> Any:
        for k, v in self.keys:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def uri(self) -> str:
        return ns.class_uri(self.class_name)

    def path(self) -> str:
        """Relative WMI object path, e.g. Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="..."."""
        if not self.keys:
            return f"{self.class_name}=@"
        parts = []
        for k, v in self.keys:
            if isinstance(v, CimRef):
                v = v.path()
            if isinstance(v, int) and not isinstance(v, bool):
                parts.append(f"{k}={v}")
            else:
                escaped = str(v).replace("\\", "\\\\").replace('"', '\\"')
                parts.append(f'{k}="{escaped}"')
        return f"{self.class_name}." + ",".join(parts)

    def matches(self, other: "CimRef") -> bool:
        """Same class and same keys, names and string values compared case-insensitively."""
        if self.class_name.lower() != other.class_name.lower() or len(self.keys) != len(other.keys):
            return False
        return all(values_equal(v, other.key(k)) for k, v in self.keys)


def values_equal(a: Any, b: Any) -> bool:
    """Key comparison: strings case-insensitive, references structurally, numbers by value."""
    if isinstance(a, CimRef) or isinstance(b, CimRef):
        return isinstance(a, CimRef) and isinstance(b, CimRef) and a.matches(b)
    if a is None or b is None:
        return a is b
    return str(a).lower() == str(b).lower()


@dataclass
class Instance:
    """An instance of a class with values by canonical property name (missing = NULL)."""

    cls: CimClass
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        prop = self.cls.prop(name)
        return None if prop is None else self.values.get(prop.name)

    def ref(self) -> CimRef:
        return CimRef.make(self.cls.name, {p.name: self.values.get(p.name) for p in self.cls.keys})


# ---------------------------------------------------------------- scalar formatting

def format_datetime(value: datetime.datetime) -> str:
    """xs:dateTime as WinRM writes it: UTC with Z, fractional seconds trimmed (wire notes 2.5)."""
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        base += f".{value.microsecond:06d}".rstrip("0")
    return base + "Z"


def format_interval(value: datetime.timedelta) -> str:
    """xs:duration in the P0DT0H1M40S shape seen from Windows (source G1)."""
    total = value.total_seconds()
    days, rest = divmod(int(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    micro = round((total - int(total)) * 1_000_000)
    sec = f"{seconds}" + (f".{micro:06d}".rstrip("0") if micro else "")
    return f"P{days}DT{hours}H{minutes}M{sec}S"


def _scalar(value: Any, cimtype: str, cim_prefix: str) -> str:
    if cimtype == "boolean":
        return "true" if value else "false"
    if cimtype == "datetime":
        return f"<{cim_prefix}Datetime>{format_datetime(value)}</{cim_prefix}Datetime>"
    if cimtype == "interval":
        return f"<{cim_prefix}Interval>{format_interval(value)}</{cim_prefix}Interval>"
    if cimtype == "ref":
        return ref_content(value)
    return text(str(value))


# ---------------------------------------------------------------- references on the wire

def selector_set(ref: CimRef) -> str:
    """<w:SelectorSet> of a reference; nested references become EPRs inside the selector."""
    parts = []
    for k, v in ref.keys:
        value = epr(v) if isinstance(v, CimRef) else text(str(v))
        parts.append(f'<w:Selector Name="{attr(k)}">{value}</w:Selector>')
    return f"<w:SelectorSet>{''.join(parts)}</w:SelectorSet>" if parts else ""


def ref_content(ref: CimRef) -> str:
    """a:Address + a:ReferenceParameters (REF properties, REF out-parameters, EPR items)."""
    return (f"<a:Address>{ns.ANONYMOUS}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{ref.uri}</w:ResourceURI>{selector_set(ref)}</a:ReferenceParameters>")


def epr(ref: CimRef) -> str:
    """An a:EndpointReference, the item shape of EnumerationMode EnumerateEPR (wire notes 2.7)."""
    return f"<a:EndpointReference>{ref_content(ref)}</a:EndpointReference>"


# ---------------------------------------------------------------- instances on the wire

def _render_prop(tag: str, prop: Prop, value: Any, cim_prefix: str, ref_decl: str) -> str:
    if value is None or (prop.array and not value):
        return f'<{tag} xsi:nil="true"/>'
    values = value if prop.array else [value]
    decl = ref_decl if prop.cimtype == "ref" else ""
    return "".join(f"<{tag}{decl}>{_scalar(v, prop.cimtype, cim_prefix)}</{tag}>" for v in values)


def render_instance(inst: Instance) -> str:
    """The instance element exactly as Windows writes it in Items and in a GetResponse body."""
    cls = inst.cls
    ref_decl = f' xmlns:a="{ns.ADDRESSING}" xmlns:w="{ns.WSMAN}"'
    body = "".join(_render_prop(f"p:{p.name}", p, inst.values.get(p.name), "cim:", ref_decl) for p in cls.ordered)
    return (f'<p:{cls.name} xmlns:xsi="{ns.XSI}" xmlns:p="{cls.uri}" xmlns:cim="{ns.CIM}" '
            f'xsi:type="p:{cls.name}_Type">{body}</p:{cls.name}>')


def render_fragment(inst: Instance, names: list[str]) -> str:
    """A SELECT-list row: w:XmlFragment with un-namespaced children, alphabetical (wire notes 2.6)."""
    props = sorted((inst.cls.prop(n) for n in names), key=lambda p: p.name.lower())
    ref_decl = f' xmlns:a="{ns.ADDRESSING}" xmlns:w="{ns.WSMAN}"'
    body = "".join(_render_prop(p.name, p, inst.values.get(p.name), "", ref_decl) for p in props)
    return f'<w:XmlFragment xmlns:xsi="{ns.XSI}" xmlns:w="{ns.WSMAN}">{body}</w:XmlFragment>'


# ---------------------------------------------------------------- object paths (WQL and REF comparison)

def parse_object_path(path: str) -> tuple[str, list[tuple[str, Any]]]:
    r"""Parse [\\SERVER\namespace:]Class[.Key="v",Key2=5 | =@]; raises ValueError on bad syntax."""
    if ":" in path and path.startswith("\\\\"):
        path = path.split(":", 1)[1]
    cls, sep, rest = path.partition(".")
    if not sep:
        cls, _sep, singleton = path.partition("=")
        if singleton not in ("", "@"):
            raise ValueError("bad singleton path")
        return _check_ident(cls), []
    return _check_ident(cls), _parse_keys(rest)


def _check_ident(name: str) -> str:
    name = name.strip()
    if not name or not all(c.isalnum() or c == "_" for c in name):
        raise ValueError(f"bad class name {name!r}")
    return name


def _parse_keys(rest: str) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = []
    i = 0
    while i < len(rest):
        eq = rest.find("=", i)
        if eq < 0:
            raise ValueError("missing '=' in object path")
        name = _check_ident(rest[i:eq])
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            value, i = _quoted(rest, i + 1)
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            raw = rest[i:end].strip()
            try:
                value = int(raw)
            except ValueError as exc:
                raise ValueError(f"bad key value {raw!r}") from exc
            i = end
        keys.append((name, value))
        if i < len(rest):
            if rest[i] != ",":
                raise ValueError("expected ',' in object path")
            i += 1
    return keys


def _quoted(s: str, i: int) -> tuple[str, int]:
    out = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise ValueError("unterminated string in object path")


def ref_from_path(path: str, classes: "ClassRegistry") -> CimRef:
    """Object path text -> CimRef with canonical class and key names (ValueError if unknown)."""
    cls_name, keys = parse_object_path(path)
    cls = classes.get(cls_name)
    if cls is None:
        raise ValueError(f"unknown class {cls_name}")
    canon = {}
    for k, v in keys:
        prop = cls.prop(k)
        if prop is None or not prop.key:
            raise ValueError(f"{k} is not a key of {cls.name}")
        canon[prop.name] = v
    return CimRef.make(cls.name, canon)


class ClassRegistry:
    """All modelled classes by case-insensitive name."""

    def __init__(self, classes: Iterable[CimClass]) -> None:
        self._by_lower = {c.name.lower(): c for c in classes}

    def get(self, name: str) -> CimClass | None:
        return self._by_lower.get(name.lower())

    def all(self) -> list[CimClass]:
        return list(self._by_lower.values())

    def known_name(self, name: str) -> bool:
        """A modelled class or a superclass of one (both are valid in FROM / ResultClass)."""
        return self.get(name) is not None or any(c.is_a(name) for c in self._by_lower.values())


# ---------------------------------------------------------------- selector resolution (Get, Invoke)

def resolve(cls: CimClass, instances: list[Instance], selectors: list[tuple[str, Any]]) -> Instance:
    """Find the one instance a selector set names, or raise the fault Windows would send (wire notes 3)."""
    if not selectors:
        raise faults.no_keys_not_singleton()
    seen: dict[str, Any] = {}
    for name, value in selectors:
        prop = cls.prop(name)
        if prop is None or not prop.key:
            raise faults.unexpected_selectors()
        if prop.name in seen:
            raise faults.duplicate_selectors()
        seen[prop.name] = value
    # A subset of the keys is accepted when it identifies one instance (libvirt relies on it, wire notes 3).
    found = [i for i in instances if all(values_equal(i.values.get(k), v) for k, v in seen.items())]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise faults.insufficient_selectors()
    raise faults.not_found(CimRef.make(cls.name, seen).path(), "GetObject", cls.provider)
