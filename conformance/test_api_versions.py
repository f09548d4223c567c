"""Scenario c: `kubectl api-versions` lists every group-version of spec/ (and no other)."""


def test_api_versions(kubectl, spec):
    r = kubectl("api-versions")
    got = {line.strip() for line in r.stdout.splitlines() if line.strip()}
    expected = {gv.group_version for gv in spec}
    missing = sorted(expected - got)
    extra = sorted(got - expected)
    assert not missing and not extra, (
        f"group-versions missing: {missing}\nnot in spec/: {extra}\n{r.describe()}"
    )
