// End-to-end tests of the web UI. tests/tests/web_ui.rs starts a real node,
// prepares what the specs upload (steps, a SyncPack wheel) and runs
// `playwright test` here (node_modules/.bin/playwright) with:
//   IS_UI_URL            the node's address (or a Vite dev server proxying to one)
//   IS_ADMIN_PASSWORD    the password of `isadmin`
//   IS_E2E_FIXTURES      directory of files the specs upload (see fixtures.ts)
//   IS_SCREENSHOTS       where each page's screenshot is saved
//   IS_E2E_OUTPUT        Playwright's output: failure screenshots, and
//                        report.json, which web_ui.rs reads to refuse a run
//                        in which a test was skipped
//   CI                   set by web_ui.rs: a leftover `test.only` fails the run
// The browser is Debian's Chromium (/usr/bin/chromium, or IS_CHROMIUM);
// nothing is downloaded at test time.
//
// By hand, against a node on :8080 (or a Vite dev server, IS_UI_URL):
//   cd tests/e2e && IS_ADMIN_PASSWORD=... npx playwright test [specs/login.spec.ts]
import { defineConfig } from "@playwright/test";
import * as path from "node:path";

const output = process.env.IS_E2E_OUTPUT ?? "test-results";

export default defineConfig({
  testDir: "specs",
  // One node serves every spec; specs name their content uniquely, so they
  // could run side by side, but two cores are better spent on the node.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  // A bound on the whole run, so that a hung page cannot hold the suite
  // (tests/run-all.sh has 30 minutes for everything on two cores).
  globalTimeout: 15 * 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["json", { outputFile: path.join(output, "report.json") }]],
  outputDir: output,
  use: {
    baseURL: process.env.IS_UI_URL ?? "http://127.0.0.1:8080",
    viewport: { width: 1280, height: 800 },
    trace: "off",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.IS_CHROMIUM ?? "/usr/bin/chromium",
      // The machine has no internet: background services of Chromium would
      // only fill the log with refused connections.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
