//! Web UI sessions (`POST`/`DELETE /api/v1/session`): a token for a
//! password or an API key, used as `Bearer`, with the role the user has now;
//! it ends on sign-out, on a password change, with its API key, and is
//! refused when altered. Also: the UI's calls get no Basic challenge.

use std::time::Duration;

use is_tests::{poll, Auth, Progress, TestNode, PASSWORD};
use serde_json::{json, Value};

async fn call(
    node: &TestNode,
    auth: Auth<'_>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    node.call_as(auth, method, path, body).await
}

async fn sign_in(node: &TestNode, auth: Auth<'_>) -> Value {
    let (status, body) = call(node, auth, "POST", "/api/v1/session", None).await;
    assert_eq!(status, 201, "{body}");
    body
}

fn token(session: &Value) -> &str {
    session["token"].as_str().expect("a token")
}

#[tokio::test]
async fn a_session_acts_as_its_user_until_it_ends() {
    let node = TestNode::start().await.unwrap();
    let (status, body) = node
        .rest(
            "POST",
            "/api/v1/users",
            Some(&json!({"name": "vera", "password": "vera-password", "role": "viewer"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");

    // The admin's session: who it is, what it may do, and that it works.
    let admin = sign_in(&node, Auth::Basic("isadmin", PASSWORD)).await;
    assert_eq!(admin["name"], "isadmin");
    assert_eq!(admin["role"], "administrator");
    assert_eq!(admin["permissions"], json!(["read", "run", "write", "admin"]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = admin["expires_at"].as_u64().unwrap();
    assert!(
        expires > now + 3000 && expires <= now + 3601,
        "default idle time is an hour: {expires} vs {now}"
    );
    let (status, me) = call(
        &node,
        Auth::Bearer(token(&admin)),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!((status, me["name"].as_str()), (200, Some("isadmin")));

    // A viewer's session may read, not write; the role is the user's own.
    let viewer = sign_in(&node, Auth::Basic("vera", "vera-password")).await;
    assert_eq!(viewer["permissions"], json!(["read"]));
    let app = json!({"name": "s_app", "steps": [{"name": "a", "file": "Echo"}]});
    let (status, _) = call(
        &node,
        Auth::Bearer(token(&viewer)),
        "GET",
        "/api/v1/applications",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &node,
        Auth::Bearer(token(&viewer)),
        "POST",
        "/api/v1/applications",
        Some(&app),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    // Promoted, the same session may write at once (only administrators write).
    let (status, body) = node
        .rest(
            "POST",
            "/api/v1/roles/owner",
            Some(&json!({"owner": "vera", "role": "administrator"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &node,
        Auth::Bearer(token(&viewer)),
        "POST",
        "/api/v1/applications",
        Some(&app),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Renewing keeps the session and moves its expiry no earlier.
    let renewed = sign_in(&node, Auth::Bearer(token(&viewer))).await;
    assert_ne!(token(&renewed), token(&viewer));
    assert!(renewed["expires_at"].as_u64() >= viewer["expires_at"].as_u64());

    // A password change ends the user's sessions (old and renewed).
    let (status, body) = call(
        &node,
        Auth::Basic("vera", "vera-password"),
        "PUT",
        "/api/v1/users/vera/password",
        Some(&json!({"password": "vera-new-password"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for t in [token(&viewer), token(&renewed)] {
        let (status, _) = call(&node, Auth::Bearer(t), "GET", "/api/v1/users/me", None).await;
        assert_eq!(status, 401);
    }

    // Signing out ends that session only.
    let other = sign_in(&node, Auth::Basic("isadmin", PASSWORD)).await;
    let (status, body) = call(
        &node,
        Auth::Bearer(token(&admin)),
        "DELETE",
        "/api/v1/session",
        None,
    )
    .await;
    assert_eq!((status, body["signed_out"].as_bool()), (200, Some(true)));
    let (status, _) = call(
        &node,
        Auth::Bearer(token(&admin)),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &node,
        Auth::Bearer(token(&other)),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(status, 200);

    // An altered token is refused, not misread.
    let mut forged = token(&other).to_string();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (status, _) = call(&node, Auth::Bearer(&forged), "GET", "/api/v1/users/me", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_session_opened_with_an_api_key_ends_with_the_key() {
    let node = TestNode::start().await.unwrap();
    let (status, key) = node
        .rest(
            "POST",
            "/api/v1/apikeys",
            Some(&json!({"name": "ui", "role": "viewer"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{key}");
    let secret = key["key"].as_str().expect("the key is shown once");
    let session = sign_in(&node, Auth::Bearer(secret)).await;
    // Capped by the key's role, though its owner is an administrator.
    assert_eq!(session["permissions"], json!(["read"]));
    let (status, me) = call(
        &node,
        Auth::Bearer(token(&session)),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["api_key"], key["id"]);

    let id = key["id"].as_str().unwrap();
    let (status, body) = node
        .rest("DELETE", &format!("/api/v1/apikeys/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        &node,
        Auth::Bearer(token(&session)),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn scripts_get_no_basic_challenge_and_the_audit_records_sign_ins() {
    let node = TestNode::start().await.unwrap();
    let http = is_tests::http_client();
    let plain = http.get(node.url("/api/v1/steps")).send().await.unwrap();
    assert_eq!(plain.status().as_u16(), 401);
    assert!(
        plain.headers().contains_key("www-authenticate"),
        "API clients are challenged"
    );
    // The web UI marks its calls: a browser would answer a challenge with
    // its own password prompt instead of the page's sign-in form.
    let ui = http
        .post(node.url("/api/v1/session"))
        .header("X-Requested-With", "is-web-ui")
        .basic_auth("isadmin", Some("wrong-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status().as_u16(), 401);
    assert!(!ui.headers().contains_key("www-authenticate"));

    sign_in(&node, Auth::Basic("isadmin", PASSWORD)).await;
    // The audit trail is written in batches: wait for the sign-in to show.
    poll(Duration::from_secs(10), async || {
        let (_, audit) = node.rest("GET", "/api/v1/audit?limit=200", None).await?;
        let items = audit
            .as_array()
            .or_else(|| audit["records"].as_array())
            .cloned()
            .unwrap_or_default();
        let signed_in = items
            .iter()
            .any(|r| r["action"] == "POST /api/v1/session" && r["status"] == 201 && r["user"] == "isadmin");
        Ok(if signed_in {
            Progress::Done(())
        } else {
            Progress::NotYet(format!("no sign-in among {} audit records", items.len()))
        })
    })
    .await
    .unwrap();
}
