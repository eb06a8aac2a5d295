// The application page against a real node: a run colours the flowchart
// live, a failing step shows red with its traceback in the step panel, and
// Custom Run passes an overridden application variable to the steps.
import { test, expect, signIn, shot, unique, adminApi } from "../fixtures";
import type { Page } from "@playwright/test";

/** Uploads a step class `name` whose execute() body is `body` (indented 8). */
async function step(page: Page, name: string, body: string, params: string[] = []) {
  const declare = params.map((p) => `        self.new_step_parameter(name="${p}", description="the ${p}", required=True)\n`).join("");
  const source =
    `from ipaascore.BaseStep import BaseStep\n\n\nclass ${name}(BaseStep):\n` +
    `    def __init__(self):\n        self.friendly_name = "${name}"\n${declare || "        pass\n"}\n` +
    `    def execute(self):\n${body}`;
  await adminApi(page, "POST", "/steps", { name, data: source });
}

const node = (page: Page, name: string) => page.locator(`[data-step="${name}"]`);

test("Run turns both steps green live", async ({ page }) => {
  const cls = unique("Slow");
  await step(
    page,
    cls,
    `        import time\n        self.logger.info("working on %s" % self.get_parameter("label"))\n        time.sleep(1.0)\n        self.save_data_for_next_step({"done": self.get_parameter("label")})\n`,
    ["label"],
  );
  const app = unique("two_steps");
  await adminApi(page, "POST", "/applications", {
    name: app,
    friendly_name: "Two slow steps",
    description: "Each step takes a second so that the run can be watched",
    steps: [
      { name: "fetch", file: cls, label: "fetch", output_to: ["store"] },
      { name: "store", file: cls, label: "store" },
    ],
  });
  await signIn(page);
  await page.goto(`/apps/${app}`);
  await expect(page.getByRole("heading", { name: /Two slow steps/ })).toBeVisible();
  await expect(node(page, "fetch")).toHaveAttribute("data-state", "NONE");
  await expect(page.getByText("This application has not run yet.").first()).toBeVisible();
  await shot(page, "application");

  const t0 = Date.now();
  await page.getByRole("button", { name: "Run", exact: true }).click();
  // The first step leaves its initial look (no run, or PENDING) for a live state.
  await page.waitForFunction(
    () => !!document.querySelector('[data-step][data-state="STARTED"], [data-step][data-state="SUCCESS"]'),
    null,
    { polling: "raf", timeout: 15_000 },
  );
  console.log(`run.spec: first live node update ${Date.now() - t0} ms after the Run click`);

  await expect(node(page, "fetch")).toHaveAttribute("data-state", "STARTED");
  await expect(node(page, "fetch")).toHaveClass(/st-running/);
  // The step panel opened during the run shows the record the step logged.
  await page.getByRole("button", { name: /^Step fetch/ }).click();
  await expect(page.getByRole("region", { name: "Step fetch" }).getByRole("table")).toContainText("working on fetch");
  await expect(node(page, "fetch")).toHaveAttribute("data-state", "SUCCESS");
  await expect(node(page, "store")).toHaveAttribute("data-state", "STARTED");
  await expect(node(page, "store")).toHaveAttribute("data-state", "SUCCESS");
  await expect(node(page, "fetch")).toHaveClass(/st-success/);
  await expect(node(page, "store")).toHaveClass(/st-success/);
  await expect(page.getByRole("region", { name: "Selected run" })).toContainText("SUCCESS");
  expect(page.url()).toContain("?run=isapp-");
  await shot(page, "application-run");

  // The run is in the application's run list and the step panel shows its log and result.
  await page.getByRole("button", { name: "Close step panel" }).click();
  await expect(page.getByRole("region", { name: "Runs of this application" }).getByRole("button", { name: /SUCCESS/ })).toHaveCount(1);
  await page.getByRole("button", { name: /^Step store/ }).click();
  const panel = page.getByRole("region", { name: "Step store" });
  await expect(panel.getByRole("table")).toContainText("working on store");
  await panel.getByRole("tab", { name: "Result" }).click();
  await expect(panel.getByLabel("Saved data")).toContainText('"done": "store"');
});

test("a failing step shows red with its traceback", async ({ page }) => {
  const cls = unique("Fails");
  await step(page, cls, `        self.logger.info("about to fail")\n        raise ValueError("the value is wrong")\n`);
  const ok = unique("Fine");
  await step(page, ok, `        self.save_data_for_next_step([1, 2, 3])\n`);
  const app = unique("failing");
  await adminApi(page, "POST", "/applications", {
    name: app,
    steps: [
      { name: "prepare", file: ok, output_to: ["explode"] },
      { name: "explode", file: cls },
    ],
  });
  await signIn(page);
  await page.goto(`/apps/${app}`);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(node(page, "prepare")).toHaveAttribute("data-state", "SUCCESS");
  await expect(node(page, "explode")).toHaveAttribute("data-state", "FAILURE");
  await expect(node(page, "explode")).toHaveClass(/st-failure/);

  await page.getByRole("button", { name: /^Step explode/ }).click();
  const panel = page.getByRole("region", { name: "Step explode" });
  await expect(panel.getByRole("tab", { name: "Result" })).toHaveAttribute("aria-selected", "true");
  await expect(panel.getByLabel("Traceback")).toContainText("ValueError: the value is wrong");
  await expect(panel.getByLabel("Traceback")).toContainText("Traceback (most recent call last)");
  await shot(page, "step-panel");

  await panel.getByRole("tab", { name: "Log" }).click();
  await expect(panel.getByRole("table")).toContainText("about to fail");
  await panel.getByLabel("Level").selectOption({ label: "Error and above" });
  await expect(panel.getByText("No record at this level.")).toBeVisible();
  await panel.getByRole("tab", { name: "Parameters" }).click();
  await expect(panel).toContainText("No retry");
});

test("Custom Run passes an overridden application variable", async ({ page }) => {
  const cls = unique("Hello");
  await step(
    page,
    cls,
    `        who = self.get_parameter("who")\n        self.logger.info("greeting %s" % who)\n        self.save_data_for_next_step({"greeting": "hello " + who})\n`,
    ["who"],
  );
  const app = unique("custom");
  await adminApi(page, "POST", "/applications", {
    name: app,
    friendly_name: "Custom run target",
    app_variables: [{ name: "who", value: "world", description: "whom to greet" }],
    steps: [{ name: "greet", file: cls, who: "${appvar.who}" }],
  });
  await signIn(page);
  await page.goto(`/apps/${app}`);
  await page.getByRole("button", { name: "Custom Run" }).click();
  const dialog = page.getByRole("dialog", { name: "Custom Run" });
  await expect(dialog.getByLabel("who")).toHaveValue("world");
  await dialog.getByLabel("who").fill("custom-visitor");
  await dialog.getByLabel("Log level").selectOption("10");
  await shot(page, "custom-run");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect(dialog).toHaveCount(0);

  await expect(node(page, "greet")).toHaveAttribute("data-state", "SUCCESS");
  await expect(page.getByLabel("Selected run")).toContainText("log level 10");
  await page.getByRole("button", { name: /^Step greet/ }).click();
  const panel = page.getByRole("region", { name: "Step greet" });
  await expect(panel.getByRole("table")).toContainText("greeting custom-visitor");
  await panel.getByRole("tab", { name: "Result" }).click();
  await expect(panel.getByLabel("Saved data")).toContainText("hello custom-visitor");
});

test("a child run started by a Trigger Application step shows as a link", async ({ page }) => {
  const cls = unique("Leaf");
  await step(page, cls, `        self.save_data_for_next_step("leaf done")\n`);
  const child = unique("child");
  await adminApi(page, "POST", "/applications", { name: child, steps: [{ name: "leaf", file: cls }] });
  const parent = unique("parent");
  await adminApi(page, "POST", "/applications", {
    name: parent,
    steps: [{ name: "kick", file: "TriggerApplication", application_name: child, blocking: true }],
  });
  await signIn(page);
  await page.goto(`/apps/${parent}`);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(node(page, "kick")).toHaveAttribute("data-state", "SUCCESS");
  const link = node(page, "kick").getByRole("link", { name: new RegExp(`child run: ${child}`) });
  await expect(link).toBeVisible();
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/apps/${child}\\?run=isapp-`));
  await expect(node(page, "leaf")).toHaveAttribute("data-state", "SUCCESS");
  const bar = page.getByRole("region", { name: "Selected run" });
  await expect(bar).toContainText("Started by step kick");
  await bar.getByRole("link", { name: new RegExp(parent) }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${parent}\\?run=isapp-`));
});
