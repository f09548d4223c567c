"""Scenario e: `kubectl explain` works from k2d's OpenAPI v3 documents."""

import re

import pytest

import spec_model


def test_explain_deployment_template(kubectl):
    r = kubectl("explain", "deployment.spec.template")
    assert re.search(r"^KIND:\s+Deployment\s*$", r.stdout, re.M), r.describe()
    assert re.search(r"^\s+metadata\s+<ObjectMeta>", r.stdout, re.M), r.describe()
    assert re.search(r"^\s+spec\s+<PodSpec>", r.stdout, re.M), r.describe()


def pytest_generate_tests(metafunc):
    if "resource" in metafunc.fixturenames:
        resources = spec_model.all_resources(spec_model.load_spec())
        # An empty spec must fail, not turn into an empty (skipped) parameter set.
        metafunc.parametrize("resource", resources or [None], ids=repr)


def test_explain_every_resource(kubectl_newest, resource):
    """`kubectl explain <resource> --api-version <gv>` for every resource of spec/
    (newest kubectl only, to keep the run short)."""
    assert resource is not None, f"spec/ ({spec_model.spec_dir()}) has no resources"
    r = kubectl_newest("explain", resource.name, "--api-version", resource.group_version)
    assert re.search(rf"^KIND:\s+{re.escape(resource.kind)}\s*$", r.stdout, re.M), r.describe()
    assert re.search(rf"^VERSION:\s+{re.escape(resource.version)}\s*$", r.stdout, re.M), r.describe()
    if resource.group:
        assert re.search(rf"^GROUP:\s+{re.escape(resource.group)}\s*$", r.stdout, re.M), r.describe()
    assert re.search(r"^FIELDS:", r.stdout, re.M), r.describe()
    assert re.search(r"^\s+metadata\s+<ObjectMeta>", r.stdout, re.M), r.describe()
