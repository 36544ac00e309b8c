"""Schema errors as the APIs' problems: each jsonschema error becomes PRT-coded sentences.

Built from jsonschema's structured fields (the keyword, its value in the schema, the path and
the instance), never from its English messages, so the sentences and codes are the mock's own.
Body problems use the PRT00030x codes, path and query ones the PRT00020x codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from mockhub.kernel.errors import Problem, ValidationFailed
from mockhub.kernel.text import shown

CHECKED_BY_HANDLER = "x-mockhub-checked-by-handler"
"""A subschema whose failures the request parser leaves to the handler, which explains them better
(the Era field names of mask, order and filter: the handler names the unknown one and suggests the
closest). The contract stays exact for other tools; the answer keeps the handler's words."""


def field_path(parts: Iterator[Any] | Any, root: str = "") -> str:
    """``configuration.allowedOrigins[0]`` from a jsonschema path, under ``root`` if given."""
    out = root
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _article(type_name: str) -> str:
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _type_text(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(_article(str(n)) for n in names)


def problems_for(error: ValidationError, where: str, root: str = "") -> list[Problem]:
    """Turn one jsonschema error into PRT problems; ``where`` is "body", "query" or "path".

    Body problems use the PRT00030x codes (301 required, 302 type, 303 not supported,
    305 GUID, 306 empty collection); segment and query ones the PRT00020x codes (203
    GUID, 206 not valid, 209 must be >= 0). A subschema may name its own sentence in
    ``x-mockhub-message`` (``{value}`` and ``{field}`` filled in), and its PRT number in
    ``x-mockhub-code`` (206 without). ``root`` names the value itself (a parameter's name).
    """
    if _left_to_handler(error):
        return []
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    keyword = error.validator
    path = field_path(error.absolute_path, root)
    value = error.instance
    in_body = where == "body"

    if keyword == "required":
        # Every name the keyword lists that the object lacks (jsonschema reports each in an
        # error of its own, with the same fields: the caller drops the repeats).
        present = value if isinstance(value, Mapping) else {}
        return [Problem(301, f"Property '{f'{path}.{name}' if path else name}' is required.")
                for name in error.validator_value if name not in present]
    if keyword == "dependentRequired":
        # As for required: every missing name of every given property's list, repeats dropped by the caller.
        present = value if isinstance(value, Mapping) else {}
        return [Problem(301, f"Property '{f'{path}.{name}' if path else name}' is required when "
                             f"'{f'{path}.{given}' if path else given}' is given.")
                for given, names in error.validator_value.items() if given in present
                for name in names if name not in present]
    if keyword == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extras = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        return [Problem(303, f"Property '{f'{path}.{k}' if path else k}' is not supported.") for k in extras]
    custom = schema.get("x-mockhub-message")
    if custom and keyword != "type":  # a wrong type keeps its own code (302) and sentence
        return [Problem(int(schema.get("x-mockhub-code", 206)), str(custom).format(value=shown(value), field=path))]
    if keyword in ("anyOf", "oneOf") and error.context:
        branch = _fitting_branch(error.context)
        if branch is not None:
            return [p for sub in branch for p in problems_for(sub, where, root)]
        types = [e.validator_value for e in error.context if e.validator == "type" and not e.relative_path]
        if len(types) == len({e.relative_schema_path[0] for e in error.context}):
            subject = f"Property '{path}'" if path else "The request body"
            return [Problem(302 if in_body or not path else 210, f"{subject} must be {_type_text(types)}.")]
    if keyword == "type":
        if not path:
            return [Problem(302, f"The request body must be {_type_text(error.validator_value)}.")]
        code = 302 if in_body else 210
        return [Problem(code, f"Property '{path}' must be {_type_text(error.validator_value)}.")]
    if schema.get("format") == "uuid":
        return [Problem(305 if in_body else 203, f"Value '{shown(value)}' of '{path}' is not a valid GUID.")]
    if keyword == "minItems" and error.validator_value == 1:
        return [Problem(306, f"Property '{path}' must not be empty.")]
    if keyword == "minimum" and error.validator_value == 0:
        return [Problem(209, f"Value '{shown(value)}' of '{path}' must be >= 0.")]
    if keyword in ("minimum", "maximum"):
        bound = ">=" if keyword == "minimum" else "<="
        limit = error.validator_value
        return [Problem(206, f"Value '{shown(value)}' of '{path}' is not valid: it must be {bound} {limit}.")]
    if keyword == "enum":
        options = ", ".join(shown(v) for v in error.validator_value)
        return [Problem(206, f"Value '{shown(value)}' of '{path}' is not valid; expected one of: {options}.")]
    if keyword in ("minItems", "maxItems") and isinstance(value, list):
        bound = "at least" if keyword == "minItems" else "at most"
        subject = f"Property '{path}'" if path else "The request body"
        return [Problem(206, f"{subject} holds {len(value)} items; it may hold {bound} {error.validator_value}.")]
    if keyword in ("minLength", "maxLength"):
        limit = error.validator_value
        text = "must not be empty" if keyword == "minLength" and limit == 1 else (
            f"must be at least {limit} characters" if keyword == "minLength" else f"must be at most {limit} characters")
        subject = f"Property '{path}'" if path else "The request body"
        return [Problem(206, f"{subject} {text}.")]
    return [Problem(206, f"Value '{shown(value)}' of '{path or 'body'}' is not valid.")]


def _left_to_handler(error: ValidationError) -> bool:
    """Whether every reason for ``error`` lies in a subschema marked ``x-mockhub-checked-by-handler``."""
    if isinstance(error.schema, Mapping) and error.schema.get(CHECKED_BY_HANDLER):
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branch = _fitting_branch(error.context)
        return branch is not None and all(_left_to_handler(sub) for sub in branch)
    return False


def _fitting_branch(context: list[ValidationError]) -> list[ValidationError] | None:
    """Of an anyOf/oneOf failure, the errors of the one branch whose type fits the value.

    "A rule or a list of rules" given an object should report what is wrong with the
    rule, not that the value matches neither alternative.
    """
    branches: dict[Any, list[ValidationError]] = {}
    for sub in context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [errs for errs in branches.values()
               if not any(e.validator == "type" and not e.relative_path for e in errs)]
    return fitting[0] if len(fitting) == 1 else None


MAX_PROBLEMS = 100
"""The most problems one check lists; past it the answer says there are more (finding every one of a 1 MiB
body of wrong-typed items blocked the server for half a minute and answered megabytes)."""


def collect_problems(validator: Draft202012Validator, instance: Any, where: str,
                     root: str = "") -> list[Problem]:
    """Every problem of ``instance`` (the first :data:`MAX_PROBLEMS` found, then one saying there are more),
    in a stable order (by message)."""
    errors = list(islice(validator.iter_errors(instance), MAX_PROBLEMS + 1))
    more = len(errors) > MAX_PROBLEMS
    del errors[MAX_PROBLEMS:]
    # A value of the wrong type also fails its enum or bounds: report the type alone.
    mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    problems: list[Problem] = []
    for error in errors:
        if error.validator != "type" and tuple(error.absolute_path) in mistyped:
            continue
        problems.extend(problems_for(error, where, root))
    unique = sorted(dict.fromkeys(problems), key=lambda p: (p.message, p.code))
    if more:
        unique.append(Problem(ValidationFailed.code, f"There are more problems than the first {MAX_PROBLEMS} listed."))
    return unique
