// What every spec shares: a page that fails its test on any console error or
// uncaught exception, signing in, and saving a screenshot of a page.
import { test as base, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

// A new node's administrator is `isadmin` (its password from IS_ADMIN_PASSWORD).
export const ADMIN = { user: process.env.IS_ADMIN_USER ?? "isadmin", password: process.env.IS_ADMIN_PASSWORD ?? "change-me" };
export const FIXTURES = process.env.IS_E2E_FIXTURES ?? path.resolve("fixtures");
const SHOTS = process.env.IS_SCREENSHOTS ?? path.resolve("screenshots");

interface Fixtures {
  /** Console messages matching one of these are expected by the test. */
  allowConsole: (pattern: RegExp) => void;
}

export const test = base.extend<Fixtures>({
  allowConsole: [
    async ({ page }, use) => {
      const allowed: RegExp[] = [];
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" && !allowed.some((a) => a.test(m.text()))) problems.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
      await use((p) => allowed.push(p));
      expect(problems, "the page logged errors").toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Signs in through the sign-in form and waits for the Integrations page. */
export async function signIn(page: Page, user = ADMIN.user, password = ADMIN.password) {
  await page.goto("/");
  await page.getByLabel("User", { exact: true }).fill(user);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
}

/** Saves a full-page screenshot as `<name>.png` in IS_SCREENSHOTS. */
export async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A name no other test (or earlier run against the same node) uses. */
export function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** Calls the REST API as the admin (to set up what a test needs). */
export async function adminApi(page: Page, method: string, p: string, body?: unknown) {
  const auth = "Basic " + Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString("base64");
  const res = await page.request.fetch(`/api/v1${p}`, {
    method,
    headers: { Authorization: auth, "Content-Type": "application/json" },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok()) throw new Error(`${method} ${p}: ${res.status()} ${await res.text()}`);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}
