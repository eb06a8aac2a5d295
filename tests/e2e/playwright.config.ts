// End-to-end tests of the web UI. tests/tests/web_ui.rs starts a real node,
// prepares what the specs upload (steps, a SyncPack wheel) and runs
// `npx playwright test` with:
//   IS_UI_URL            the node's address (or a Vite dev server proxying to one)
//   IS_ADMIN_PASSWORD    the password of `admin`
//   IS_E2E_FIXTURES      directory of files the specs upload
//   IS_SCREENSHOTS       where each page's screenshot is saved
// The browser is Debian's Chromium (/usr/bin/chromium, or IS_CHROMIUM);
// nothing is downloaded at test time.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "specs",
  // One node serves every spec; specs name their content uniquely, so they
  // could run side by side, but two cores are better spent on the node.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: process.env.IS_E2E_OUTPUT ?? "test-results",
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
