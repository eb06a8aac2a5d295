//! Users, roles and API keys for people: `whoami`'s sheet, the tables of
//! `user list`, `role list` and `key list`, and the one-line answers of the
//! commands that change them. The node answers these as JSON documents;
//! they are read with the tolerant readers of `fields`, so a missing field
//! shows as `-`. No renderer here ever shows a key's secret: `key create`
//! prints the key itself (commands/users.rs), and only that once.

use serde_json::Value;

use super::fields::{or_dash, text};
use super::table::table;
use super::time::datetime;

/// What a user without a role is shown as.
const NO_ROLE: &str = "none (may do nothing)";

/// `iscli whoami`: the caller's name, role, permissions and, when it
/// called with an API key, the key's id.
pub(crate) fn whoami_sheet(me: &Value) -> String {
    let mut lines = vec![
        ("User", or_dash(text(me, "name"))),
        ("Role", role_of(me, "role")),
        ("Permissions", or_dash(list(me, "permissions"))),
    ];
    let key = text(me, "api_key");
    if !key.is_empty() {
        lines.push(("API key", key));
    }
    lines
        .into_iter()
        .map(|(label, value)| format!("{:<13}{value}\n", format!("{label}:")))
        .collect()
}

/// `iscli user list`: one line per user with its role.
pub(crate) fn user_table(users: &[Value]) -> String {
    if users.is_empty() {
        return "(no users)".to_string();
    }
    let rows: Vec<[String; 2]> = users
        .iter()
        .map(|u| [or_dash(text(u, "name")), role_of(u, "role")])
        .collect();
    table(&["NAME", "ROLE"], &rows)
}

/// `iscli role list`: each role, its permissions and what it is for.
pub(crate) fn role_table(roles: &[Value]) -> String {
    if roles.is_empty() {
        return "(no roles)".to_string();
    }
    let rows: Vec<[String; 3]> = roles
        .iter()
        .map(|r| {
            [
                or_dash(text(r, "name")),
                or_dash(list(r, "permissions")),
                or_dash(text(r, "description")),
            ]
        })
        .collect();
    table(&["ROLE", "PERMISSIONS", "DESCRIPTION"], &rows)
}

/// `iscli role show OWNER`: `olga: operator`.
pub(crate) fn role_owner_line(owner: &Value) -> String {
    format!("{}: {}", or_dash(text(owner, "owner")), role_of(owner, "role"))
}

/// `iscli role assign` and `unassign`: what the user holds now.
pub(crate) fn role_changed(owner: &Value) -> String {
    let name = or_dash(text(owner, "owner"));
    match owner.get("role").and_then(Value::as_str) {
        Some(role) => format!("{name} now holds the role {role}"),
        None => format!(
            "took the role away from {name}: the user remains but may do nothing (nor may its \
             API keys) until it is given a role again"
        ),
    }
}

/// `iscli user add`: `created user olga with the role operator`.
pub(crate) fn user_created(user: &Value) -> String {
    format!(
        "created user {} with the role {}",
        or_dash(text(user, "name")),
        or_dash(text(user, "role"))
    )
}

/// `iscli user passwd`: `changed the password of olga`.
pub(crate) fn password_changed(answer: &Value) -> String {
    format!("changed the password of {}", or_dash(text(answer, "name")))
}

/// `iscli key list`: one line per key, never its secret.
pub(crate) fn key_table(keys: &[Value]) -> String {
    if keys.is_empty() {
        return "(no API keys)".to_string();
    }
    let rows: Vec<[String; 6]> = keys
        .iter()
        .map(|k| {
            [
                or_dash(text(k, "id")),
                or_dash(text(k, "owner")),
                or_dash(text(k, "label")),
                or_dash(text(k, "role")),
                time_ms(k, "created_ms", "-"),
                time_ms(k, "expires_ms", "never"),
            ]
        })
        .collect();
    table(&["ID", "OWNER", "LABEL", "ROLE", "CREATED", "EXPIRES"], &rows)
}

/// The line `key create` writes to stderr under the key: it is not shown
/// again, whom it acts as, and until when.
pub(crate) fn key_warning(key: &Value) -> String {
    format!(
        "warning: this API key (id {}) is not shown again: store it now. It acts as {} with \
         the role {} until {}.",
        or_dash(text(key, "id")),
        or_dash(text(key, "owner")),
        or_dash(text(key, "role")),
        time_ms(key, "expires_ms", "it is revoked")
    )
}

/// A role field: its name, or [`NO_ROLE`] when the node says null.
fn role_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Null) | None => NO_ROLE.to_string(),
        Some(_) => or_dash(text(v, key)),
    }
}

/// A list of strings as `a, b`.
fn list(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        None => text(v, key),
    }
}

/// A time in epoch milliseconds as a UTC date and time; `missing` when the
/// field is null or absent.
fn time_ms(v: &Value, key: &str, missing: &str) -> String {
    match v.get(key).and_then(Value::as_f64) {
        Some(ms) => datetime(ms / 1000.0),
        None => missing.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whoami_shows_the_role_permissions_and_the_key_used() {
        let me = json!({"name": "olga", "role": "operator", "permissions": ["read", "run"], "api_key": null});
        assert_eq!(
            whoami_sheet(&me),
            "User:        olga\nRole:        operator\nPermissions: read, run\n"
        );
        let by_key = json!({"name": "olga", "role": "viewer", "permissions": ["read"], "api_key": "1a2b"});
        assert!(whoami_sheet(&by_key).ends_with("API key:     1a2b\n"));
        let no_role = json!({"name": "victor", "role": null, "permissions": []});
        assert_eq!(
            whoami_sheet(&no_role),
            "User:        victor\nRole:        none (may do nothing)\nPermissions: -\n"
        );
    }

    #[test]
    fn users_and_roles_are_tables() {
        let users = [
            json!({"name": "isadmin", "role": "administrator"}),
            json!({"name": "victor", "role": null}),
        ];
        assert_eq!(
            user_table(&users),
            "NAME     ROLE\nisadmin  administrator\nvictor   none (may do nothing)\n"
        );
        assert_eq!(user_table(&[]), "(no users)");
        let roles = [json!({"name": "viewer", "description": "read only", "permissions": ["read"]})];
        assert_eq!(
            role_table(&roles),
            "ROLE    PERMISSIONS  DESCRIPTION\nviewer  read         read only\n"
        );
    }

    #[test]
    fn role_changes_say_what_the_user_holds_now() {
        assert_eq!(
            role_changed(&json!({"owner": "olga", "role": "viewer"})),
            "olga now holds the role viewer"
        );
        assert!(role_changed(&json!({"owner": "olga", "role": null}))
            .starts_with("took the role away from olga: the user remains but may do nothing"));
        assert_eq!(
            role_owner_line(&json!({"owner": "olga", "role": null})),
            "olga: none (may do nothing)"
        );
        assert_eq!(
            user_created(&json!({"name": "olga", "role": "operator", "result": "created"})),
            "created user olga with the role operator"
        );
        assert_eq!(
            password_changed(&json!({"name": "olga", "result": "password changed"})),
            "changed the password of olga"
        );
    }

    #[test]
    fn keys_show_their_times_in_utc_and_never_a_secret() {
        let keys = [json!({
            "id": "1a2b", "owner": "olga", "label": "ci", "role": "operator",
            "created_ms": 1_700_000_000_000u64, "expires_ms": null,
            "key": "isk_1a2b_s3cr3t"
        })];
        let shown = key_table(&keys);
        assert_eq!(
            shown,
            "ID    OWNER  LABEL  ROLE      CREATED                  EXPIRES\n\
             1a2b  olga   ci     operator  2023-11-14 22:13:20 UTC  never\n"
        );
        assert!(!shown.contains("s3cr3t"));
        assert_eq!(key_table(&[]), "(no API keys)");
        let warning = key_warning(&json!({
            "id": "1a2b", "owner": "olga", "role": "viewer",
            "expires_ms": 1_700_086_400_000u64, "key": "isk_1a2b_s3cr3t"
        }));
        assert_eq!(
            warning,
            "warning: this API key (id 1a2b) is not shown again: store it now. It acts as olga \
             with the role viewer until 2023-11-15 22:13:20 UTC."
        );
    }
}
