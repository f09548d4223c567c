//! Server-side apply: field ownership (managedFields), conflicts between managers, and removal of fields a manager stops applying.
