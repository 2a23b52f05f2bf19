"""Hostile inputs for tests/api/test_hostile_inputs_property.py: the values, where they go, and what came back.

- The values: strings with NUL, C0 and C1 controls, lone surrogates, over-long and empty strings; unbounded numbers
  (beyond 64 bits, NaN, 1e999, 5,000 digits); naive and extreme dates. Each has a label for the report.
- Where they go: every leaf of a valid JSON example (and every key of a map, every list as a whole), one at a time,
  typed by the operation's JSON schema; every field of every HTML form, read from the page as a browser reads it.
- Encoding what json.dumps, httpx and urlencode refuse to write: a lone surrogate (JSON escape, or its UTF-8-like
  bytes in a URL or form), NaN, 5,000 digits, invalid UTF-8.
- Reading a 5xx's traceback from the API's log, summed up as the exception and the deepest frame of our code.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

JsonPath = tuple[str | int, ...]  # keys and list indices from a JSON document's root


@dataclass(frozen=True)
class Raw:
    """A JSON token written as is: what json.dumps will not write (NaN, 1e999, an integer of 5,000 digits)."""

    token: str


@dataclass(frozen=True)
class Repeat:
    """A list's first item, `times` times over."""

    times: int


@dataclass(frozen=True)
class Hostile:
    label: str
    value: Any  # str, bytes (URLs and forms only), int, float, None, Raw, Repeat, list


# --- the values ------------------------------------------------------------------------------------------------

STRINGS = [
    Hostile("NUL", "nul\x00inside"),
    Hostile("C0 controls, CR LF", "esc\x1b[31m bel\x07\r\nBcc: victim@example.com"),
    Hostile("tab and LF", "tab\there\nnext line"),
    Hostile("DEL and C1 controls", "del\x7f nel\x85 csi\x9b"),
    LONE_SURROGATE := Hostile("lone surrogate", "x\ud800y"),
    Hostile("10,000 characters", "x" * 10_000),
    Hostile("empty", ""),
    Hostile("only spaces", "   "),
    Hostile("bidi override, zero-width, BOM, U+2028", "\u202egnp.exe\u200b\ufeff\u2028"),
    Hostile("case mapping doubles the length (ß, İ)", "ßİ" * 100),
    Hostile("astral, private use, noncharacter", "\U0001f600\U0010fffd\ue000\uffff" * 50),
]
NUMBERS = [
    Hostile("-1", -1),
    Hostile("0", 0),
    Hostile("2**31", 2**31),
    Hostile("10**10", 10**10),
    Hostile("10**20", 10**20),
    Hostile("1.5", 1.5),
    Hostile("1e308", 1e308),
    Hostile("1e999 (infinity)", Raw("1e999")),
    Hostile("NaN", Raw("NaN")),
    Hostile("5,000 digits", Raw("9" * 5000)),
]
DATES = [
    Hostile("naive 9999-12-31", "9999-12-31T00:00:00"),
    Hostile("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    Hostile("0001-01-01 UTC", "0001-01-01T00:00:00+00:00"),
    Hostile("naive 0001-01-01", "0001-01-01T00:00:00"),
    Hostile("2100-01-02Z", "2100-01-02T00:00:00Z"),
    Hostile("offset +23:59", "2024-06-01T00:00:00+23:59"),
    Hostile("timestamp 10**20", 10**20),
    STRINGS[0],  # NUL
]
BOOLS = [Hostile("2", 2), Hostile('"yes"', "yes"), Hostile('"false"', "false")]
NULL = Hostile("null", None)
LISTS = [Hostile("empty list", []), Hostile("1,000 items", Repeat(1000))]
BY_KIND = {
    "string": [*STRINGS, NULL],
    "number": [*NUMBERS, NULL],
    "date": [*DATES, NULL],
    "bool": [*BOOLS, NULL],
    "key": STRINGS,
    "list": [*LISTS, NULL],
}
# Whole bodies: what a JSON parser meets before any field does.
BODIES = [
    Hostile("100,000 nested arrays", Raw("[" * 100_000 + "]" * 100_000)),
    Hostile("invalid UTF-8", b'{"x": "\xff\xfe"}'),
    Hostile("NUL byte, not JSON", b"\x00"),
    Hostile("JSON null", Raw("null")),
    Hostile("JSON string with NUL", Raw('"\\u0000"')),
    Hostile("1e999", Raw("1e999")),
    Hostile("2 MB of keys", Raw("{" + '"k": 1, ' * 200_000 + '"k": 1}')),
]
# Text a URL (path, query) or a url-encoded form carries: everything is a string there.
TEXT = [
    *STRINGS,
    Hostile("invalid UTF-8", b"\xff\xfe"),
    Hostile("-1", "-1"),
    Hostile("2**31", "2147483648"),
    Hostile("10**20", "100000000000000000000"),
    Hostile("1e999", "1e999"),
    Hostile("NaN", "NaN"),
    Hostile("5,000 digits", "9" * 5000),
    Hostile("naive 9999-12-31", "9999-12-31T00:00:00"),
]
# Random text for the property's generated cases: any character (lone surrogates, controls, format and private-use
# characters, symbols, letters whose case mapping changes the length), up to past the usual limits.
RANDOM_TEXT = st.text(
    st.characters(codec=None, categories=["Cc", "Cs", "Cf", "Co", "Zl", "Zp", "Zs", "So", "Lu", "Ll", "Lo", "Mn", "Nd"])
    | st.sampled_from(["ß", "İ", "\ufb00", "\u0390"]),
    max_size=300,
)
# For what a person picks rather than types (a select, a radio, a checkbox, a button, a hidden field): what a
# tampered request sends there.
PICKED = [h for h in TEXT if h.label in ("NUL", "C0 controls, CR LF", "lone surrogate", "10,000 characters", "empty",
                                        "invalid UTF-8", "-1", "5,000 digits")]  # fmt: skip
# What HTTP/1.1 can carry in a header at all (no NUL, CR, LF or other controls; httpx sends no surrounding blanks).
HEADER_VALUES = [
    Hostile("10,000 characters", "x" * 10_000),
    Hostile("obs-text bytes", b"\xff\xfe\x85"),
    Hostile("empty", ""),
    Hostile("quotes, commas, semicolons", 'a,b; c="d\\"e"'),
]


# --- encoding --------------------------------------------------------------------------------------------------


def encode_json(value: Any) -> bytes:
    """JSON as a hostile client writes it: ASCII escapes (so a lone surrogate goes as \\ud800), Raw tokens as is."""
    raws: dict[str, str] = {}

    def swap(v: Any) -> Any:
        if isinstance(v, Raw):
            key = f"@@raw{len(raws)}@@"
            raws[key] = v.token
            return key
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [swap(x) for x in v]
        return v

    text = json.dumps(swap(value), ensure_ascii=True, allow_nan=True)
    for key, token in raws.items():
        text = text.replace(f'"{key}"', token)
    return text.encode()


def encode_body(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return encode_json(value)


def url_text(value: Any) -> str:
    """A value percent-encoded for a path segment or a query value; a lone surrogate as its (invalid) UTF-8 bytes."""
    if isinstance(value, bytes):
        return quote(value, safe="")
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def form_encode(pairs: list[tuple[str, Any]]) -> bytes:
    return "&".join(f"{url_text(k)}={url_text(v)}" for k, v in pairs).encode()


def header_value(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


# --- where the values go: a JSON example, typed by its schema ------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    path: JsonPath
    kind: str  # string, number, date, bool, key (a map's key), list


class Schemas:
    """Resolves $ref and nullable anyOf in an OpenAPI document's schemas."""

    def __init__(self, openapi: dict[str, Any]) -> None:
        self.components = openapi.get("components", {}).get("schemas", {})

    def resolve(self, schema: dict[str, Any] | None, example: Any = None) -> dict[str, Any]:
        schema = schema or {}
        for _ in range(20):
            if "$ref" in schema:
                schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
            elif "anyOf" in schema or "oneOf" in schema:
                branches = [b for b in schema.get("anyOf", schema.get("oneOf", [])) if b.get("type") != "null"]
                schema = next((b for b in branches if _fits(self.resolve(b), example)), branches[0] if branches else {})
            elif "allOf" in schema and len(schema["allOf"]) == 1:
                schema = schema["allOf"][0]
            else:
                return schema
        return schema

    def kind(self, schema: dict[str, Any], example: Any) -> str:
        s = self.resolve(schema, example)
        t = s.get("type")
        if t == "string" or (t is None and isinstance(example, str)):
            is_date = s.get("format") == "date-time" or (t is None and _looks_like_date(example))
            return "date" if is_date else "string"
        if t in ("integer", "number") or (
            t is None and isinstance(example, int | float) and not isinstance(example, bool)
        ):
            return "number"
        if t == "boolean" or isinstance(example, bool):
            return "bool"
        return "string"

    def slots(self, example: Any, schema: dict[str, Any] | None, path: JsonPath = ()) -> Iterator[Slot]:
        """Every place a hostile value can go in `example`: its leaves, its maps' keys, its lists as a whole."""
        s = self.resolve(schema, example)
        if isinstance(example, dict):
            is_map = "additionalProperties" in s and not s.get("properties")
            for key, value in example.items():
                if is_map:
                    yield Slot((*path, key), "key")
                    sub = s["additionalProperties"] if isinstance(s["additionalProperties"], dict) else {}
                else:
                    sub = s.get("properties", {}).get(key, {})
                yield from self.slots(value, sub, (*path, key))
        elif isinstance(example, list):
            if path:
                yield Slot(path, "list")
            if example:  # the items share one schema: the first stands for them all
                yield from self.slots(example[0], s.get("items", {}), (*path, 0))
        else:
            yield Slot(path, self.kind(schema or {}, example))

    def declared(
        self, schema: dict[str, Any] | None, path: tuple[str, ...] = (), depth: int = 0
    ) -> set[tuple[str, ...]]:
        """Every property path the schema declares (lists as "*", map keys as "{}"): what a complete example covers."""
        if depth > 12:
            return set()
        raw = schema or {}
        branches = [b for b in raw.get("anyOf", raw.get("oneOf", [])) if b.get("type") != "null"]
        if branches:
            return set().union(*(self.declared(b, path, depth + 1) for b in branches))
        s = self.resolve(raw)
        found: set[tuple[str, ...]] = set()
        for key, sub in s.get("properties", {}).items():
            found.add((*path, key))
            found |= self.declared(sub, (*path, key), depth + 1)
        if isinstance(s.get("additionalProperties"), dict):
            found |= self.declared(s["additionalProperties"], (*path, "{}"), depth + 1)
        if "items" in s:
            found |= self.declared(s["items"], (*path, "*"), depth + 1)
        return found

    def present(self, example: Any, schema: dict[str, Any] | None, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
        s = self.resolve(schema, example)
        found: set[tuple[str, ...]] = set()
        if isinstance(example, dict):
            is_map = "additionalProperties" in s and not s.get("properties")
            for key, value in example.items():
                step = "{}" if is_map else key
                sub = (s.get("additionalProperties") if is_map else s.get("properties", {}).get(key)) or {}
                found.add((*path, step))
                found |= self.present(value, sub if isinstance(sub, dict) else {}, (*path, step))
        elif isinstance(example, list):
            for item in example:
                found |= self.present(item, s.get("items", {}), (*path, "*"))
        return found


def _fits(schema: dict[str, Any], example: Any) -> bool:
    t = schema.get("type")
    if example is None or t is None:
        return True
    kinds = {"string": str, "integer": int, "number": int | float, "boolean": bool, "array": list, "object": dict}
    return isinstance(example, kinds.get(t, object))


def _looks_like_date(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?", value) is not None


def substitute(example: Any, slot: Slot, hostile: Hostile) -> Any:
    """A copy of `example` with the hostile value at the slot (or as the map key there)."""
    body = copy.deepcopy(example)
    *parents, last = slot.path
    holder = body
    for step in parents:
        holder = holder[step]
    if slot.kind == "key":
        assert isinstance(holder, dict) and isinstance(last, str)
        holder[hostile.value] = holder.pop(last)
    elif isinstance(hostile.value, Repeat):
        holder[last] = [copy.deepcopy(holder[last][0]) for _ in range(hostile.value.times)] if holder[last] else []
    else:
        holder[last] = hostile.value
    return body


def dotted(path: JsonPath) -> str:
    return ".".join(str(p) for p in path)


# --- where the values go: HTML forms -------------------------------------------------------------------------------


@dataclass
class Control:
    name: str
    tag: str
    type: str
    value: str = ""
    checked: bool = False
    disabled: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # select: (value, selected)
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Form:
    method: str
    action: str
    controls: list[Control] = field(default_factory=list)
    also_posts_to: list[str] = field(default_factory=list)  # hx-post on a control inside the form

    def typed(self, name: str) -> bool:
        """Whether a person types this field (a text box), rather than picks it."""
        kinds = {"text", "search", "number", "password", "email", "tel", "url"}
        return any(
            c.name == name and (c.tag == "textarea" or (c.tag == "input" and c.type in kinds)) for c in self.controls
        )

    def names(self) -> list[str]:
        return list(dict.fromkeys(c.name for c in self.controls if c.name))

    def base(self, fill: dict[str, str]) -> list[tuple[str, str]]:
        """What a person who filled the form in sensibly would send: defaults, `fill` for empty boxes."""
        pairs: list[tuple[str, str]] = []
        radios: dict[str, str] = {}
        submit_sent = False
        for c in self.controls:
            if not c.name or c.disabled:
                continue
            if c.tag == "select":
                chosen = [v for v, selected in c.options if selected] or [v for v, _ in c.options if v][-1:]
                pairs.append((c.name, chosen[0] if chosen else ""))
            elif c.type == "radio":
                if c.checked or c.name not in radios:
                    radios[c.name] = c.value
            elif c.type == "checkbox":
                pairs.append((c.name, c.value or "on"))
            elif c.tag == "button" or c.type == "submit":
                if not submit_sent:
                    pairs.append((c.name, c.value))
                    submit_sent = True
            elif c.value:
                pairs.append((c.name, c.value))
            elif c.name in fill:
                pairs.append((c.name, fill[c.name]))
            elif c.type == "number":
                pairs.append((c.name, c.attrs.get("max") or c.attrs.get("min") or "1"))
            else:
                pairs.append((c.name, "ok"))
        pairs.extend(radios.items())
        return pairs


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.by_id: dict[str, Form] = {}  # a control outside its form names it: <input form="bulk">
        self.select: Control | None = None
        self.option: list[Any] | None = None  # [value or None, selected, text]
        self.textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form = Form(method=a.get("method", "get").lower(), action=a.get("action", ""))
            if "hx-post" in a:  # the form sends itself elsewhere on a change (the portal's steps)
                self.form.also_posts_to.append(a["hx-post"])
            self.forms.append(self.form)
            if a.get("id"):
                self.by_id[a["id"]] = self.form
            return
        form = self.by_id.get(a["form"]) if a.get("form") else self.form
        if form is None:
            return
        if "hx-post" in a:
            form.also_posts_to.append(a["hx-post"])
        if tag in ("input", "select", "textarea", "button"):
            control = Control(name=a.get("name", ""), tag=tag, type=a.get("type", "submit" if tag == "button" else "text"),
                              value=a.get("value", ""), checked="checked" in a, disabled="disabled" in a, attrs=a)  # fmt: skip
            if tag == "button" and control.type != "submit":
                return
            form.controls.append(control)
            if tag == "select":
                self.select = control
            elif tag == "textarea":
                self.textarea = control
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a and "disabled" not in a, ""]

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option[2] += data
        elif self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self.option is not None and self.select is not None:
            value, selected, text = self.option
            self.select.options.append((text.strip() if value is None else value, selected))
            self.option = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.form = None


def forms_in(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


# --- what came back: a traceback in the API's log -----------------------------------------------------------------

_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)')
_EXCEPTION = re.compile(
    r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Timeout|Group|Interrupt|Violation|Character|Iteration)\b(?::.*)?$"
)


def traceback_summary(text: str, root: str) -> str | None:
    """The last traceback in `text`: its innermost exception line and the deepest frame of the project's own code."""
    start = text.find("Traceback (most recent call last):")
    if start < 0:
        return None
    lines = [re.sub(r"^(\s*[|+][-+ ]*)+", "", line) for line in text[start:].splitlines()]
    frames, exceptions = [], []
    for i, line in enumerate(lines):
        m = _FRAME.match(line)
        if m:
            frames.append(m.groups())
        elif frames and _EXCEPTION.match(line):
            # SQLAlchemy puts the driver's own error on the next line: "(psycopg.errors.X) value too long ..."
            after = lines[i + 1].strip() if i + 1 < len(lines) else ""
            exceptions.append(line.strip() + (" " + after if re.match(r"^\([\w.]+\) ", after) else ""))
    ours = [f for f in frames if f[0].startswith(root) and "/.venv/" not in f[0] and "site-packages" not in f[0]]
    exc = next((e for e in reversed(exceptions) if not e.startswith(("ExceptionGroup", "BaseExceptionGroup"))), None)
    where = (
        f"{ours[-1][0].removeprefix(root).lstrip('/')}:{ours[-1][1]} in {ours[-1][2]}" if ours else "no project frame"
    )
    return f"{(exc or '?')[:300]} [at {where}]"
