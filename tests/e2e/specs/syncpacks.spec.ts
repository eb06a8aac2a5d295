// The SyncPacks page against a real node: the example SyncPack's wheel
// (IS_E2E_FIXTURES/test_syncpack-0.0.1-py3-none-any.whl) is imported with
// the file picker, activated and installed, its install followed to the end;
// its page lists the content it owns. A file that is not a wheel dropped on
// the drop zone is refused in the page. The node must be able to install the
// pack offline (IS_SYNCPACK_WHEEL_DIR and IS_SYNCPACK_USE_INDEX=false).
import * as path from "node:path";
import { test, expect, signIn, shot, FIXTURES } from "../fixtures";

const WHEEL = path.join(FIXTURES, "test_syncpack-0.0.1-py3-none-any.whl");

test("imports the example SyncPack by upload, activates and installs it", async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "SyncPacks" }).click();
  await expect(page.getByRole("table", { name: "SyncPacks" })).toContainText("base_steps_syncpack");

  await page.getByLabel("SyncPack wheel").setInputFiles(WHEEL);
  await expect(page.getByRole("status").filter({ hasText: "Uploaded test_syncpack" })).toContainText("0.0.1");
  const row = page.locator('tr[data-pack="test_syncpack@0.0.1"]');
  await expect(row).toBeVisible();

  await row.getByRole("button", { name: "Activate test_syncpack 0.0.1" }).click();
  await expect(row.getByText("activated")).toBeVisible();
  await row.getByRole("button", { name: "Install test_syncpack 0.0.1" }).click();
  const monitor = page.getByRole("region", { name: "Install of test_syncpack 0.0.1" });
  await expect(monitor).toBeVisible();
  await expect(monitor.getByText("installed on every node")).toBeVisible({ timeout: 180_000 });
  await expect(monitor.getByRole("table", { name: "Install state per node" })).toContainText("installed");
  await page.getByRole("button", { name: "Close install progress" }).click();
  await expect(row.getByText("installed", { exact: true })).toBeVisible();
  await shot(page, "syncpacks");

  // The pack's own page: what it owns, linked.
  await row.getByRole("link", { name: "test_syncpack" }).click();
  await expect(page.getByRole("heading", { name: "test_syncpack" })).toBeVisible();
  await expect(page.getByRole("link", { name: "MakeGreeting" })).toBeVisible();
  await expect(page.getByRole("link", { name: "dummy_app" })).toBeVisible();
  await expect(page.getByRole("link", { name: "dummy_config" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Declared schedules" })).toContainText("every 1 hour");
  await shot(page, "syncpack");
});

test("a file that is not a wheel, dropped on the drop zone, is refused with a message", async ({ page }) => {
  await signIn(page);
  await page.goto("/syncpacks");
  const zone = page.getByTestId("syncpack-drop-zone");
  const data = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["just text"], "notes.txt", { type: "text/plain" }));
    return dt;
  });
  await zone.dispatchEvent("dragover", { dataTransfer: data });
  await zone.dispatchEvent("drop", { dataTransfer: data });
  await expect(page.getByRole("alert")).toContainText("notes.txt is not a wheel");
});
