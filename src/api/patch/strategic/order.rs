//! The order of a merged list, as kube-apiserver computes it.
//!
//! Items the patch names (in its list, or in `$setElementOrder/<field>` when it sends one) come
//! in the patch's order; items only the original has keep the original's order and are slotted
//! in before the first patch item that follows them in the original. A new item therefore comes
//! first when the patch gives no order: `{"containers":[{"name":"b",...}]}` on `[a]` gives
//! `[b, a]` on a real server, and so it does here.

use serde_json::Value;

use super::failure::{MAP, bad_arg_type, no_merge_key, order_mismatch};
use crate::api::patch::error::PatchError;

/// What identifies an item: its merge key's value, or the whole item without a merge key.
fn identity<'v>(item: &'v Value, key: &str) -> Option<&'v Value> {
    if key.is_empty() {
        Some(item)
    } else {
        item.get(key)
    }
}

/// The position in `list` of the first item with the same identity as `item`.
fn position(list: &[Value], item: &Value, key: &str) -> Option<usize> {
    let id = identity(item, key)?;
    list.iter().position(|v| identity(v, key) == Some(id))
}

/// Orders `merged`: the items `order` names sorted as there, the others (which come from the
/// original) sorted as in `server_order` and interleaved by their place in it.
pub(super) fn normalize(
    merged: Vec<Value>,
    order: &[Value],
    server_order: &[Value],
    key: &str,
) -> Vec<Value> {
    let (mut named, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| position(order, item, key).is_some());
    sort_as(&mut named, order, key);
    sort_as(&mut server_only, server_order, key);
    interleave(server_only, named, server_order, key)
}

/// Stable sort by position in `order`; items it does not hold go last.
fn sort_as(items: &mut [Value], order: &[Value], key: &str) {
    items.sort_by_key(|item| position(order, item, key).unwrap_or(usize::MAX));
}

/// Merges two ordered lists: an item of `server_only` goes before the next patch item when both
/// are in `server_order` and it comes first there; otherwise the patch item goes first.
fn interleave(
    server_only: Vec<Value>,
    named: Vec<Value>,
    server_order: &[Value],
    key: &str,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(server_only.len() + named.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = named.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (position(server_order, l, key), position(server_order, r, key)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// Checks `$setElementOrder/<field>` against the patch list: every item the patch sets (not the
/// `$patch` ones) must appear in the order list, in the same relative order.
pub(super) fn check_order(patch: &[Value], order: &[Value], key: &str) -> Result<(), PatchError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = patch
        .iter()
        .filter(|item| item.get(super::directive::PATCH).is_none())
        .collect();
    let (mut p, mut o) = (0, 0);
    while p < items.len() && o < order.len() {
        if same_identity(items[p], &order[o], key)? {
            p += 1;
        }
        o += 1;
    }
    if p < items.len() {
        return Err(order_mismatch(patch, order));
    }
    Ok(())
}

/// Whether two items have the same identity; with a merge key both must be maps holding it.
fn same_identity(a: &Value, b: &Value, key: &str) -> Result<bool, PatchError> {
    if key.is_empty() {
        return Ok(a == b);
    }
    Ok(keyed(a, key)? == keyed(b, key)?)
}

/// The merge key value of `item`, which must be a map holding it.
pub(super) fn keyed<'v>(item: &'v Value, key: &str) -> Result<&'v Value, PatchError> {
    match item {
        Value::Object(map) => map.get(key).ok_or_else(|| no_merge_key(item, key)),
        other => Err(bad_arg_type(MAP, other)),
    }
}

/// Checks that every item is a map holding the merge key (a real server refuses to order a
/// merge list otherwise).
pub(super) fn require_keys(items: &[Value], key: &str) -> Result<(), PatchError> {
    if key.is_empty() {
        return Ok(());
    }
    items
        .iter()
        .try_for_each(|item| keyed(item, key).map(|_| ()))
}
