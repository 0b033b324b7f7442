"""docs/openapi.yaml is a valid OpenAPI document (checked by
@apidevtools/swagger-parser, a real validator) and describes exactly the
routes in the server's route table."""
import os
import subprocess
import tempfile

from agtest import SRC, routes, run

VALIDATOR = os.path.join(SRC, "tests/openapi/validate.mjs")
SPEC = os.path.join(SRC, "docs/openapi.yaml")


def validate(path):
    mods = os.path.join(SRC, "tests/openapi/node_modules")
    if not os.path.isdir(mods):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=os.path.dirname(VALIDATOR), check=True, timeout=600)
    return subprocess.run(["node", VALIDATOR, path], capture_output=True, text=True, timeout=120)


def test_spec_is_valid_and_matches_route_table():
    p = validate(SPEC)
    assert p.returncode == 0, p.stderr
    documented = set(p.stdout.split("\n")) - {""}
    served = {f"{m} {path}" for m, path, _, _ in routes()}
    assert served - documented == set(), f"routes missing from the spec: {sorted(served - documented)}"
    assert documented - served == set(), f"spec paths the server lacks: {sorted(documented - served)}"


def test_scopes_in_spec_descriptions():
    text = open(SPEC).read()
    for method, path, scope, _ in routes():
        if scope:
            assert f"`{scope}`" in text, scope


def test_validator_rejects_a_broken_spec():
    text = open(SPEC).read().replace('$ref: "#/components/schemas/Event"}',
                                     '$ref: "#/components/schemas/NoSuchThing"}', 1)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        assert validate(f.name).returncode != 0
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    run([test_spec_is_valid_and_matches_route_table, test_scopes_in_spec_descriptions,
         test_validator_rejects_a_broken_spec])
