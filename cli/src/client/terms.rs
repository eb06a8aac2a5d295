//! The node's error lines in `iscli` terms. The node writes its messages
//! for every client, so they name REST calls ("list them with GET
//! /api/v1/steps") and, for a refused gRPC call, its method path ("needed
//! to POST /integration.v1.IntegrationService/RunApplication"). An operator
//! at the command line is told the `iscli` command instead; the node's
//! text stays as it is for REST callers.

/// The REST calls the node's messages point to, and the command doing the
/// same (the longer paths first, so a prefix never takes their place).
const REST_CALLS: &[(&str, &str)] = &[
    ("GET /api/v1/applications", "iscli app list"),
    ("GET /api/v1/configurations", "iscli config list"),
    ("GET /api/v1/steps", "iscli step list"),
    ("GET /api/v1/tasks", "iscli task list"),
    ("GET /api/v1/reports", "iscli report list"),
    ("GET /api/v1/schedule", "iscli schedule list"),
    ("GET /api/v1/syncpacks", "iscli pack list"),
    ("GET /api/v1/users", "iscli user list"),
    ("GET /api/v1/apikeys", "iscli key list"),
    ("POST /api/v1/apikeys", "iscli key create"),
];

/// The path every gRPC method of the node's API starts with.
const GRPC_PREFIX: &str = "POST /integration.v1.IntegrationService/";

/// The gRPC methods iscli calls, and the command that calls each.
const GRPC_METHODS: &[(&str, &str)] = &[
    ("PutStep", "iscli -usf"),
    ("ListSteps", "iscli step list"),
    ("GetStep", "iscli step get"),
    ("DeleteStep", "iscli step delete"),
    ("RunStep", "iscli step run"),
    ("PutApplication", "iscli -uaf"),
    ("ListApplications", "iscli app list"),
    ("GetApplication", "iscli app get"),
    ("DeleteApplication", "iscli app delete"),
    ("RunApplication", "iscli app run"),
    ("GetApplicationLogs", "iscli app logs"),
    ("GetTask", "iscli task show"),
    ("GetTaskResult", "iscli task show"),
    ("ListTasks", "iscli task list"),
    ("ReplayTask", "iscli task replay"),
    ("RevokeTask", "iscli task revoke"),
    ("WatchTask", "iscli task logs --follow"),
    ("PutConfiguration", "iscli -ucf"),
    ("ListConfigurations", "iscli config list"),
    ("GetConfiguration", "iscli config get"),
    ("DeleteConfiguration", "iscli config delete"),
    ("PutSchedule", "iscli schedule add"),
    ("ListSchedules", "iscli schedule list"),
    ("GetSchedule", "iscli schedule show"),
    ("UpdateSchedule", "iscli schedule enable/disable"),
    ("DeleteSchedule", "iscli schedule delete"),
    ("UploadSyncPack", "iscli -ukf"),
    ("ListSyncPacks", "iscli pack list"),
    ("GetSyncPack", "iscli pack show"),
    ("DeleteSyncPack", "iscli pack delete"),
    ("ActivateSyncPack", "iscli -Akn"),
    ("InstallSyncPack", "iscli -Ikn"),
    ("ListReports", "iscli report list"),
    ("GetReport", "iscli report show"),
    ("DeleteReport", "iscli report delete"),
    ("GetCacheEntry", "iscli cache get"),
    ("DeleteCacheEntry", "iscli cache delete"),
    ("About", "iscli about"),
    ("ListRoles", "iscli role list"),
    ("ListRoleOwners", "iscli role show"),
    ("GetRoleOwner", "iscli role show"),
    ("PutRoleOwner", "iscli role assign"),
    ("DeleteRoleOwner", "iscli role unassign"),
    ("WhoAmI", "iscli whoami"),
    ("ListUsers", "iscli user list"),
    ("CreateUser", "iscli user add"),
    ("DeleteUser", "iscli user delete"),
    ("SetPassword", "iscli user passwd"),
    ("CreateApiKey", "iscli key create"),
    ("ListApiKeys", "iscli key list"),
    ("RevokeApiKey", "iscli key revoke"),
    ("ListAudit", "iscli audit"),
    ("ClusterStatus", "iscli cluster status"),
    ("AddClusterNode", "iscli cluster add"),
    ("RemoveClusterNode", "iscli cluster remove"),
    ("RotateClusterKey", "iscli cluster rotate-key"),
];

/// `line` with every REST call and gRPC method path it names replaced by
/// the `iscli` command, quoted in backticks; "`C` or `C`" (the node named
/// both) is said once. Text without such a path is returned unchanged.
pub(super) fn in_cli_terms(line: &str) -> String {
    let mut out = grpc_in_cli_terms(line);
    for (call, command) in REST_CALLS {
        let quoted = format!("`{command}`");
        out = replace_whole(&out, &format!("{call} or {quoted}"), &quoted);
        out = replace_whole(&out, call, &quoted);
    }
    out
}

/// "to POST /integration.v1.IntegrationService/M" becomes "for `iscli ...`"
/// (or "for the call M" for a method iscli never calls).
fn grpc_in_cli_terms(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(GRPC_PREFIX) {
        let after = &rest[at + GRPC_PREFIX.len()..];
        let len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let method = &after[..len];
        let named = match GRPC_METHODS.iter().find(|(m, _)| *m == method) {
            Some((_, command)) => format!("`{command}`"),
            None => format!("the call {method}"),
        };
        let before = &rest[..at];
        match before.strip_suffix("to ") {
            Some(head) => out.push_str(&format!("{head}for {named}")),
            None => out.push_str(&format!("{before}{named}")),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `text` with `from` replaced by `to` wherever `from` is not followed by
/// more of a path or a word (`/users` is not `/users/me`).
fn replace_whole(text: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let continues = after
            .chars()
            .next()
            .is_some_and(|c| c == '/' || c == '_' || c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        out.push_str(if continues { from } else { to });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_calls_become_the_iscli_command() {
        assert_eq!(
            in_cli_terms("no step named \"X\" (list them with GET /api/v1/steps or `iscli step list`)"),
            "no step named \"X\" (list them with `iscli step list`)"
        );
        assert_eq!(
            in_cli_terms("no task \"t\" (it may have expired; list recent runs with GET /api/v1/tasks)"),
            "no task \"t\" (it may have expired; list recent runs with `iscli task list`)"
        );
        assert_eq!(
            in_cli_terms("no schedule \"s\" (list them with GET /api/v1/schedule)"),
            "no schedule \"s\" (list them with `iscli schedule list`)"
        );
        assert_eq!(
            in_cli_terms("no configuration named \"c\" (list them with GET /api/v1/configurations or `iscli config list`)"),
            "no configuration named \"c\" (list them with `iscli config list`)"
        );
        // A longer path, or a call iscli has no command for, stays.
        assert_eq!(
            in_cli_terms("see GET /api/v1/users/me"),
            "see GET /api/v1/users/me"
        );
        assert_eq!(in_cli_terms("plain line"), "plain line");
    }

    #[test]
    fn a_refused_grpc_method_names_the_command() {
        let line = "victor (viewer) lacks the 'run' permission needed to POST \
                    /integration.v1.IntegrationService/RunApplication; ask an administrator for a \
                    role that has it";
        assert_eq!(
            in_cli_terms(line),
            "victor (viewer) lacks the 'run' permission needed for `iscli app run`; ask an \
             administrator for a role that has it"
        );
        assert_eq!(
            in_cli_terms("needed to POST /integration.v1.IntegrationService/GetLicense"),
            "needed for the call GetLicense"
        );
        assert_eq!(
            in_cli_terms("POST /integration.v1.IntegrationService/ListAudit refused"),
            "`iscli audit` refused"
        );
    }
}
