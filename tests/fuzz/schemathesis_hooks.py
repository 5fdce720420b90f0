"""Schemathesis hooks for fuzzing twinlog (loaded through SCHEMATHESIS_HOOKS by run_schemathesis.py).

- An `application/x-ndjson` serializer, so that `POST /telemetry/batch` gets bodies at all.
- Path parameters that sometimes name the twins, relationship, component and model that the
  runner seeded, so that the fuzzer reaches past 404 into twinlog's real handlers.
- `POST /query` bodies that sometimes hold a query that parses, so that the fuzzer reaches past
  `SqlQueryError` into the evaluator and its paging.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

# What the runner seeded, by path parameter name (see run_schemathesis.py, `seed`).
SEEDED = json.loads(os.environ.get("TWINLOG_FUZZ_SEEDED", "{}"))
# Queries over the seeded twins, in the forms the evaluator serves.
QUERIES = [
    "SELECT * FROM DIGITALTWINS",
    "SELECT T.$dtId, T.target FROM DIGITALTWINS T WHERE T.target > 20",
    "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:fuzz:Room;1')",
    "SELECT TOP(1) * FROM DIGITALTWINS T WHERE T.$dtId IN ['fuzz-room', 'fuzz-thermostat']",
    "SELECT * FROM DIGITALTWINS T WHERE NOT T.name = 'r' OR T.display.brightness <= 0.5",
]


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """A string goes as it is; a list becomes one JSON document per line; anything else, one line."""
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8", "surrogatepass")}
    if isinstance(value, list):
        return {"data": "".join(json.dumps(item) + "\n" for item in value).encode()}
    return {"data": (json.dumps(value) + "\n").encode()}


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    """Each path parameter is either what the fuzzer drew or one of the seeded names."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {name: st.sampled_from([value, *SEEDED.get(name, [])]) for name, value in path_parameters.items()}
    )


@schemathesis.hook
def flatmap_body(ctx, body):
    """A `POST /query` body is either what the fuzzer drew or that body with a query that parses."""
    if ctx.operation is None or ctx.operation.path != "/query" or not isinstance(body, dict):
        return st.just(body)
    return st.sampled_from([body, *({**body, "query": query} for query in QUERIES)])
