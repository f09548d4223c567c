"""Scenario b: `kubectl api-resources -o wide` shows every resource of spec/ as the spec says.

The expected table is computed from spec/*.json by spec_model (not by k2d's codegen):
name, short names, APIVERSION (the group's preferred version: v2 > v1 > v1beta1 > v1alpha1),
NAMESPACED, KIND, VERBS and CATEGORIES. Subresources are not listed by api-resources.
"""

import spec_model
from tables import parse_list_cell, parse_table


def test_api_resources_wide(kubectl, spec):
    r = kubectl("api-resources", "-o", "wide")
    rows = parse_table(r.stdout)
    assert rows, f"no table printed\n{r.describe()}"
    for col in ("NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS"):
        assert col in rows[0], f"column {col} missing\n{r.describe()}"

    def group_of(apiversion):
        return apiversion.split("/")[0] if "/" in apiversion else ""

    got = {}
    dups = []
    for row in rows:
        key = (group_of(row["APIVERSION"]), row["NAME"])
        if key in got:
            dups.append(key)
        got[key] = row

    expected = {(res.group, res.name): res for res in spec_model.preferred_resources(spec)}
    problems = []
    if dups:
        problems.append(f"listed more than once: {dups}")
    for key, res in sorted(expected.items()):
        row = got.get(key)
        if row is None:
            problems.append(f"{res!r}: not listed")
            continue
        want = {
            "SHORTNAMES": ",".join(res.short_names),
            "APIVERSION": res.group_version,
            "NAMESPACED": "true" if res.namespaced else "false",
            "KIND": res.kind,
        }
        for col, value in want.items():
            if row[col] != value:
                problems.append(f"{res!r}: {col} is {row[col]!r}, spec says {value!r}")
        verbs = set(parse_list_cell(row["VERBS"]))
        if verbs != res.verbs:
            problems.append(f"{res!r}: VERBS {sorted(verbs)}, spec says {sorted(res.verbs)}")
        if "CATEGORIES" in row:
            cats = parse_list_cell(row["CATEGORIES"])
            if sorted(cats) != sorted(res.categories):
                problems.append(f"{res!r}: CATEGORIES {cats}, spec says {res.categories}")
    for key in sorted(set(got) - set(expected)):
        problems.append(f"listed but not in spec/: {got[key]}")
    assert not problems, "\n".join(problems) + "\n" + r.describe()


def test_api_resources_names(kubectl, spec):
    """`-o name` prints <plural>.<group> for every resource (plain <plural> for core)."""
    r = kubectl("api-resources", "-o", "name")
    got = {ln.strip() for ln in r.stdout.splitlines() if ln.strip()}
    expected = {f"{res.name}.{res.group}" if res.group else res.name
                for res in spec_model.preferred_resources(spec)}
    assert got == expected, (
        f"missing: {sorted(expected - got)}\nextra: {sorted(got - expected)}\n{r.describe()}"
    )
