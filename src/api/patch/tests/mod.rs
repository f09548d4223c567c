//! Tests of the patch functions.
