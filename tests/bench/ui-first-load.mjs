// The browser side of tests/bench/ui-first-load.sh: first loads of the
// Integrations page and Run clicks, timed inside the page, in Debian's
// Chromium (IS_CHROMIUM) driven by playwright-core from tests/e2e.
// Usage: node tests/bench/ui-first-load.mjs URL ADMIN_PASSWORD LOADS CLICKS APPS
// Prints one JSON object.
import { createRequire } from "node:module";

const require = createRequire(new URL("../e2e/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [url, password, loads, clicks, apps] = process.argv.slice(2);
const LOADS = Number(loads ?? 10);
const CLICKS = Number(clicks ?? 5);
const APPS = Number(apps ?? 500);
// Where the UI keeps the session (node/ui/src/api.ts), and what counts as
// the page being there: a row of the application table.
const SESSION_KEY = "is-session";
const FIRST_ROW = "main table tbody tr";
const LIVE_STEP = '[data-step][data-state="STARTED"], [data-step][data-state="SUCCESS"]';

/** Median, min and max of the figures, and each in the order measured. */
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  return {
    median: round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2),
    min: round(s[0]),
    max: round(s[s.length - 1]),
    each: xs.map(round),
  };
};

// One sign-in for every load: the token is what the sign-in page stores.
const auth = "Basic " + Buffer.from(`isadmin:${password}`).toString("base64");
const signIn = await fetch(`${url}/api/v1/session`, { method: "POST", headers: { Authorization: auth } });
if (signIn.status !== 201) throw new Error(`POST /api/v1/session: ${signIn.status} ${await signIn.text()}`);
const session = await signIn.text();

const browser = await chromium.launch({
  executablePath: process.env.IS_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
});

/** A new context (empty cache) whose pages start signed in. */
async function signedInPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(
    ([key, value, selector]) => {
      sessionStorage.setItem(key, value);
      // The moment (ms since the navigation started) the first row is in
      // the page and laid out.
      const look = () => {
        const row = document.querySelector(selector);
        if (row && row.getBoundingClientRect().height > 0) {
          window.__firstRow = performance.now();
          return true;
        }
        return false;
      };
      const watch = new MutationObserver(() => look() && watch.disconnect());
      watch.observe(document, { childList: true, subtree: true });
    },
    [SESSION_KEY, session, FIRST_ROW],
  );
  return { context, page: await context.newPage() };
}

const rows = [];
const dcl = [];
const wall = [];
const bytes = [];
const requests = [];
const listed = [];
for (let i = 0; i < LOADS; i++) {
  const { context, page } = await signedInPage();
  // Every response up to the first row: its size, and for the listing of
  // applications how many it held (the page asks for one page of them).
  const sizes = [];
  const listings = [];
  page.on("requestfinished", (r) => sizes.push(r.sizes().then((s) => s.responseHeadersSize + s.responseBodySize)));
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === "/api/v1/applications") listings.push(r.json().then((items) => items.length));
  });
  const t0 = performance.now();
  await page.goto(`${url}/integrations`, { waitUntil: "commit" });
  await page.waitForFunction(() => window.__firstRow !== undefined, null, { timeout: 30_000 });
  wall.push(performance.now() - t0);
  rows.push(await page.evaluate(() => window.__firstRow));
  dcl.push(await page.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd));
  const all = await Promise.all(sizes);
  bytes.push(all.reduce((a, b) => a + b, 0));
  requests.push(all.length);
  listed.push((await Promise.all(listings)).reduce((a, b) => a + b, 0));
  await context.close();
}

// Run clicks, each on an application that has not run (the last ones).
const live = [];
for (let i = 0; i < CLICKS; i++) {
  const app = `bench_app_${String(APPS - 1 - i).padStart(3, "0")}`;
  const { context, page } = await signedInPage();
  await page.goto(`${url}/apps/${app}`);
  const run = page.getByRole("button", { name: "Run", exact: true });
  await run.waitFor();
  await page.waitForFunction(() => {
    const steps = [...document.querySelectorAll("[data-step]")];
    return steps.length > 0 && steps.every((s) => s.getAttribute("data-state") === "NONE");
  });
  await page.evaluate((selector) => {
    document.addEventListener("click", () => (window.__clicked ??= performance.now()), { capture: true });
    const watch = new MutationObserver(() => {
      if (window.__clicked !== undefined && document.querySelector(selector)) {
        window.__live = performance.now();
        watch.disconnect();
      }
    });
    watch.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
  }, LIVE_STEP);
  await run.click();
  await page.waitForFunction(() => window.__live !== undefined, null, { timeout: 30_000 });
  live.push(await page.evaluate(() => window.__live - window.__clicked));
  await context.close();
}
await browser.close();

console.log(
  JSON.stringify({
    applications: APPS,
    loads: LOADS,
    first_row_ms: stats(rows),
    dom_content_loaded_ms: stats(dcl),
    wall_ms: stats(wall),
    bytes: stats(bytes),
    requests: stats(requests),
    applications_fetched: stats(listed),
    run_click_to_live_ms: CLICKS ? stats(live) : null,
  }),
);
