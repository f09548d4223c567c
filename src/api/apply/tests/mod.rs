//! Scenario tests: real client flows against `apply` and `record_update`.
