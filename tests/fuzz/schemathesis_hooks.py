"""Schemathesis hooks for fuzzing twinlog (loaded through SCHEMATHESIS_HOOKS by run_schemathesis.py).

- An `application/x-ndjson` serializer, so that `POST /telemetry/batch` gets bodies at all.
- Path parameters that sometimes name the twins, relationship, component and model that the
  runner seeded, so that the fuzzer reaches past 404 into twinlog's real handlers.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

# What the runner seeded, by path parameter name (see run_schemathesis.py, `seed`).
SEEDED = json.loads(os.environ.get("TWINLOG_FUZZ_SEEDED", "{}"))


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
