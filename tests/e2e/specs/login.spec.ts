import { test, expect, signIn, shot, adminApi, unique } from "../fixtures";

test("signs in with a password, shows the user and signs out", async ({ page }) => {
  await page.goto("/");
  await shot(page, "login");
  await signIn(page);
  await expect(page.getByText("admin", { exact: false }).first()).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("form", { name: "Sign in" })).toBeVisible();
});

test("a wrong password is refused with a message", async ({ page, allowConsole }) => {
  allowConsole(/401/);
  await page.goto("/");
  await page.getByLabel("User", { exact: true }).fill("admin");
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText(/authentication/i);
});

test("signs in with an API key, acting with the key's role", async ({ page }) => {
  const key = await adminApi(page, "POST", "/apikeys", { name: unique("ui-key"), role: "viewer" });
  await page.goto("/");
  await page.getByRole("tab", { name: "API key" }).click();
  await page.getByLabel("API key", { exact: true }).fill(key.key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  // The key's owner is the administrator; the session has the key's role.
  await expect(page.getByText("(viewer)")).toBeVisible();
  await expect(page.getByRole("button", { name: "New application" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "New application" })).toHaveCount(0);
});

test("a session that was signed out elsewhere sends the page back to sign-in", async ({ page, allowConsole }) => {
  allowConsole(/401/);
  await signIn(page);
  // End this browser's session from outside, as its expiry would.
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("is-session") ?? "{}").token as string);
  const res = await page.request.delete("/api/v1/session", { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status()).toBe(200);
  await page.getByRole("link", { name: "Steps" }).click();
  await expect(page.getByRole("form", { name: "Sign in" })).toBeVisible();
  await expect(page.getByText("Your session has ended; sign in again.")).toBeVisible();
});
