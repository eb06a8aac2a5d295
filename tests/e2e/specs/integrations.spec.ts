// The Integrations page against a real node: it lists applications, search
// narrows them as you type, Run starts a run, Open goes to the application
// page, Delete removes one; the Runs tab lists and filters runs; a viewer
// sees no Run or Delete buttons here or on the application page.
import { test, expect, signIn, shot, unique, adminApi } from "../fixtures";
import type { Page } from "@playwright/test";

async function quickStep(page: Page, name: string) {
  const source =
    `from ipaascore.BaseStep import BaseStep\n\n\nclass ${name}(BaseStep):\n` +
    `    def execute(self):\n        self.logger.info("quick")\n        self.save_data_for_next_step({"ok": True})\n`;
  await adminApi(page, "POST", "/steps", { name, data: source });
}

test("lists, searches, runs, opens and deletes applications", async ({ page }) => {
  const tag = unique("int");
  const cls = unique("Quick");
  await quickStep(page, cls);
  const alpha = `${tag}_alpha`;
  const beta = `${tag}_beta`;
  await adminApi(page, "POST", "/applications", {
    name: alpha,
    friendly_name: `Alpha ${tag}`,
    description: "Copies devices from one place to another",
    steps: [{ name: "only", file: cls }],
  });
  await adminApi(page, "POST", "/applications", {
    name: beta,
    friendly_name: `Beta ${tag}`,
    description: "Second application of the search test",
    steps: [{ name: "only", file: cls }],
  });

  await signIn(page);
  await page.goto("/integrations");
  await expect(page.getByRole("heading", { name: "Integrations" })).toBeVisible();
  const search = page.getByLabel("Search applications");
  await search.fill(tag);
  // The header row and the two applications of this test.
  await expect(page.getByRole("table").getByRole("row")).toHaveCount(3);
  const rowAlpha = page.getByRole("row", { name: new RegExp(`Alpha ${tag}`) });
  const rowBeta = page.getByRole("row", { name: new RegExp(`Beta ${tag}`) });
  await expect(rowAlpha).toBeVisible();
  await expect(rowBeta).toBeVisible();
  await expect(rowAlpha).toContainText("Copies devices");
  await shot(page, "integrations");

  // Typing more narrows the list to one application.
  await search.fill(alpha);
  await expect(rowBeta).toHaveCount(0);
  await expect(rowAlpha).toBeVisible();
  await search.fill(`${tag}_nothing`);
  await expect(page.getByText(/No application matches/)).toBeVisible();
  await search.fill(tag);
  await expect(rowBeta).toBeVisible();

  // Run: a run starts and the row shows it.
  await rowAlpha.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status")).toContainText(`Started`);
  await expect(rowAlpha.locator(".badge")).toBeVisible();

  // The Runs tab pages through the API 25 runs at a time; filters narrow
  // the list. 26 more runs make two pages (rows: a header and the runs).
  for (let i = 0; i < 26; i++) await adminApi(page, "POST", `/applications/${alpha}/run?wait=10`, { params: {} });
  await page.getByRole("tab", { name: "Runs" }).click();
  const runs = page.getByRole("table", { name: "Runs" });
  // The newest runs are all alpha's: wait for the filtered answer itself.
  const filtered = page.waitForResponse((r) => r.url().includes(`app=${alpha}`));
  await page.getByLabel("Application").fill(alpha);
  await filtered;
  await expect(runs.getByRole("row")).toHaveCount(26);
  await page.getByRole("button", { name: /Next/ }).click();
  await expect(runs.getByRole("row")).toHaveCount(3);
  await expect(page.getByRole("button", { name: /Next/ })).toBeDisabled();
  await page.getByRole("button", { name: /Previous/ }).click();
  await expect(runs.getByRole("row")).toHaveCount(26);
  await page.getByLabel("State").selectOption("FAILURE");
  await expect(page.getByText("No run matches these filters.")).toBeVisible();
  await page.getByLabel("State").selectOption("SUCCESS");
  await expect(runs.getByRole("row")).toHaveCount(26);
  await page.getByLabel("Started by").selectOption("SCHEDULE");
  await expect(page.getByText("No run matches these filters.")).toBeVisible();
  await page.getByLabel("Started by").selectOption("USER");
  await expect(runs.getByRole("row")).toHaveCount(26);
  await page.getByLabel("From").fill("2099-01-01T00:00");
  await expect(page.getByText("No run matches these filters.")).toBeVisible();
  await page.getByLabel("From").fill("2000-01-01T00:00");
  await expect(runs.getByRole("row")).toHaveCount(26);
  await shot(page, "integrations-runs");
  await runs.getByRole("link").first().click();
  await expect(page).toHaveURL(new RegExp(`/apps/${alpha}\\?run=isapp-`));
  await expect(page.locator('[data-step="only"]')).toHaveAttribute("data-state", "SUCCESS");

  // Open goes to the application page.
  await page.goto("/integrations");
  await page.getByLabel("Search applications").fill(tag);
  await rowAlpha.getByRole("link", { name: "Open" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${alpha}$`));
  await expect(page.getByRole("heading", { name: new RegExp(`Alpha ${tag}`) })).toBeVisible();

  // Delete asks, then removes the application.
  await page.goto("/integrations");
  await page.getByLabel("Search applications").fill(tag);
  await rowBeta.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete application" });
  await expect(dialog).toContainText(beta);
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(rowBeta).toHaveCount(0);
  await expect(rowAlpha).toBeVisible();
  const left = await adminApi(page, "GET", `/applications?limit=1000`);
  expect((left as { name: string }[]).some((a) => a.name === beta)).toBe(false);
});

test("a viewer sees no Run or Delete buttons", async ({ page }) => {
  const tag = unique("view");
  const cls = unique("Quick");
  await quickStep(page, cls);
  const app = `${tag}_app`;
  await adminApi(page, "POST", "/applications", {
    name: app,
    friendly_name: `Viewed ${tag}`,
    steps: [{ name: "only", file: cls }],
  });
  await adminApi(page, "POST", `/applications/${app}/run?wait=10`, { params: {} });
  const viewer = unique("viewer");
  await adminApi(page, "POST", "/users", { name: viewer, password: "viewer-pass-1", role: "viewer" });

  await signIn(page, viewer, "viewer-pass-1");
  await page.goto("/integrations");
  await page.getByLabel("Search applications").fill(tag);
  const row = page.getByRole("row", { name: new RegExp(`Viewed ${tag}`) });
  await expect(row).toBeVisible();
  await expect(row.getByRole("link", { name: "Open" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Run", exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "New application" })).toHaveCount(0);

  await row.getByRole("link", { name: "Open" }).click();
  await expect(page.locator('[data-step="only"]')).toHaveAttribute("data-state", "SUCCESS");
  for (const name of ["Run", "Debug Run", "Custom Run", "Replay", "Revoke", "Delete"]) {
    await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
  }
  await expect(page.getByRole("link", { name: "Edit", exact: true })).toHaveCount(0);
  // Configure opens the pane read-only (no Save) for a viewer.
  await page.getByRole("button", { name: "Configure" }).click();
  const pane = page.getByRole("dialog", { name: /Configure/ });
  await expect(pane).toBeVisible();
  await expect(pane.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await pane.getByRole("button", { name: "Close" }).first().click();
  await expect(pane).toHaveCount(0);
  // Reading is allowed: the step panel opens with the step's log.
  await page.getByRole("button", { name: /^Step only/ }).click();
  await expect(page.getByRole("region", { name: "Step only" }).getByRole("table")).toContainText("quick");
});
