"""WQL: tokenizer, parser and evaluator for the queries a WS-Management client sends to the WMI plugin.

Supported: SELECT * | p1, p2 FROM Class [WHERE cond]; ASSOCIATORS OF {path} [WHERE AssocClass = X ResultClass = Y
Role = R ResultRole = R2]; REFERENCES OF {path} [WHERE ResultClass = X Role = R].  Conditions: = <> != < > <= >=,
LIKE (% _ [abc] [^a-z]), IS [NOT] NULL, AND, OR, NOT, parentheses.  Literals: strings in single or double quotes with
the backslash escapes \\' \\" \\\\ (any other backslash is a syntax error, as in WMI), integers, TRUE, FALSE, NULL.
Keywords, class and property names are case-insensitive, and so are string comparisons (as in WMI).
"""

import datetime
import functools
import re
from dataclasses import dataclass
from typing import Any, Protocol

from . import faults
from .cim import CimClass, CimRef, ClassRegistry, Instance, NUMERIC_TYPES, parse_object_path, values_equal


class WqlError(Exception):
    """Syntax or semantic error; becomes the invalid-query fault."""


class ClassNotFound(Exception):
    """The query names a class that does not exist in the namespace."""


# ---------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str   # IDENT, STRING, NUMBER, OP, PATH, PUNCT, EOF
    value: Any
    pos: int


_OPERATORS = ("<=", ">=", "<>", "!=", "=", "<", ">")
_ESCAPES = {"'": "'", '"': '"', "\\": "\\"}


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(query):
        c = query[i]
        if c.isspace():
            i += 1
        elif c.isalpha() or c == "_":
            j = i
            while j < len(query) and (query[j].isalnum() or query[j] == "_"):
                j += 1
            tokens.append(Token("IDENT", query[i:j], i))
            i = j
        elif c.isdigit() or (c == "-" and i + 1 < len(query) and query[i + 1].isdigit()):
            j = i + 1
            while j < len(query) and query[j].isdigit():
                j += 1
            tokens.append(Token("NUMBER", int(query[i:j]), i))
            i = j
        elif c in "'\"":
            value, i = _string(query, i)
            tokens.append(Token("STRING", value, i))
        elif c == "{":
            end = _path_end(query, i)
            tokens.append(Token("PATH", query[i + 1:end], i))
            i = end + 1
        elif c in "(),*":
            tokens.append(Token("PUNCT", c, i))
            i += 1
        else:
            op = next((o for o in _OPERATORS if query.startswith(o, i)), None)
            if op is None:
                raise WqlError(f"unexpected character {c!r} at {i}")
            tokens.append(Token("OP", "<>" if op == "!=" else op, i))
            i += len(op)
    tokens.append(Token("EOF", None, len(query)))
    return tokens


def _string(query: str, start: int) -> tuple[str, int]:
    quote = query[start]
    out = []
    i = start + 1
    while i < len(query):
        c = query[i]
        if c == "\\":
            nxt = query[i + 1] if i + 1 < len(query) else ""
            if nxt not in _ESCAPES:
                raise WqlError(f"invalid escape sequence at {i}")
            out.append(_ESCAPES[nxt])
            i += 2
        elif c == quote:
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise WqlError("unterminated string literal")


def _path_end(query: str, start: int) -> int:
    i = start + 1
    quote = ""
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "}":
            return i
        i += 1
    raise WqlError("unterminated object path")


# ---------------------------------------------------------------- syntax tree

@dataclass(frozen=True)
class Compare:
    prop: str
    op: str
    value: Any          # str, int, bool or None (NULL)


@dataclass(frozen=True)
class Like:
    prop: str
    pattern: str


@dataclass(frozen=True)
class IsNull:
    prop: str


@dataclass(frozen=True)
class Not:
    inner: Any


@dataclass(frozen=True)
class BoolOp:
    op: str             # AND / OR
    left: Any
    right: Any


@dataclass(frozen=True)
class AnyOf:
    """``p = 'a' OR p = 'b' OR ...`` on one string or reference property, evaluated as one set lookup of the values'
    comparison keys (_equality_key): a client's lookup of 40 names, a poll of 50 jobs or the jobs of 40 VMs would
    otherwise walk 40 or 50 comparisons per row, parsing an object path for each."""
    prop: str
    values: frozenset


def _equality_key(value: Any) -> Any:
    """What ``=`` compares: a string casefolded; a reference by class and keys, names and values case-insensitive."""
    if isinstance(value, CimRef):
        return ("ref", value.class_name.lower(),
                tuple(sorted((name.lower(), _equality_key(key) if isinstance(key, CimRef) else str(key).lower())
                             for name, key in value.keys)))
    return value.casefold() if isinstance(value, str) else value


@dataclass(frozen=True)
class SelectQuery:
    class_name: str
    props: tuple[str, ...] | None   # None = *
    where: Any


@dataclass(frozen=True)
class AssociatorsQuery:
    path: str
    assoc_class: str | None
    result_class: str | None
    role: str | None
    result_role: str | None


@dataclass(frozen=True)
class ReferencesQuery:
    path: str
    result_class: str | None
    role: str | None


_FLIP = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = tokenize(query)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok.kind == "IDENT" and tok.value.upper() == word:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise WqlError(f"expected {word} at {self.peek().pos}")

    def expect(self, kind: str, value: Any = None) -> Token:
        tok = self.next()
        if tok.kind != kind or (value is not None and tok.value != value):
            raise WqlError(f"expected {value or kind} at {tok.pos}")
        return tok

    def ident(self) -> str:
        tok = self.expect("IDENT")
        return tok.value

    def parse(self) -> Any:
        if self.keyword("SELECT"):
            query = self.select()
        elif self.keyword("ASSOCIATORS"):
            query = self.associators()
        elif self.keyword("REFERENCES"):
            query = self.references()
        else:
            raise WqlError("a query starts with SELECT, ASSOCIATORS OF or REFERENCES OF")
        self.expect("EOF")
        return query

    def select(self) -> SelectQuery:
        props: tuple[str, ...] | None = None
        if self.peek().kind == "PUNCT" and self.peek().value == "*":
            self.next()
        else:
            names = [self.ident()]
            while self.peek().kind == "PUNCT" and self.peek().value == ",":
                self.next()
                names.append(self.ident())
            props = tuple(names)
        self.expect_keyword("FROM")
        class_name = self.ident()
        where = self.expr() if self.keyword("WHERE") else None
        return SelectQuery(class_name, props, where)

    def expr(self) -> Any:
        left = self.and_expr()
        while self.keyword("OR"):
            left = BoolOp("OR", left, self.and_expr())
        return left

    def and_expr(self) -> Any:
        left = self.not_expr()
        while self.keyword("AND"):
            left = BoolOp("AND", left, self.not_expr())
        return left

    def not_expr(self) -> Any:
        if self.keyword("NOT"):
            return Not(self.not_expr())
        if self.peek().kind == "PUNCT" and self.peek().value == "(":
            self.next()
            inner = self.expr()
            self.expect("PUNCT", ")")
            return inner
        return self.comparison()

    def operand(self) -> tuple[str, Any]:
        """('prop', name) or ('const', value)."""
        tok = self.next()
        if tok.kind in ("STRING", "NUMBER"):
            return "const", tok.value
        if tok.kind == "IDENT":
            word = tok.value.upper()
            if word in ("TRUE", "FALSE"):
                return "const", word == "TRUE"
            if word == "NULL":
                return "const", None
            if word in ("AND", "OR", "NOT", "LIKE", "IS", "WHERE", "FROM", "SELECT"):
                raise WqlError(f"unexpected keyword {tok.value} at {tok.pos}")
            return "prop", tok.value
        raise WqlError(f"unexpected token at {tok.pos}")

    def comparison(self) -> Any:
        kind, left = self.operand()
        if kind == "prop" and self.keyword("IS"):
            negate = self.keyword("NOT")
            self.expect_keyword("NULL")
            return Not(IsNull(left)) if negate else IsNull(left)
        if kind == "prop" and self._is_like():
            negated = self.keyword("NOT")
            self.expect_keyword("LIKE")
            pattern = self.expect("STRING").value
            return Not(Like(left, pattern)) if negated else Like(left, pattern)
        op = self.expect("OP").value
        rkind, right = self.operand()
        if kind == rkind:
            # WQL compares a property with a constant; two constants or two properties are rejected.
            raise WqlError("a comparison needs one property and one constant")
        if kind == "const":
            return Compare(right, _FLIP[op], left)
        return Compare(left, op, right)

    def _is_like(self) -> bool:
        """LIKE or NOT LIKE follows."""
        tok = self.peek()
        return tok.kind == "IDENT" and tok.value.upper() in ("LIKE", "NOT")

    def object_path(self) -> str:
        self.expect_keyword("OF")
        tok = self.expect("PATH")
        return tok.value.strip()

    def assoc_clauses(self, allowed: tuple[str, ...]) -> dict[str, str]:
        clauses: dict[str, str] = {}
        if not self.keyword("WHERE"):
            return clauses
        while self.peek().kind == "IDENT":
            name = self.ident()
            if name.upper() not in allowed:
                raise WqlError(f"{name} is not supported in this query")
            self.expect("OP", "=")
            clauses[name.upper()] = self.ident()
        if not clauses:
            raise WqlError("empty WHERE clause")
        return clauses

    def associators(self) -> AssociatorsQuery:
        path = self.object_path()
        c = self.assoc_clauses(("ASSOCCLASS", "RESULTCLASS", "ROLE", "RESULTROLE"))
        return AssociatorsQuery(path, c.get("ASSOCCLASS"), c.get("RESULTCLASS"), c.get("ROLE"), c.get("RESULTROLE"))

    def references(self) -> ReferencesQuery:
        path = self.object_path()
        c = self.assoc_clauses(("RESULTCLASS", "ROLE"))
        return ReferencesQuery(path, c.get("RESULTCLASS"), c.get("ROLE"))


def parse(query: str) -> Any:
    """Parse a WQL string; raises WqlError."""
    return _Parser(query).parse()


# ---------------------------------------------------------------- evaluation

class Source(Protocol):
    """What the evaluator needs from the model."""

    classes: ClassRegistry

    def instances_of(self, class_name: str) -> list[Instance]:
        """Instances of the class or of classes derived from it."""

    def association_instances(self, of_class: str | None = None) -> list[Instance]:
        """Every association instance, or those of one class (and the classes derived from it)."""

    def instances_with(self, class_name: str, prop: str, values: Any) -> list[Instance] | None:
        """The instances whose key ``prop`` is one of ``values``, by index; None when the class has none."""

    def lookup(self, ref: CimRef) -> Instance | None:
        """The instance a reference names, if it exists."""


@dataclass
class Row:
    """One result: the instance, and the select list (None for SELECT * and association queries)."""

    instance: Instance
    props: list[str] | None = None


@functools.lru_cache(maxsize=4096)
def _like_regex(pattern: str) -> re.Pattern:
    """The compiled form of a LIKE pattern; cached, as a query applies each of its patterns to every row."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise WqlError("unterminated [ in LIKE pattern")
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            chars = "".join("\\" + ch if ch in "\\]^[" else ch for ch in body)
            out.append(f"[{'^' if negate else ''}{chars}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _parse_dmtf_datetime(value: str) -> datetime.datetime:
    m = re.fullmatch(r"(\d{14})\.(\d{6})([+-])(\d{3})", value)
    if not m:
        raise WqlError(f"{value!r} is not a DMTF datetime")
    base = datetime.datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(microsecond=int(m.group(2)))
    offset = int(m.group(4)) * (1 if m.group(3) == "+" else -1)
    return base.replace(tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)))


class _Evaluator:
    def __init__(self, classes: list[CimClass], source: Source) -> None:
        self.classes = classes
        self.source = source

    def check(self, node: Any) -> None:
        """Validate property names and types before evaluating (WMI rejects the whole query)."""
        if isinstance(node, BoolOp):
            self.check(node.left)
            self.check(node.right)
        elif isinstance(node, Not):
            self.check(node.inner)
        else:
            cimtype, array = self.prop_type(node.prop)
            if array:
                raise WqlError(f"array property {node.prop} cannot be used in WHERE")
            if isinstance(node, Compare) and node.value is not None:
                self.coerce(cimtype, node.value, node.op)
            if isinstance(node, Like) and cimtype not in ("string", "char16"):
                raise WqlError(f"LIKE needs a string property, {node.prop} is {cimtype}")

    def prop_type(self, name: str) -> tuple[str, bool]:
        if name.upper() == "__CLASS":
            return "string", False
        for cls in self.classes:
            prop = cls.prop(name)
            if prop is not None:
                return prop.cimtype, prop.array
        raise WqlError(f"unknown property {name}")

    def coerce(self, cimtype: str, value: Any, op: str) -> Any:
        """The constant converted to the property's type; WqlError on a mismatch."""
        if cimtype in NUMERIC_TYPES:
            if isinstance(value, bool):
                raise WqlError("boolean constant compared with a number")
            try:
                return int(value)
            except ValueError as exc:
                raise WqlError(f"{value!r} is not a number") from exc
        if cimtype == "boolean":
            return self._coerce_bool(value)
        if cimtype == "datetime":
            return _parse_dmtf_datetime(str(value))
        if cimtype == "ref":
            if op not in ("=", "<>"):
                raise WqlError("references compare with = or <> only")
            try:
                cls_name, keys = parse_object_path(str(value))
            except ValueError as exc:
                raise WqlError(str(exc)) from exc
            return CimRef.make(cls_name, dict(keys))
        if cimtype == "interval":
            raise WqlError("interval properties are not supported in WHERE by the simulator")
        return str(value)

    @staticmethod
    def _coerce_bool(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise WqlError(f"{value!r} is not a boolean")

    def value_of(self, inst: Instance, name: str) -> Any:
        if name.upper() == "__CLASS":
            return inst.cls.name
        return inst.get(name)

    def fold(self, node: Any) -> Any:
        """The same condition with each OR of string equalities on one property as one AnyOf (after check())."""
        if isinstance(node, Not):
            return Not(self.fold(node.inner))
        if not isinstance(node, BoolOp):
            return node
        if node.op == "OR":
            terms = _or_terms(node)
            props = {term.prop.lower() for term in terms if isinstance(term, Compare)}
            cimtype = self.prop_type(terms[0].prop)[0] if len(props) == 1 else ""
            if cimtype in ("string", "ref") and all(isinstance(term, Compare) and term.op == "=" and
                                                    isinstance(term.value, str) for term in terms):
                return AnyOf(terms[0].prop, frozenset(_equality_key(self.coerce(cimtype, term.value, "="))
                                                      for term in terms))
        return BoolOp(node.op, self.fold(node.left), self.fold(node.right))

    def matches(self, node: Any, inst: Instance) -> bool:
        if node is None:
            return True
        if isinstance(node, AnyOf):
            value = self.value_of(inst, node.prop)
            return value is not None and _equality_key(value) in node.values
        if isinstance(node, BoolOp):
            if node.op == "AND":
                return self.matches(node.left, inst) and self.matches(node.right, inst)
            return self.matches(node.left, inst) or self.matches(node.right, inst)
        if isinstance(node, Not):
            return not self.matches(node.inner, inst)
        value = self.value_of(inst, node.prop)
        if isinstance(node, IsNull):
            return value is None
        if isinstance(node, Like):
            return value is not None and bool(_like_regex(node.pattern).fullmatch(str(value)))
        return self.compare(inst, node, value)

    def compare(self, inst: Instance, node: Compare, value: Any) -> bool:
        if node.value is None:
            # "= NULL" / "<> NULL" behave as IS NULL / IS NOT NULL.
            return (value is None) == (node.op == "=")
        if value is None:
            return False
        prop = inst.cls.prop(node.prop)
        cimtype = prop.cimtype if prop is not None else "string"
        constant = self.coerce(cimtype, node.value, node.op)
        if cimtype == "ref":
            equal = values_equal(value, constant)
            return equal if node.op == "=" else not equal
        if isinstance(value, str):
            value, constant = value.casefold(), str(constant).casefold()
        return _apply(node.op, value, constant)


def _apply(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return left == right
    if op == "<>":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def execute(query_text: str, source: Source) -> list[Row]:
    """Run a WQL query against the model; raises WqlError or ClassNotFound."""
    query = parse(query_text)
    if isinstance(query, SelectQuery):
        return _select(query, source)
    if isinstance(query, AssociatorsQuery):
        return _associators(query, source)
    return _references(query, source)


def _or_terms(node: Any) -> list[Any]:
    """The operands of a chain of ORs, in order."""
    if isinstance(node, BoolOp) and node.op == "OR":
        return _or_terms(node.left) + _or_terms(node.right)
    return [node]


def _candidates(class_name: str, where: Any, source: Source) -> list[Instance]:
    """The instances a query has to look at: by index when it asks for key values only (a poll of jobs by
    InstanceID, a read of VMs by Name), every instance of the class otherwise. The WHERE is still applied to them."""
    if isinstance(where, AnyOf):
        keyed = source.instances_with(class_name, where.prop, [str(v) for v in where.values])
        if keyed is not None:
            return keyed
    return source.instances_of(class_name)


def _select(query: SelectQuery, source: Source) -> list[Row]:
    if not source.classes.known_name(query.class_name):
        raise ClassNotFound(query.class_name)
    derived = [c for c in source.classes.all() if c.is_a(query.class_name)]
    evaluator = _Evaluator(derived, source)
    props: list[str] | None = None
    if query.props is not None:
        props = []
        for name in query.props:
            evaluator.prop_type(name)
            props.append(name)
    where = query.where
    if where is not None:
        evaluator.check(where)
        where = evaluator.fold(where)
    rows = []
    for inst in _candidates(query.class_name, where, source):
        if evaluator.matches(where, inst):
            names = None if props is None else [inst.cls.prop(p).name for p in props if inst.cls.prop(p) is not None]
            rows.append(Row(inst, names))
    return rows


def _source_instance(path: str, source: Source) -> Instance:
    try:
        cls_name, keys = parse_object_path(path)
    except ValueError as exc:
        raise WqlError(f"bad object path: {exc}") from exc
    cls = source.classes.get(cls_name)
    if cls is None:
        raise ClassNotFound(cls_name)
    inst = source.lookup(CimRef.make(cls.name, dict(keys)))
    if inst is None:
        # [infer] WMI answers WBEM_E_NOT_FOUND for ASSOCIATORS/REFERENCES OF a missing object.
        raise faults.not_found(path, "ExecQuery", faults.WINMGMT)
    return inst


def _check_class(name: str | None, source: Source) -> None:
    if name is not None and not source.classes.known_name(name):
        raise ClassNotFound(name)


def _links(source: Source, target: Instance, assoc_class: str | None, role: str | None) -> list[tuple[Instance, str]]:
    """(association instance, role property pointing at target) pairs."""
    ref = target.ref()
    links = []
    for assoc in source.association_instances(assoc_class):
        if assoc_class is not None and not assoc.cls.is_a(assoc_class):
            continue
        for prop in assoc.cls.ordered:
            if prop.cimtype != "ref" or (role is not None and prop.name.lower() != role.lower()):
                continue
            value = assoc.values.get(prop.name)
            if isinstance(value, CimRef) and value.matches(ref):
                links.append((assoc, prop.name))
    return links


def _associators(query: AssociatorsQuery, source: Source) -> list[Row]:
    _check_class(query.assoc_class, source)
    _check_class(query.result_class, source)
    target = _source_instance(query.path, source)
    results: list[Instance] = []
    for assoc, role in _links(source, target, query.assoc_class, query.role):
        for prop in assoc.cls.ordered:
            if prop.cimtype != "ref" or prop.name == role:
                continue
            if query.result_role is not None and prop.name.lower() != query.result_role.lower():
                continue
            other = source.lookup(assoc.values[prop.name])
            if other is None or (query.result_class and not other.cls.is_a(query.result_class)):
                continue
            if not any(o is other for o in results):
                results.append(other)
    return [Row(i) for i in results]


def _references(query: ReferencesQuery, source: Source) -> list[Row]:
    _check_class(query.result_class, source)
    target = _source_instance(query.path, source)
    seen: list[Instance] = []
    for assoc, _role in _links(source, target, query.result_class, query.role):
        if not any(a is assoc for a in seen):
            seen.append(assoc)
    return [Row(a) for a in seen]
