"""Read a ``rules.yaml`` and explain every mistake as ``file:line:column: path.to.field: message``.

How: PyYAML composes the document into nodes that keep their start marks; we turn the nodes into
plain data ourselves, remembering the mark of every key and value by its path. Numbers are handed
over as their text (``7.50`` stays ``"7.50"``) so ``Decimal`` gets them exactly, never through a
float. Pydantic's errors carry a path (``loc``) that we look up in those marks; cross-checks
(default segment, profile names, templates) report against the same marks. All mistakes come out
at once, one line each, as a :class:`~connector.errors.RulesError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from connector.errors import RulesError
from rules.schema import Rules, cross_problems

PathKey = tuple[str | int, ...]
TemplateCheck = Callable[[str, str, Path | None], list[str]]


@dataclass
class _Marks:
    """(line, column), 1-based, of every value (and key) in the document, by path."""

    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return node.value.lower() in ("yes", "true", "on", "y")
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(node.value.replace("_", ""))
        except ValueError:  # YAML 1.1 octal/hex/sexagesimal: hand over the text, the model decides
            return node.value
    # Floats, timestamps and strings stay text: Decimal and date parse them exactly.
    return node.value


#: A rules file is a few kilobytes; these bounds stop a YAML bomb (issue 11 §7) long before it
#: costs memory or time: the size of the text, and how many values it may stand for once every
#: alias is expanded (a "billion laughs" of 500 bytes stands for a billion).
MAX_BYTES = 1_000_000
MAX_VALUES = 100_000


class _Bomb(Exception):
    """The document stands for more than :data:`MAX_VALUES` values, or contains itself."""

    def __init__(self, message: str, where: tuple[int, int]) -> None:
        super().__init__(message)
        self.message = message
        self.where = where


@dataclass
class _Budget:
    left: int = MAX_VALUES
    open: set[int] = field(default_factory=set)  # ids of the nodes being built (their ancestors)


def _build(
    node: yaml.Node,
    path: PathKey,
    marks: _Marks,
    problems: list[tuple[PathKey, str, tuple[int, int]]],
    budget: _Budget | None = None,
) -> Any:
    budget = budget if budget is not None else _Budget()
    if id(node) in budget.open:
        raise _Bomb("an alias refers to a value that contains it (a recursive anchor)", _position(node))
    budget.left -= 1
    if budget.left < 0:
        raise _Bomb(f"the document stands for more than {MAX_VALUES:,} values once its aliases are expanded "
                    "(a YAML bomb?); write the values out instead", _position(node))
    if not isinstance(node, yaml.ScalarNode):
        budget.open.add(id(node))
        try:
            return _build_collection(node, path, marks, problems, budget)
        finally:
            budget.open.discard(id(node))
    marks.values[path] = _position(node)
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def _build_collection(
    node: yaml.Node, path: PathKey, marks: _Marks, problems: list[tuple[PathKey, str, tuple[int, int]]], budget: _Budget
) -> Any:
    marks.values[path] = _position(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append((path, "a key must be a plain name", _position(key_node)))
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                problems.append((child, f"{key!r} is given twice", _position(key_node)))
            marks.keys[child] = _position(key_node)
            out[key] = _build(value_node, child, marks, problems, budget)
        return out
    assert isinstance(node, yaml.SequenceNode)
    return [_build(item, (*path, i), marks, problems, budget) for i, item in enumerate(node.value)]


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _clean_loc(loc: tuple[str | int, ...], data: Any) -> PathKey:
    """The part of a pydantic ``loc`` that exists in the data (drops union and validator tags)."""
    clean: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            clean.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and "[" not in part and "-" not in part:
            # A missing or unknown field: name it, its mark is the parent's.
            clean.append(part)
            node = None
        # else: a tag such as 'function-after[...]' or 'decimal': not a place in the file
    return tuple(clean)


def _value_at(data: Any, path: PathKey) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _model_at(path: PathKey, model: type[BaseModel] = Rules) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at ``path`` (for listing allowed fields)."""
    current: Any = model
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {(f.alias or name): f for name, f in current.model_fields.items()}
            if not isinstance(part, str) or part not in fields:
                return None
            current = fields[part].annotation
        else:
            current = _container_item(current)
            if current is None:
                return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) is not None and get_origin(tp) not in (list, dict) and len(args) == 1:
        return _unwrap(args[0])
    return tp


def _container_item(tp: Any) -> Any:
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin is list:
        return get_args(tp)[0]
    if origin is dict:
        return get_args(tp)[1]
    return None


def _message(error: Any, loc: PathKey) -> str:
    kind = error["type"]
    msg = str(error["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden" and loc:
        parent = _model_at(loc[:-1])
        if parent is not None:
            allowed = sorted((f.alias or name) for name, f in parent.model_fields.items())
            return f"unknown field {loc[-1]!r} (allowed: {', '.join(allowed)})"
        return f"unknown field {loc[-1]!r}"
    if kind == "missing" and loc:
        return f"{loc[-1]!r} is required"
    if kind in ("literal_error", "enum"):
        given = error.get("input")
        return f"unknown value {given!r}: {msg[0].lower()}{msg[1:]}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "expected a mapping (indented `key: value` lines)"
    if kind in ("list_type", "tuple_type"):
        return "expected a list (lines that start with `- `)"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{error.get('input')!r} is not a whole number of days" if "days" in str(loc[-1:]) else msg
    # pydantic's "Input should be ..." reads as one line with ours; keep acronyms such as "IBAN".
    return msg[:1].lower() + msg[1:] if msg[1:2].islower() else msg


def _line(file: str, where: tuple[int, int], path: PathKey, message: str) -> tuple[int, int, str]:
    return where[0], where[1], f"{file}:{where[0]}:{where[1]}: {dotted(path)}: {message}"


def _where(path: PathKey, marks: _Marks, key_first: bool = False) -> tuple[int, int]:
    probe = path
    while probe:
        if key_first and probe in marks.keys:
            return marks.keys[probe]
        if probe in marks.values:
            return marks.values[probe]
        if probe in marks.keys:
            return marks.keys[probe]
        probe = probe[:-1]
    return marks.values.get((), (1, 1))


def _default_template_check() -> TemplateCheck | None:
    try:
        from rules.letters import template_problems
    except ImportError:  # the letters module (APPLY) is not installed in this build
        return None
    return template_problems


def check_rules(
    text: str, file: str = "rules.yaml", *, base_dir: Path | None = None, template_check: TemplateCheck | None = None
) -> tuple[Rules | None, list[str]]:
    """Validate rules text: the model (or None) and every mistake, one line each, in file order."""
    found: list[tuple[int, int, str]] = []
    if len(text) > MAX_BYTES:
        return None, [f"{file}:1:1: (file): {len(text):,} characters; a rules file is at most {MAX_BYTES:,}"]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or "not valid YAML"
        hint = " (check the indentation)" if "indent" in problem or "mapping values" in problem or "expected" in problem else ""
        return None, [f"{file}:{line}:{column}: (file): not valid YAML: {problem}{hint}"]
    except yaml.YAMLError as exc:
        return None, [f"{file}:1:1: (file): not valid YAML: {exc}"]
    except RecursionError:
        return None, [f"{file}:1:1: (file): nested too deeply to be a rules file"]
    if node is None:
        return None, [f"{file}:1:1: (file): the file is empty; start with `version: 1`"]
    marks = _Marks()
    structural: list[tuple[PathKey, str, tuple[int, int]]] = []
    try:
        data = _build(node, (), marks, structural)
    except _Bomb as bomb:
        return None, [f"{file}:{bomb.where[0]}:{bomb.where[1]}: (file): {bomb.message}"]
    for path, message, where in structural:
        found.append(_line(file, where, path, message))
    if not isinstance(data, dict):
        found.append(_line(file, marks.values[()], (), "expected a mapping that starts with `version: 1`"))
        return None, [text for *_, text in sorted(found)]

    cross = cross_problems(data)
    cross_messages = {message for _, message in cross}
    for path, message in cross:
        collection = isinstance(_value_at(data, path), dict | list)
        found.append(_line(file, _where(path, marks, key_first=collection), path, message))

    rules: Rules | None = None
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = _clean_loc(tuple(error["loc"]), data)
            message = _message(error, loc)
            if message in cross_messages:
                continue  # already reported at its place by the cross-checks
            where = _where(loc, marks, key_first=error["type"] in ("extra_forbidden",))
            found.append(_line(file, where, loc, message))

    found.extend(_template_lines(data, file, marks, base_dir, template_check))
    problems = [text for *_, text in sorted(set(found))]
    return (rules if not problems else None), problems


def _template_lines(
    data: dict[str, Any], file: str, marks: _Marks, base_dir: Path | None, template_check: TemplateCheck | None
) -> list[tuple[int, int, str]]:
    check = template_check or _default_template_check()
    if check is None:
        return []
    letters = data.get("letters") if isinstance(data.get("letters"), dict) else {}
    assert isinstance(letters, dict)
    languages = letters.get("languages") if isinstance(letters.get("languages"), list) else ["nl"]
    assert isinstance(languages, list)
    extra = letters.get("templates_dir")
    extra_dir = ((base_dir or Path(".")) / extra) if isinstance(extra, str) else None
    out: list[tuple[int, int, str]] = []
    cache: dict[tuple[str, str], list[str]] = {}
    profiles = data.get("profiles")
    if not isinstance(profiles, dict):
        return out
    for profile_name, profile in profiles.items():
        steps = profile.get("steps") if isinstance(profile, dict) else None
        if not isinstance(steps, list):
            continue
        for i, step in enumerate(steps):
            template = step.get("template") if isinstance(step, dict) else None
            if not isinstance(template, str):
                continue
            path: PathKey = ("profiles", profile_name, "steps", i, "template")
            for language in languages:
                if not isinstance(language, str):
                    continue
                key = (template, language)
                if key not in cache:
                    try:
                        cache[key] = list(check(template, language, extra_dir))
                    except Exception as exc:  # a template check must never end in a traceback
                        cache[key] = [f"cannot be checked: {type(exc).__name__}: {exc}"]
                for problem in cache[key]:
                    out.append(_line(file, _where(path, marks), path, f"template {template!r} ({language}): {problem}"))
    return out


def load_rules(path: Path, *, template_check: TemplateCheck | None = None) -> Rules:
    """The rules in ``path``, or :class:`RulesError` with one line per mistake."""
    try:
        if path.stat().st_size > MAX_BYTES:  # not read into memory at all
            raise RulesError([f"{path}:1:1: (file): {path.stat().st_size:,} bytes; a rules file is at most {MAX_BYTES:,}"])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError([f"{path}: no such rules file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{path}: cannot read the rules file ({type(exc).__name__})"]) from None
    rules, problems = check_rules(text, str(path), base_dir=path.parent, template_check=template_check)
    if rules is None:
        raise RulesError(problems or [f"{path}: invalid rules file"])
    return rules


def parse_rules(text: str, file: str = "rules.yaml") -> Rules:
    """Rules from text without the template check (tests, benchmarks)."""
    rules, problems = check_rules(text, file, template_check=lambda *_: [])
    if rules is None:
        raise RulesError(problems)
    return rules


def rules_json_schema() -> dict[str, Any]:
    """JSON Schema of ``rules.yaml`` for editors (yaml-language-server, VS Code)."""
    schema = Rules.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "arconnect rules.yaml"
    return schema
