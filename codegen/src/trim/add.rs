//! `--add GV/RESOURCE[:SUB,...]`: appending a resource to `resources.yaml` as text, so that the
//! file keeps its comments and layout.

use anyhow::{Result, bail};

use super::resource_list::{
    GroupVersion, GroupVersionEntry, ResourceEntry, ResourceList, check_word,
};

/// One resource to add, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddRequest {
    /// `v1` or `<group>/<version>`.
    pub group_version: String,
    /// Plural resource name.
    pub resource: String,
    /// Subresources to serve.
    pub subresources: Vec<String>,
    /// Short names (`--short-name`).
    pub short_names: Vec<String>,
    /// Categories (`--category`).
    pub categories: Vec<String>,
}

impl AddRequest {
    /// Parses `apps/v1/deployments:scale,status`, `v1/podtemplates` or
    /// `rbac.authorization.k8s.io/v1/roles`.
    pub fn parse(spec: &str) -> Result<AddRequest> {
        let (path, subs) = match spec.split_once(':') {
            Some((p, s)) => (p, Some(s)),
            None => (spec, None),
        };
        let Some((gv, resource)) = path.rsplit_once('/') else {
            bail!(
                "--add {spec:?}: expected GROUP/VERSION/RESOURCE or v1/RESOURCE (e.g. apps/v1/deployments:scale,status)"
            );
        };
        GroupVersion::parse(gv).map_err(|e| anyhow::anyhow!("--add {spec:?}: {e}"))?;
        check_word(resource, "resource name", &format!("--add {spec:?}"))?;
        let mut subresources = Vec::new();
        for s in subs
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            check_word(s, "subresource", &format!("--add {spec:?}"))?;
            if !subresources.iter().any(|x| x == s) {
                subresources.push(s.to_string());
            }
        }
        if subs.is_some() && subresources.is_empty() {
            bail!("--add {spec:?}: no subresource after ':'");
        }
        Ok(AddRequest {
            group_version: gv.to_string(),
            resource: resource.to_string(),
            subresources,
            short_names: Vec::new(),
            categories: Vec::new(),
        })
    }

    /// `<gv>/<resource>`, as messages name it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.group_version, self.resource)
    }

    fn entry(&self) -> ResourceEntry {
        ResourceEntry {
            name: self.resource.clone(),
            subresources: self.subresources.clone(),
            short_names: self.short_names.clone(),
            categories: self.categories.clone(),
            singular_name: None,
            columns: Vec::new(),
        }
    }
}

/// The outcome of [`append`].
#[derive(Debug)]
pub enum Appended {
    /// The resource was listed already; nothing changed. Holds what the request asked for that
    /// the listed entry does not have (empty when nothing), for the user to add by hand.
    AlreadyListed(Vec<String>),
    /// The new text of `resources.yaml` and the list it parses to.
    Changed(String, ResourceList),
}

/// Appends `add` to the text of `resources.yaml` (whose parse is `list`): at the end of its
/// group-version's resources, or as a new group-version at the end of the file. The new text is
/// parsed again and must give exactly the old list plus the new resource.
pub fn append(text: &str, list: &ResourceList, add: &AddRequest) -> Result<Appended> {
    for w in add.short_names.iter().chain(&add.categories) {
        check_word(w, "short name or category", &add.label())?;
    }
    let mut expected = list.clone();
    match expected
        .group_versions
        .iter_mut()
        .find(|g| g.group_version == add.group_version)
    {
        Some(g) if g.resources.iter().any(|r| r.name == add.resource) => {
            let listed = g
                .resources
                .iter()
                .find(|r| r.name == add.resource)
                .expect("just found");
            return Ok(Appended::AlreadyListed(missing(add, listed)));
        }
        Some(g) => g.resources.push(add.entry()),
        None => expected.group_versions.push(GroupVersionEntry {
            group_version: add.group_version.clone(),
            resources: vec![add.entry()],
        }),
    }

    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let gv_lines: Vec<usize> = (0..lines.len())
        .filter(|&i| group_version_of(&lines[i]).is_some())
        .collect();
    let Some(&first_gv) = gv_lines.first() else {
        bail!(
            "cannot add {}: resources.yaml has no `- groupVersion:` entry to follow; add it by hand",
            add.label()
        );
    };
    let gv_indent = indent(&lines[first_gv]);
    let resource_indent = lines
        .iter()
        .find(|l| l.trim_start().starts_with("- name:"))
        .map(|l| indent(l))
        .unwrap_or(gv_indent + 4);

    match gv_lines
        .iter()
        .find(|&&i| group_version_of(&lines[i]).as_deref() == Some(add.group_version.as_str()))
    {
        Some(&start) => {
            let own_indent = indent(&lines[start]);
            let mut end = (start + 1..lines.len())
                .find(|&i| !is_blank_or_comment(&lines[i]) && indent(&lines[i]) <= own_indent)
                .unwrap_or(lines.len());
            while end > start + 1
                && is_blank_or_comment(&lines[end - 1])
                && indent(&lines[end - 1]) <= own_indent
            {
                end -= 1;
            }
            let item_indent = lines[start + 1..end]
                .iter()
                .find(|l| l.trim_start().starts_with("- name:"))
                .map(|l| indent(l))
                .unwrap_or(resource_indent);
            let new = render_entry(add, item_indent);
            lines.splice(end..end, new);
        }
        None => {
            let pad = " ".repeat(gv_indent);
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            lines.push(String::new());
            lines.push(format!("{pad}- groupVersion: {}", add.group_version));
            lines.push(format!("{pad}  resources:"));
            lines.extend(render_entry(add, resource_indent));
        }
    }
    let mut new_text = lines.join("\n");
    new_text.push('\n');

    match ResourceList::parse(&new_text) {
        Ok(parsed) if parsed == expected => Ok(Appended::Changed(new_text, parsed)),
        _ => bail!(
            "cannot add {} to resources.yaml automatically (its layout is not the usual one); add it by hand",
            add.label()
        ),
    }
}

/// What `add` asks for that `listed` lacks, e.g. `subresource scale`.
fn missing(add: &AddRequest, listed: &ResourceEntry) -> Vec<String> {
    let mut out = Vec::new();
    for (what, asked, has) in [
        ("subresource", &add.subresources, &listed.subresources),
        ("short name", &add.short_names, &listed.short_names),
        ("category", &add.categories, &listed.categories),
    ] {
        out.extend(
            asked
                .iter()
                .filter(|w| !has.contains(w))
                .map(|w| format!("{what} {w}")),
        );
    }
    out
}

fn render_entry(add: &AddRequest, item_indent: usize) -> Vec<String> {
    let pad = " ".repeat(item_indent);
    let mut out = vec![format!("{pad}- name: {}", add.resource)];
    for (key, words) in [
        ("subresources", &add.subresources),
        ("shortNames", &add.short_names),
        ("categories", &add.categories),
    ] {
        if !words.is_empty() {
            let words: Vec<String> = words.iter().map(|w| yaml_word(w)).collect();
            out.push(format!("{pad}  {key}: [{}]", words.join(", ")));
        }
    }
    out
}

/// `word` as a YAML flow scalar: quoted when YAML would read it as something else than a
/// string (`no`, `on`, `null`, `1`, ...).
fn yaml_word(word: &str) -> String {
    const SPECIAL: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    if SPECIAL.contains(&word)
        || word.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
    {
        format!("\"{word}\"")
    } else {
        word.to_string()
    }
}

/// The group-version named by a `- groupVersion: X` line.
fn group_version_of(line: &str) -> Option<String> {
    let value = line
        .trim_start()
        .strip_prefix("- ")?
        .trim_start()
        .strip_prefix("groupVersion:")?;
    let value = value.split(" #").next().unwrap_or("").trim();
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    Some(value.to_string())
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# header
groupVersions:
  # the core group
  - groupVersion: v1
    resources:
      - name: pods
        subresources: [log]
        shortNames: [po]

  # workloads
  - groupVersion: apps/v1
    resources:
      - name: deployments
";

    fn add(spec: &str) -> Appended {
        let list = ResourceList::parse(FILE).unwrap();
        append(FILE, &list, &AddRequest::parse(spec).unwrap()).unwrap()
    }

    #[test]
    fn parses_requests() {
        let a = AddRequest::parse("apps/v1/deployments:scale,status").unwrap();
        assert_eq!(
            (a.group_version.as_str(), a.resource.as_str()),
            ("apps/v1", "deployments")
        );
        assert_eq!(a.subresources, ["scale", "status"]);
        let a = AddRequest::parse("v1/podtemplates").unwrap();
        assert_eq!(
            (a.group_version.as_str(), a.resource.as_str()),
            ("v1", "podtemplates")
        );
        assert!(a.subresources.is_empty());
        for bad in ["pods", "v1/", "apps/v1/deployments:", "x/y/z/w", "v1/Pods"] {
            assert!(AddRequest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn appends_to_an_existing_group_version_before_the_next_comment() {
        let Appended::Changed(text, list) = add("v1/podtemplates") else {
            panic!()
        };
        assert!(
            text.contains(
                "        shortNames: [po]\n      - name: podtemplates\n\n  # workloads\n"
            ),
            "{text}"
        );
        assert_eq!(list.group_versions[0].resources[1].name, "podtemplates");
        assert!(text.starts_with("# header\n"));
    }

    #[test]
    fn appends_to_the_last_group_version() {
        let Appended::Changed(text, list) = add("apps/v1/statefulsets:scale,status") else {
            panic!()
        };
        assert!(text.ends_with("      - name: deployments\n      - name: statefulsets\n        subresources: [scale, status]\n"), "{text}");
        assert_eq!(
            list.group_versions[1].resources[1].subresources,
            ["scale", "status"]
        );
    }

    #[test]
    fn appends_a_new_group_version() {
        let Appended::Changed(text, list) = add("batch/v1/jobs:status") else {
            panic!()
        };
        assert!(text.ends_with("\n\n  - groupVersion: batch/v1\n    resources:\n      - name: jobs\n        subresources: [status]\n"), "{text}");
        assert_eq!(list.group_versions.len(), 3);
    }

    #[test]
    fn leaves_a_listed_resource_alone() {
        assert!(matches!(add("v1/pods:log"), Appended::AlreadyListed(m) if m.is_empty()));
        let Appended::AlreadyListed(m) = add("v1/pods:status,log") else {
            panic!()
        };
        assert_eq!(m, ["subresource status"]);
    }

    #[test]
    fn short_names_and_categories() {
        let list = ResourceList::parse(FILE).unwrap();
        let mut req = AddRequest::parse("apps/v1/controllerrevisions").unwrap();
        req.short_names = vec!["cr".into(), "no".into()];
        req.categories = vec!["all".into()];
        let Appended::Changed(text, _) = append(FILE, &list, &req).unwrap() else {
            panic!()
        };
        assert!(text.ends_with("      - name: controllerrevisions\n        shortNames: [cr, \"no\"]\n        categories: [all]\n"));
    }
}
