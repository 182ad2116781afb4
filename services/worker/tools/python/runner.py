"""The noetl python tool's runner: sets the step's limits, gives the script a
`noetl` module, and runs it. Only the standard library: the worker's python may
have nothing else. Started by the worker as `python3 runner.py <context.json>`,
usually inside the step's sandbox. The credentials the step names arrive as one
JSON object on stdin (a pipe from the worker): never in the environment, on the
command line or in a file.
"""
import json
import os
import resource
import runpy
import sys
import types

os.chdir(os.path.dirname(os.path.abspath(sys.argv[1])))  # the step's own folder, beside its context
with open(sys.argv[1], encoding="utf-8") as f:
    ctx = json.load(f)

_credentials = json.loads(sys.stdin.read() or "{}")
sys.stdin.close()
sys.stdin = open(os.devnull, encoding="utf-8")

limit = ctx["memory_limit_bytes"]
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

noetl = types.ModuleType("noetl")
noetl.__doc__ = "What a noetl python step can see and do."
noetl.workload = ctx["workload"]
noetl.inputs = ctx["inputs"]  # name -> {path, format, rows, schema}; a copy as JSON Lines when asked for (path_jsonl)
noetl.execution_id = ctx["execution_id"]
noetl.attempt = ctx["attempt"]
_rows_written = [0]


def read_rows(name):
    """The rows of an input, as dicts, from its JSON Lines copy (`input_format: jsonl`)."""
    ref = noetl.inputs[name]
    if "path_jsonl" not in ref:
        raise RuntimeError(f"input {name!r} is Parquet at {ref['path']}; read it with pyarrow, or give the step `input_format: jsonl`")
    with open(ref["path_jsonl"], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def write_rows(rows):
    """Appends rows (dicts) to the step's table output; the worker writes it as Parquet."""
    with open(ctx["output_jsonl"], "a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, default=str) + "\n")
            _rows_written[0] += 1


def result(value):
    """The step's value (small JSON), when it has no table."""
    with open(ctx["result_json"], "w", encoding="utf-8") as f:
        json.dump(value, f, default=str)


def credential(name):
    """A credential the step names in `credentials`; never print it."""
    if name not in _credentials:
        raise KeyError(f"credential {name!r} is not given to this step: list it in the step's `credentials`")
    return _credentials[name]


noetl.read_rows = read_rows
noetl.write_rows = write_rows
noetl.result = result
noetl.credential = credential
noetl.output_parquet = ctx["output_parquet"]  # a script with pyarrow may write its table here
noetl.output_arrow = ctx["output_arrow"]  # ... or as Arrow IPC here
sys.modules["noetl"] = noetl

try:
    runpy.run_path(ctx["script_path"], run_name="__main__")
except MemoryError:
    print(f"noetl: the script went over its memory limit of {limit // (1024 * 1024)} MiB", file=sys.stderr)
    sys.exit(86)
