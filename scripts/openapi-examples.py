#!/usr/bin/env python3
"""Runs every example of docs/openapi.yaml against a live shixind and checks the answers.

    scripts/openapi-examples.py --url http://127.0.0.1:7412 [--token TOKEN] [--spec FILE]

The daemon must serve the shipped sample (data/sample) with an audit (state_dir set, so that
answers carry receipts) to a caller with every scope (open mode, or --token of such a caller).

Request and response examples pair up by name: for each operation, in the document's order,
each request example (a body example, or for GET an example of the path parameter) is sent, and
the answer must have the status of the response that holds the example of the same name and a
body equal to it, but for what differs between daemons: "receipt", "feedback_receipt",
"version", "source_time", "generation" and "stale" need only the same type, and an error body
only the same code. A receipt of a documented answer stands for the live one in later requests (the feedback
example names the receipt of the measures example). Request examples without a response
example of their name are skipped and listed. Exit status 0 when every example matched.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request

import yaml

VOLATILE = {"receipt", "feedback_receipt", "version", "source_time", "generation", "stale"}


def compare(expected, actual, where, receipts, problems):
    """Appends to `problems` how `actual` differs from `expected`; maps receipts seen."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if "error" in expected and set(expected) == {"error"}:
            code = (actual.get("error") or {}).get("code")
            if code != expected["error"].get("code"):
                problems.append(f"{where}: error code {code!r}, expected "
                                f"{expected['error'].get('code')!r} ({actual})")
            return
        if list(expected) != list(actual):
            problems.append(f"{where}: keys {list(actual)}, expected {list(expected)}")
            return
        for key, value in expected.items():
            if key in VOLATILE:
                if type(value) is not type(actual[key]) and value is not None:
                    problems.append(f"{where}.{key}: {actual[key]!r} is not like {value!r}")
                if key == "receipt" and isinstance(value, str):
                    receipts[value] = actual[key]
                continue
            compare(value, actual[key], f"{where}.{key}", receipts, problems)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            problems.append(f"{where}: {len(actual)} items, expected {len(expected)}")
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{where}[{i}]", receipts, problems)
    elif expected != actual or type(expected) is not type(actual):
        problems.append(f"{where}: {actual!r}, expected {expected!r}")


def substitute(value, receipts):
    """Returns `value` with each documented receipt replaced by the live one."""
    if isinstance(value, dict):
        return {k: substitute(v, receipts) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, receipts) for v in value]
    if isinstance(value, str):
        return receipts.get(value, value)
    return value


def send(url, method, path, body, token):
    """Returns (status, parsed JSON body or None, raw body)."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method.upper())
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw), raw
    except ValueError:
        return status, None, raw


def response_examples(op):
    """Returns {example name: (status, value)} of an operation's JSON responses."""
    found = {}
    for status, response in op.get("responses", {}).items():
        media = response.get("content", {}).get("application/json", {})
        for name, example in media.get("examples", {}).items():
            found[name] = (int(status), example.get("value"))
    return found


def requests_of(path, op):
    """Yields (name, concrete path, body) for each request example of an operation."""
    media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    for name, example in media.get("examples", {}).items():
        yield name, path, example.get("value")
    for parameter in op.get("parameters", []):
        if parameter.get("in") != "path":
            continue
        for name, example in parameter.get("examples", {}).items():
            yield name, path.replace("{" + parameter["name"] + "}", str(example["value"])), None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the daemon's HTTP address, e.g. "
                        "http://127.0.0.1:7412")
    parser.add_argument("--token", default=os.environ.get("SHIXIN_TOKEN", ""))
    parser.add_argument("--spec", default=os.path.join(here, "..", "docs", "openapi.yaml"))
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    receipts, problems, ran, skipped = {}, [], 0, []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            expected = response_examples(op)
            for name, target, body in requests_of(path, op):
                if name not in expected:
                    skipped.append(f"{method.upper()} {path} {name}")
                    continue
                status, answer, raw = send(args.url, method, target, substitute(body, receipts),
                                           args.token)
                ran += 1
                where = f"{method.upper()} {target} ({name})"
                want_status, want = expected[name]
                if status != want_status:
                    problems.append(f"{where}: status {status}, expected {want_status}: {raw!r}")
                elif answer is None:
                    problems.append(f"{where}: the body is not JSON: {raw!r}")
                else:
                    compare(want, answer, where, receipts, problems)
    for s in skipped:
        print(f"openapi-examples: skipped {s} (no response example of that name)")
    for p in problems:
        print(f"openapi-examples: {p}", file=sys.stderr)
    print(f"openapi-examples: {ran} examples run, {len(problems)} problems")
    return 1 if problems or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
