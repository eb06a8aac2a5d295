import { test, expect, signIn, shot } from "../fixtures";

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
