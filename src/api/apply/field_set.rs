//! A set of field paths, stored as a tree the way Kubernetes stores it: at each level the
//! elements that are members of the set ("the item itself", `.` in `fieldsV1`) and the elements
//! that lead to deeper members.

use std::collections::{BTreeMap, BTreeSet};

use super::path::{Path, PathElement};

/// A set of field paths (what one manager owns, what an object sets, what changed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Elements that are members at this level.
    members: BTreeSet<PathElement>,
    /// Elements with members below them; never empty sets.
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// `true` when no path is a member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path (the empty path is ignored: the root is never owned).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// `true` when the path is a member.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// `true` when this element is a member at this level.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The set below this element, if any path goes through it.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// Members at this level, in order.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// Elements with deeper members, in order, with the set below each.
    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    /// Adds an element as a member at this level.
    pub fn insert_member(&mut self, pe: PathElement) {
        self.members.insert(pe);
    }

    /// Puts a non-empty set below an element (merging with what is there).
    pub fn insert_child(&mut self, pe: PathElement, set: FieldSet) {
        if set.is_empty() {
            return;
        }
        match self.children.get_mut(&pe) {
            Some(existing) => existing.union_with(&set),
            None => {
                self.children.insert(pe, set);
            }
        }
    }

    /// Paths in `self` or in `other`.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.union_with(other);
        out
    }

    /// Adds every path of `other`.
    pub fn union_with(&mut self, other: &FieldSet) {
        self.members.extend(other.members.iter().cloned());
        for (pe, set) in &other.children {
            self.insert_child(pe.clone(), set.clone());
        }
    }

    /// Paths in `self` but not in `other` (a member of `other` does not remove paths below it).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self
            .members
            .iter()
            .filter(|pe| !other.members.contains(*pe))
            .cloned()
            .collect();
        let mut children = BTreeMap::new();
        for (pe, set) in &self.children {
            let rest = match other.children.get(pe) {
                Some(o) => set.difference(o),
                None => set.clone(),
            };
            if !rest.is_empty() {
                children.insert(pe.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, set) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let both = set.intersection(o);
                if !both.is_empty() {
                    children.insert(pe.clone(), both);
                }
            }
        }
        FieldSet { members, children }
    }

    /// Removes the path and every path below it.
    pub fn remove_prefix(&mut self, path: &[PathElement]) {
        match path {
            [] => *self = FieldSet::new(),
            [last] => {
                self.members.remove(last);
                self.children.remove(last);
            }
            [first, rest @ ..] => {
                if let Some(c) = self.children.get_mut(first) {
                    c.remove_prefix(rest);
                    if c.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Keeps only the path and what is below it.
    pub fn keep_prefix(&self, path: &[PathElement]) -> FieldSet {
        let mut out = FieldSet::new();
        match path {
            [] => out = self.clone(),
            [last] => {
                if self.members.contains(last) {
                    out.members.insert(last.clone());
                }
                if let Some(c) = self.children.get(last) {
                    out.children.insert(last.clone(), c.clone());
                }
            }
            [first, rest @ ..] => {
                if let Some(c) = self.children.get(first) {
                    out.insert_child(first.clone(), c.keep_prefix(rest));
                }
            }
        }
        out
    }

    /// Every member path: at each level the members first, then the deeper paths, in order
    /// (the order Kubernetes lists conflicts in).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        for pe in &self.members {
            let mut p = prefix.clone();
            p.push(pe.clone());
            out.push(Path(p));
        }
        for (pe, set) in &self.children {
            prefix.push(pe.clone());
            set.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Number of member paths.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.values().map(FieldSet::len).sum::<usize>()
    }
}

impl FromIterator<Path> for FieldSet {
    fn from_iter<T: IntoIterator<Item = Path>>(iter: T) -> Self {
        let mut s = FieldSet::new();
        for p in iter {
            s.insert(&p.0);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(paths: &[&[&str]]) -> FieldSet {
        paths.iter().map(|p| Path::fields(p)).collect()
    }

    #[test]
    fn union_difference_intersection() {
        let a = set(&[&["spec", "replicas"], &["spec", "paused"], &["metadata"]]);
        let b = set(&[&["spec", "replicas"], &["spec", "template", "x"]]);
        assert_eq!(
            a.union(&b),
            set(&[
                &["spec", "replicas"],
                &["spec", "paused"],
                &["metadata"],
                &["spec", "template", "x"]
            ])
        );
        assert_eq!(a.difference(&b), set(&[&["spec", "paused"], &["metadata"]]));
        assert_eq!(a.intersection(&b), set(&[&["spec", "replicas"]]));
        assert!(a.difference(&a).is_empty());
    }

    #[test]
    fn a_member_does_not_remove_deeper_paths() {
        let a = set(&[&["spec"], &["spec", "replicas"]]);
        let b = set(&[&["spec"]]);
        assert_eq!(a.difference(&b), set(&[&["spec", "replicas"]]));
    }

    #[test]
    fn paths_list_members_before_deeper_paths() {
        let a = set(&[&["b", "c"], &["a"], &["b"]]);
        let printed: Vec<String> = a.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(printed, [".a", ".b", ".b.c"]);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn prefixes() {
        let mut a = set(&[&["status", "x"], &["status"], &["spec", "a"]]);
        assert_eq!(
            a.keep_prefix(&Path::fields(&["status"]).0),
            set(&[&["status", "x"], &["status"]])
        );
        a.remove_prefix(&Path::fields(&["status"]).0);
        assert_eq!(a, set(&[&["spec", "a"]]));
    }
}
