#!/usr/bin/env python3
"""Validates docs/openapi.yaml (or the file given) against the OpenAPI 3.0 schema.

Uses the official JSON Schema of OpenAPI 3.0 (Debian openapi-specification:
/usr/share/openapi-specification/schemas/v3.0/schema.json, Draft 4) with python3-jsonschema and
python3-yaml. Also checks what that schema cannot: every $ref resolves, and every example of a
request or response body validates against its own schema (but request examples marked
"x-invalid: true", bad on purpose). Exit status 0 when valid, 1 with the
errors on stderr otherwise, 2 when the schema or a module is missing.
"""
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"validate-openapi: {e} (apt-get install python3-jsonschema python3-yaml)", file=sys.stderr)
    sys.exit(2)

SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"


def resolve(doc, ref):
    """Returns the object `ref` ("#/a/b") points to in `doc`, or None."""
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def refs(node, where="#"):
    """Yields (location, ref) for every $ref in `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from refs(value, f"{where}/{i}")


def to_json_schema(schema):
    """Returns an OpenAPI 3.0 schema object as JSON Schema (nullable -> a null type allowed)."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("nullable", "example", "xml", "externalDocs", "discriminator", "readOnly",
                   "writeOnly", "deprecated"):
            continue
        if key == "$ref" and value.startswith("#/components/schemas/"):
            out[key] = "#/definitions/" + value[len("#/components/schemas/"):]
        elif key in ("properties", "definitions"):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        else:
            out[key] = to_json_schema(value)
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def example_errors(doc):
    """Returns the errors of the body examples that do not match their media type's schema."""
    definitions = {k: to_json_schema(v)
                   for k, v in doc.get("components", {}).get("schemas", {}).items()}
    errors = []

    def check(media, where):
        schema = media.get("schema")
        if schema is None:
            return
        if "$ref" in schema and not schema["$ref"].startswith("#/components/schemas/"):
            return
        full = dict(to_json_schema(schema), definitions=definitions)
        for name, example in media.get("examples", {}).items():
            if "$ref" in example:
                example = resolve(doc, example["$ref"]) or {}
            if example.get("x-invalid"):  # a bad request on purpose: the API refuses it
                continue
            for e in jsonschema.Draft4Validator(full).iter_errors(example.get("value")):
                path = "/".join(str(p) for p in e.absolute_path)
                errors.append(f"{where} example {name}: {path}: {e.message}")

    responses = doc.get("components", {}).get("responses", {})
    for name, response in responses.items():
        for type_, media in response.get("content", {}).items():
            check(media, f"components/responses/{name} {type_}")
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            body = op.get("requestBody", {})
            for type_, media in body.get("content", {}).items():
                check(media, f"{method.upper()} {path} request {type_}")
            for status, response in op.get("responses", {}).items():
                for type_, media in response.get("content", {}).items():
                    check(media, f"{method.upper()} {path} {status} {type_}")
    return errors


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    path = argv[1] if len(argv) > 1 else os.path.join(here, "..", "docs", "openapi.yaml")
    schema_path = os.environ.get("OPENAPI_SCHEMA", SCHEMA)
    if not os.path.exists(schema_path):
        print(f"validate-openapi: {schema_path} is missing (apt-get install "
              "openapi-specification)", file=sys.stderr)
        return 2
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    errors = [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
              for e in jsonschema.Draft4Validator(schema).iter_errors(doc)]
    errors += [f"{where}: unresolved $ref {ref}" for where, ref in refs(doc)
               if resolve(doc, ref) is None]
    if not errors:
        errors = example_errors(doc)
    for e in errors:
        print(f"validate-openapi: {path}: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"validate-openapi: {path}: valid OpenAPI {doc.get('openapi')}, "
          f"{len(doc.get('paths', {}))} paths")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
