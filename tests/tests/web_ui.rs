//! The web UI (issue 14) in a real browser: `playwright test` in
//! tests/e2e drives Debian's Chromium against a node serving its embedded
//! UI, and each page of [`PAGES`] must leave its screenshot in
//! `target/ui-screenshots`. Beside it, what the node serves to a browser
//! without a session: the UI and its assets, while the API still asks for
//! credentials and answers JSON.
//!
//! The specs upload files from a directory this test prepares
//! (IS_E2E_FIXTURES): the example SyncPack's wheel, built here the way
//! `iscli -ukf` builds it, and the steps of `tests/fixtures/steps`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use is_tests::{bin_dir, syncpack_dir, wheel_dir, TestNode, PASSWORD};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Every page the specs save a screenshot of (`<name>.png`): the list the
/// closing note of the issue gives, checked after the browser run.
const PAGES: &[&str] = &[
    "login",
    "integrations",
    "application",
    "application-run",
    "step-panel",
    "custom-run",
    "editor",
    "step-editor",
    "configure",
    "configurations",
    "configuration",
    "steps",
    "step",
    "syncpacks",
    "schedules",
    "reports",
    "cluster",
];

/// A bound on the whole browser run, above Playwright's own `globalTimeout`
/// (playwright.config.ts), which ends a hung run first with its report.
const E2E_WITHIN: Duration = Duration::from_secs(17 * 60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives in the repository")
        .to_path_buf()
}

/// `target/` of this build (where the binaries are), for what the run leaves.
fn target_dir() -> PathBuf {
    bin_dir()
        .parent()
        .expect("target/<profile> has a parent")
        .to_path_buf()
}

/// The browser Playwright drives: IS_CHROMIUM, or Debian's Chromium.
fn chromium() -> PathBuf {
    std::env::var_os("IS_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails, saying what installs it, when the browser or the test packages
/// are missing: the test never passes without having run the specs.
fn check_prerequisites(e2e: &Path) {
    let browser = chromium();
    assert!(
        browser.is_file(),
        "{} is missing: the browser tests run in Debian's Chromium; install it with \
         `apt-get install chromium chromium-driver` (.ci/run does), or point IS_CHROMIUM at a Chromium",
        browser.display()
    );
    let playwright = e2e.join("node_modules/.bin/playwright");
    assert!(
        playwright.is_file(),
        "{} is missing: install the browser tests' packages with `cd tests/e2e && npm ci` \
         (tests/run-all.sh does)",
        playwright.display()
    );
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Builds the wheel of the SyncPack `name` whose sources are in `source`
/// (setup.py beside the package directory `name/` holding meta.json) into
/// `out`, as `iscli -ukf` does before it uploads: the package's files in
/// name order (no hidden files, `__pycache__` or `*.pyc`), then the
/// dist-info's METADATA, WHEEL and RECORD. Answers the wheel's path.
fn build_wheel(source: &Path, name: &str, out: &Path) -> PathBuf {
    let package = source.join(name);
    let meta: Value = serde_json::from_slice(&std::fs::read(package.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["name"], name, "{}", package.display());
    let version = meta["version"].as_str().unwrap();
    let mut files = Vec::new();
    collect_files(&package, name, &mut files);
    files.sort();

    let path = out.join(format!("{name}-{version}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut record = String::new();
    let mut add = |inner: &str, data: &[u8]| {
        zip.start_file(inner, options).unwrap();
        zip.write_all(data).unwrap();
        let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
        record.push_str(&format!("{inner},sha256={hash},{}\n", data.len()));
    };
    for (inner, disk) in &files {
        add(inner, &std::fs::read(disk).unwrap());
    }
    let mut metadata = format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {}\n",
        meta["summary"].as_str().unwrap_or_default()
    );
    for requirement in meta["requires_dist"].as_array().into_iter().flatten() {
        metadata.push_str(&format!("Requires-Dist: {}\n", requirement.as_str().unwrap()));
    }
    let dist_info = format!("{name}-{version}.dist-info");
    add(&format!("{dist_info}/METADATA"), metadata.as_bytes());
    add(
        &format!("{dist_info}/WHEEL"),
        b"Wheel-Version: 1.0\nGenerator: is-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    );
    // RECORD lists itself without a hash.
    let record_path = format!("{dist_info}/RECORD");
    record.push_str(&format!("{record_path},,\n"));
    zip.start_file(record_path.as_str(), options).unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

/// (path inside the wheel, path on disk) of every file under `dir` that
/// goes into a wheel, the inner paths under `prefix`.
fn collect_files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let inner = format!("{prefix}/{name}");
        let kind = entry.file_type().unwrap();
        if name.starts_with('.') || name == "__pycache__" || name.ends_with(".pyc") {
            continue;
        } else if kind.is_dir() {
            collect_files(&entry.path(), &inner, out);
        } else {
            out.push((inner, entry.path()));
        }
    }
}

/// The files the specs upload (IS_E2E_FIXTURES): the example SyncPack's
/// wheel and each step of tests/fixtures/steps as `NAME.py`.
fn prepare_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_wheel(&syncpack_dir("test_syncpack"), "test_syncpack", dir.path());
    let steps = repo_root().join("tests/fixtures/steps");
    for entry in std::fs::read_dir(&steps).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "py") {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// Playwright's JSON report of the run: its totals, and `file:line title`
/// of each test that did not simply pass (skipped, failed or flaky).
fn read_report(output: &Path) -> (Value, Vec<String>) {
    let report = output.join("report.json");
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("Playwright wrote no {}: {e}", report.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut odd = Vec::new();
    let mut suites: Vec<&Value> = doc["suites"].as_array().into_iter().flatten().collect();
    while let Some(suite) = suites.pop() {
        suites.extend(suite["suites"].as_array().into_iter().flatten());
        for spec in suite["specs"].as_array().into_iter().flatten() {
            for test in spec["tests"].as_array().into_iter().flatten() {
                if test["status"] != "expected" {
                    odd.push(format!(
                        "{} ({}:{} {})",
                        test["status"].as_str().unwrap_or("?"),
                        spec["file"].as_str().unwrap_or("?"),
                        spec["line"],
                        spec["title"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    (doc["stats"].clone(), odd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_works_in_chromium_against_a_real_node() {
    let e2e = repo_root().join("tests/e2e");
    check_prerequisites(&e2e);
    let wheels = wheel_dir().unwrap();
    let node = TestNode::start_with(&[
        ("IS_SYNCPACK_WHEEL_DIR", wheels.to_str().unwrap()),
        ("IS_SYNCPACK_USE_INDEX", "false"),
    ])
    .await
    .unwrap();
    let fixtures = prepare_fixtures();
    let shots = target_dir().join("ui-screenshots");
    let output = target_dir().join("e2e-results");
    // Screenshots of an earlier run must not stand in for this one's.
    if shots.exists() {
        std::fs::remove_dir_all(&shots).unwrap();
    }
    std::fs::create_dir_all(&output).unwrap();

    // Playwright's own command rather than npx, so that the process ended
    // on a timeout is Playwright itself (its Chromium goes with it).
    let mut command = tokio::process::Command::new(e2e.join("node_modules/.bin/playwright"));
    command
        .arg("test")
        .current_dir(&e2e)
        .env("IS_UI_URL", node.url(""))
        .env("IS_ADMIN_PASSWORD", PASSWORD)
        .env("IS_E2E_FIXTURES", fixtures.path())
        .env("IS_SCREENSHOTS", &shots)
        .env("IS_E2E_OUTPUT", &output)
        .env("IS_CHROMIUM", chromium())
        .env("CI", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let started = std::time::Instant::now();
    let run = tokio::time::timeout(E2E_WITHIN, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the browser tests did not end within {E2E_WITHIN:?}; the node's log ends:\n{}",
                tail(&node.log(), 80)
            )
        })
        .expect("run tests/e2e/node_modules/.bin/playwright (is Node.js installed?)");
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::write(output.join("playwright.log"), &text).unwrap();
    println!("{text}");
    println!(
        "playwright test: {} in {:.1} s (log: {})",
        run.status,
        took.as_secs_f64(),
        output.join("playwright.log").display()
    );
    assert!(
        run.status.success(),
        "the browser tests failed ({}); their output is above, failure screenshots are in {}; \
         the node's log ends:\n{}",
        run.status,
        output.display(),
        tail(&node.log(), 80)
    );
    // A test that skips itself proves nothing: every one must have run.
    let (stats, odd) = read_report(&output);
    assert!(
        odd.is_empty() && stats["expected"].as_u64().unwrap_or(0) > 0,
        "every browser test must run and pass; these did not: {odd:#?}\n(totals: {stats})"
    );

    let missing: Vec<&str> = PAGES
        .iter()
        .copied()
        .filter(|page| {
            std::fs::read(shots.join(format!("{page}.png")))
                .map_or(true, |png| !png.starts_with(b"\x89PNG\r\n\x1a\n"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "no screenshot of {missing:?} in {}: each page is shown by a spec that calls shot(page, NAME)",
        shots.display()
    );
    println!("screenshots of {} pages in {}", PAGES.len(), shots.display());
}

/// A GET of `path` without credentials, with an `Accept` header; answers
/// the status, the headers and the body.
async fn anonymous_get(
    node: &TestNode,
    path: &str,
    accept: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = is_tests::http_client()
        .get(node.url(path))
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A browser reaches the sign-in page and its scripts without a session,
/// also at a page's own address (a reload or a bookmark); the page may
/// load from this node only (CSP) and is checked again at each visit,
/// while its content-named assets are cached for good (gzipped for a
/// browser that takes it). The API still
/// wants credentials, also from a browser navigation, and a client that
/// does not ask for HTML gets the API's JSON answers for an unknown path,
/// also under /assets/: 401 without credentials, 404 with them.
#[tokio::test]
async fn the_node_serves_the_ui_to_a_browser_without_a_session() {
    let node = TestNode::start().await.unwrap();
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    let (status, headers, index) = anonymous_get(&node, "/", html).await;
    assert_eq!(status, 200, "{index}");
    assert!(
        header(&headers, "content-type").starts_with("text/html"),
        "{headers:?}"
    );
    let csp = header(&headers, "content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "CSP: {csp:?}"
    );
    assert_eq!(header(&headers, "cache-control"), "no-cache", "{headers:?}");

    let (status, headers, page) = anonymous_get(&node, "/apps/some%20app", html).await;
    assert_eq!(status, 200, "a page's own address: {page}");
    assert!(
        header(&headers, "content-type").starts_with("text/html"),
        "{headers:?}"
    );
    assert_eq!(page, index, "a page's own address answers the same index.html");

    // The script index.html loads (Vite names it assets/index-HASH.js).
    let script = index
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|src| src.starts_with("/assets/") && src.ends_with(".js"))
        .unwrap_or_else(|| panic!("index.html loads no /assets/*.js: {index}"));
    let (status, headers, body) = anonymous_get(&node, script, "*/*").await;
    assert_eq!(status, 200, "{script}");
    assert!(
        header(&headers, "content-type").starts_with("text/javascript"),
        "{headers:?}"
    );
    let cache = header(&headers, "cache-control");
    let max_age: u64 = cache
        .split(',')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .and_then(|age| age.parse().ok())
        .unwrap_or(0);
    assert!(
        max_age >= 365 * 24 * 3600 && cache.contains("immutable"),
        "{script}: cache-control {cache:?}"
    );
    assert!(!body.is_empty());
    // A browser that accepts gzip gets the script compressed (once, at
    // build time); one that does not gets it plain.
    let resp = is_tests::http_client()
        .get(node.url(script))
        .header(reqwest::header::ACCEPT_ENCODING, "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{script}");
    assert_eq!(
        header(resp.headers(), "content-encoding"),
        "gzip",
        "{:?}",
        resp.headers()
    );
    assert_eq!(
        header(resp.headers(), "vary"),
        "accept-encoding",
        "{:?}",
        resp.headers()
    );
    let packed = resp.bytes().await.unwrap();
    assert!(
        packed.starts_with(b"\x1f\x8b") && packed.len() < body.len() / 2,
        "{script}: {} bytes gzipped, {} plain",
        packed.len(),
        body.len()
    );
    assert!(header(&headers, "content-encoding").is_empty(), "{headers:?}");

    for accept in ["application/json", html] {
        let (status, _, body) = anonymous_get(&node, "/api/v1/steps", accept).await;
        assert_eq!(status, 401, "GET /api/v1/steps, Accept {accept}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert!(error["error"].is_string(), "{body}");
    }
    // Not the UI's: the API answers, in JSON; without credentials it asks
    // for them (it does not say which paths exist), with them it is a 404.
    for path in ["/nonexistent", "/assets/nonexistent.js"] {
        let (status, headers, body) = anonymous_get(&node, path, "application/json").await;
        assert_eq!(status, 401, "{path} without credentials: {body}");
        assert!(
            header(&headers, "content-type").starts_with("application/json"),
            "{path}: {headers:?}"
        );
        let resp = node
            .http
            .get(node.url(path))
            .basic_auth("isadmin", Some(PASSWORD))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{path}");
        assert!(
            header(resp.headers(), "content-type").starts_with("application/json"),
            "{path}: {:?}",
            resp.headers()
        );
        let error: Value = resp.json().await.unwrap();
        assert!(error["error"].is_string(), "{path}: {error}");
    }
}
