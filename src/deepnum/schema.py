"""Reading JSON that came from outside: bounded in size and depth, then checked against a schema.

Every JSON document deepnum reads back (a model file's architecture, a checkpoint's state, a run's
config.json, the Playground's settings and messages) goes through :func:`parse` and
:func:`check`, so a hostile or damaged document gets one :class:`~deepnum.errors.DeepnumError`
naming where it came from and which field is wrong, never a ``TypeError`` deep inside the code
that uses it, a ``RecursionError`` or a huge allocation. Schemas are JSON Schema (draft 2020-12),
checked by the ``jsonschema`` package (imported on first use, not by ``import deepnum``).

>>> value = parse(text, "runs/a/config.json", error=DataError)
>>> check(value, CONFIG_SCHEMA, "runs/a/config.json", error=DataError)
"""

from __future__ import annotations

import json
import re

import numpy as np

from deepnum.errors import DeepnumError

MAX_DEPTH = 64  # deeper than anything deepnum writes (a checkpoint is ~8 deep), far below
#                 Python's recursion limit, which json.loads and recursive readers would hit
MAX_NODES = 10_000_000  # values in one document


def depth_and_size(value) -> tuple[int, int]:
    """The nesting depth and the number of values of a parsed JSON document (no recursion)."""
    deepest, count, stack = 0, 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest, count


def parse(text, source, error=DeepnumError, max_bytes: int = 64 * 2**20,
          max_depth: int = MAX_DEPTH):
    """``json.loads(text)`` refusing, with ``error("SOURCE: ...")``: more than ``max_bytes``,
    invalid JSON, NaN/Infinity literals, and nesting deeper than ``max_depth``."""
    if len(text) > max_bytes:
        raise error(f"{source}: {len(text):,} bytes of JSON, more than the limit of "
                    f"{max_bytes:,}")
    # Nesting is measured before parsing: json.loads recurses, so a document nested 100,000
    # deep would raise RecursionError (or exhaust the stack) before any check could run.
    if _bracket_depth(text) > max_depth:
        raise error(f"{source}: JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError too
        raise error(f"{source}: not valid JSON ({str(e)[:120]})") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _bracket_depth(text) -> int:
    """The deepest nesting of [ and { outside strings, counted without parsing: strings (where
    brackets are plain text) are cut out, then a running sum of +1 per opening and -1 per
    closing bracket is taken with NumPy, linear in the text's length."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8", errors="replace")
    bare = _STRING.sub("", text).encode("ascii", errors="ignore")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.zeros(codes.shape, dtype=np.int64)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    return int(np.cumsum(steps).max(initial=0))


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def check(value, schema: dict, source, error=DeepnumError) -> None:
    """Raise ``error("SOURCE: field a.b[3]: why")`` unless ``value`` fits the JSON ``schema``."""
    from jsonschema import Draft202012Validator

    depth, count = depth_and_size(value)
    if depth > MAX_DEPTH or count > MAX_NODES:
        raise error(f"{source}: the document is too deep ({depth}) or too large ({count:,} "
                    f"values)")
    validator = _validators.get(id(schema))
    if validator is None:
        validator = _validators[id(schema)] = (schema, Draft202012Validator(schema))
    problem = next(iter(validator[1].iter_errors(value)), None)
    if problem is not None:
        raise error(f"{source}: {describe(problem)}")


_validators: dict[int, tuple] = {}  # id(schema) -> (schema kept alive, its compiled validator)


def describe(problem) -> str:
    """One line for a jsonschema error: the field's path and what is wrong with it."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem.absolute_path)
    message = problem.message if len(problem.message) < 160 else problem.message[:157] + "..."
    return f"field {where.lstrip('.') or '(top level)'}: {message}"


# Building blocks for the schemas of deepnum's own files
def integer(minimum: int = 0, maximum: int = 2**63 - 1) -> dict:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def number(minimum: float | None = None, maximum: float | None = None) -> dict:
    schema: dict = {"type": "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def strict_object(properties: dict, required=None, **extra) -> dict:
    """An object with exactly these properties (all required unless ``required`` says)."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else list(required),
            "additionalProperties": False, **extra}
