// The Schedules page against a real node: a crontab schedule built with a
// preset, its next fire times shown by the node before saving, its
// next_fire in the list after; the slot history expands; disabling and
// deleting it; a frequency schedule's preview.
import { test, expect, signIn, shot, adminApi, unique } from "../fixtures";

async function makeApp(page: Parameters<typeof adminApi>[0]): Promise<string> {
  const app = unique("e2e_sched_app");
  await adminApi(page, "POST", "/applications", {
    name: app,
    friendly_name: "E2E scheduled app",
    steps: [{ name: "Only step", file: "stepTemplate" }],
  });
  return app;
}

test("creates a crontab schedule, seeing its next fire times before saving and next_fire after", async ({ page }) => {
  await page.goto("/");
  const app = await makeApp(page);
  const entry = `${app} nightly`;
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Schedules" }).click();
  await page.getByRole("button", { name: "New schedule" }).click();
  const dialog = page.getByRole("dialog", { name: "New schedule" });
  await dialog.getByLabel("Application", { exact: true }).fill(app);
  await dialog.getByLabel("Entry id").fill(entry);
  await dialog.getByRole("radio", { name: "Crontab" }).check();
  await dialog.getByLabel("Preset").selectOption({ label: "Weekdays (Monday to Friday) at…" });
  await dialog.getByLabel("Time of day").fill("07:30");
  await expect(dialog.getByLabel("Minute", { exact: true })).toHaveValue("30");
  await expect(dialog.getByLabel("Hour", { exact: true })).toHaveValue("7");
  await expect(dialog.getByLabel("Day of week", { exact: true })).toHaveValue("1-5");
  await dialog.getByLabel("Time zone").fill("Europe/Paris");

  const fires = dialog.getByRole("region", { name: "Next fire times" });
  await expect(fires.getByRole("listitem")).toHaveCount(5);
  await expect(fires).toContainText("in Europe/Paris");
  await shot(page, "schedule-dialog");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toHaveCount(0);

  const row = page.locator(`tr[data-entry="${entry}"]`);
  await expect(row).toContainText("cron 30 7 * * 1-5 (Europe/Paris)");
  await expect(row.locator(".pg-next-fire")).toContainText(/in \d/);
  await expect(page.getByRole("status").filter({ hasText: "fires next at" })).toBeVisible();
  const stored = (await adminApi(page, "GET", "/schedule")) as { entry_id: string; next_fire: number | null }[];
  expect(stored.find((s) => s.entry_id === entry)?.next_fire).toBeGreaterThan(Date.now() / 1000);

  await row.getByRole("button", { name: `History of ${entry}` }).click();
  await expect(page.getByText("No slot of this schedule has come yet.")).toBeVisible();
  await shot(page, "schedules");

  await row.getByLabel(`Enabled ${entry}`).uncheck();
  await expect(row.locator(".pg-next-fire")).toContainText("disabled");
  await row.getByRole("button", { name: `Delete ${entry}` }).click();
  await page.getByRole("dialog", { name: "Delete schedule" }).getByRole("button", { name: "Delete" }).click();
  await expect(row).toHaveCount(0);
});

test("a frequency schedule previews its fire times; a wrong crontab shows the node's error", async ({ page, allowConsole }) => {
  allowConsole(/status of 400/);
  await page.goto("/");
  const app = await makeApp(page);
  await signIn(page);
  await page.goto("/schedules");
  await page.getByRole("button", { name: "New schedule" }).click();
  const dialog = page.getByRole("dialog", { name: "New schedule" });
  await dialog.getByLabel("Application", { exact: true }).fill(app);
  await dialog.getByLabel("Run every").fill("15");
  await dialog.getByLabel("Unit").selectOption("minutes");
  const fires = dialog.getByRole("region", { name: "Next fire times" });
  await expect(fires.getByRole("listitem")).toHaveCount(5);

  await dialog.getByRole("radio", { name: "Crontab" }).check();
  await dialog.getByLabel("Minute", { exact: true }).fill("75");
  await expect(fires.getByRole("alert")).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
});
