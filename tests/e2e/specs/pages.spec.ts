// The Configurations, Steps, Reports and Cluster pages against a real node:
// each lists, opens one item and loads without console errors (a
// screenshot of each); an encrypted configuration value is never shown,
// only replaced; a step is uploaded from a .py file (a Python error is
// shown); a report renders as tables; a viewer sees no change buttons.
import { test, expect, signIn, shot, adminApi, unique } from "../fixtures";

// A step that builds a report table and a sub-table (written for this test).
const REPORT_STEP = `from ipaascore.BaseStep import BaseStep
from ipaascommon.report_manager import StandardReport


class E2eInventory(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="hosts", required=True)

    def execute(self):
        hosts = self.get_parameter("hosts")
        table = StandardReport("Inventory", self.application_name, "e2e", True)
        for host in hosts:
            table.add_row("Host", host)
            table.add_row("State", "seen")
        table.add_column("Total", data_key="Summary", column_data=[len(hosts)])
        self.save_data_for_next_step(len(hosts))
`;

test("configurations: list, open one; an encrypted value shows a padlock, is never revealed, and can be replaced", async ({
  page,
}) => {
  const name = unique("e2e_cfg");
  await signIn(page);
  await adminApi(page, "POST", "/configurations", {
    name,
    friendly_name: "E2E settings",
    description: "made by pages.spec.ts",
    configuration_data: [
      { name: "host", value: "10.9.8.7", encrypted: false },
      { name: "api_password", value: "plain-secret-42", encrypted: true },
    ],
  });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Configurations" }).click();
  await page.getByLabel("Search configurations").fill(name);
  await expect(page.getByRole("link", { name, exact: true })).toBeVisible();
  await shot(page, "configurations");

  await page.getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name: "E2E settings" })).toBeVisible();
  const vars = page.getByRole("table", { name: "Variables" });
  await expect(vars.getByRole("row", { name: /host/ })).toContainText("10.9.8.7");
  await expect(vars.getByRole("row", { name: /api_password/ })).toContainText("encrypted");
  // Neither the plaintext nor the ciphertext the API gives administrators is in the page.
  const html = await page.content();
  expect(html).not.toContain("plain-secret-42");
  expect(html).not.toContain("enc:v1");
  await shot(page, "configuration");

  // Editing keeps the sealed value unless it is replaced; the old one is never put in a field.
  await page.getByRole("button", { name: "Edit" }).click();
  await expect(page.getByLabel("Value of host")).toHaveValue("10.9.8.7");
  await page.getByRole("button", { name: "Replace value of api_password" }).click();
  const fresh = page.getByLabel("New value of api_password");
  await expect(fresh).toHaveValue("");
  await expect(fresh).toHaveAttribute("type", "password");
  await fresh.fill("another-secret-43");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(vars.getByRole("row", { name: /api_password/ })).toContainText("encrypted");
  expect(await page.content()).not.toContain("another-secret-43");
  // The node kept it encrypted (an administrator gets the ciphertext over the API).
  const stored = await adminApi(page, "GET", `/configurations/${name}`);
  const secret = stored.configuration_data.find((v: { name: string }) => v.name === "api_password");
  expect(secret.encrypted).toBe(true);
  expect(String(secret.value)).not.toContain("another-secret-43");
});

test("configurations: upload pasted JSON, see the API's validation problems, then delete", async ({ page, allowConsole }) => {
  allowConsole(/status of 400/);
  const name = unique("e2e_upload_cfg");
  await signIn(page);
  await page.goto("/configurations");
  await page.getByRole("button", { name: "Upload configuration" }).click();
  const dialog = page.getByRole("dialog", { name: "Upload configuration" });
  await dialog.getByLabel("Configuration JSON").fill('{"configuration_data": "not a list"}');
  await dialog.getByRole("button", { name: "Upload" }).click();
  await expect(dialog.getByRole("alert")).toBeVisible();
  await dialog
    .getByLabel("Configuration JSON")
    .fill(JSON.stringify({ name, configuration_data: [{ name: "region", value: "eu-west", encrypted: false }] }));
  await dialog.getByRole("button", { name: "Upload" }).click();
  await expect(page.getByRole("table", { name: "Variables" })).toContainText("eu-west");
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog", { name: "Delete configuration" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("heading", { name: "Configurations" })).toBeVisible();
  await page.getByLabel("Search configurations").fill(name);
  await expect(page.getByRole("link", { name, exact: true })).toHaveCount(0);
});

test("steps: search, open a Base Steps step with its parameters and highlighted source", async ({ page }) => {
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Steps" }).click();
  await expect(page.getByRole("table", { name: "Steps" })).toBeVisible();
  await shot(page, "steps");
  await page.getByLabel("Search steps").fill("QueryREST");
  await page.getByRole("link", { name: "QueryREST", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Query REST" })).toBeVisible();
  const params = page.getByRole("table", { name: "Parameters" });
  await expect(params.getByRole("row", { name: /^prefix_url / })).toContainText("required");
  const source = page.getByRole("region", { name: "Source of QueryREST" });
  await expect(source).toContainText("class QueryREST");
  await expect(source.locator(".hljs-keyword").first()).toBeVisible();
  // The Base Steps pack owns it: changed through the pack, never here.
  await expect(page.getByRole("link", { name: "base_steps_syncpack" })).toBeVisible();
  await expect(page.getByRole("button", { name: /Edit code|Delete/ })).toHaveCount(0);
  await shot(page, "step");
});

test("steps: upload a .py file; a Python error is shown, a good file opens the new step", async ({ page, allowConsole }) => {
  allowConsole(/status of 400/);
  const cls = unique("E2eStep").replace(/[^A-Za-z0-9_]/g, "");
  await signIn(page);
  await page.goto("/steps");
  await page.getByRole("button", { name: "Upload step" }).click();
  const dialog = page.getByRole("dialog", { name: "Upload step" });
  await dialog.getByLabel("Python file").setInputFiles({
    name: `${cls}.py`,
    mimeType: "text/x-python",
    buffer: Buffer.from(`class ${cls}(:\n    pass\n`),
  });
  await expect(dialog.getByLabel("Class name")).toHaveValue(cls);
  await dialog.getByRole("button", { name: "Upload" }).click();
  await expect(dialog.getByRole("alert")).toBeVisible();

  const good = `from ipaascore.BaseStep import BaseStep


class ${cls}(BaseStep):
    def __init__(self):
        self.friendly_name = "E2E uploaded step"
        self.description = "Says hello"
        self.version = "1.2.3"
        self.new_step_parameter(name="who", description="whom to greet", sample_value="world", required=True)

    def execute(self):
        self.save_data_for_next_step("hello " + self.get_parameter("who"))
`;
  await dialog.getByLabel("Python file").setInputFiles({ name: `${cls}.py`, mimeType: "text/x-python", buffer: Buffer.from(good) });
  await dialog.getByRole("button", { name: "Upload" }).click();
  await expect(page.getByRole("heading", { name: "E2E uploaded step" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Parameters" })).toContainText("whom to greet");
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog", { name: "Delete step" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("heading", { name: "Steps" })).toBeVisible();
});

test("reports: a run's report is listed by application and shown as tables", async ({ page }) => {
  const app = unique("e2e_report_app");
  await signIn(page);
  await adminApi(page, "POST", "/steps", { name: "E2eInventory", data: REPORT_STEP });
  await adminApi(page, "POST", "/applications", {
    name: app,
    friendly_name: "E2E report app",
    generate_report: true,
    steps: [{ name: "Inventory", file: "E2eInventory", hosts: ["alpha", "beta", "gamma"] }],
  });
  const run = await adminApi(page, "POST", "/applications/run?wait=60", { name: app });
  expect(run.state).toBe("SUCCESS");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
  await page.getByLabel("Application").fill(app);
  const link = page.getByRole("link", { name: new RegExp(`^Report of ${app}`) });
  await expect(link).toBeVisible();
  await expect(page.getByRole("table", { name: "Reports" }).getByRole("row")).toHaveCount(2);
  await shot(page, "reports");
  await link.click();
  await expect(page.getByRole("heading", { name: `Report of ${app}` })).toBeVisible();
  const table = page.getByRole("table", { name: "Inventory" });
  await expect(table.getByRole("row")).toHaveCount(4);
  await expect(table).toContainText("beta");
  await expect(page.getByRole("table", { name: "Summary" })).toContainText("3");
  await shot(page, "report");
});

test("cluster: the node, its health, leadership, queues and workers", async ({ page }) => {
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Cluster" }).click();
  const nodes = page.getByRole("table", { name: "Nodes" });
  await expect(nodes.getByRole("row").nth(1)).toContainText("leader");
  await expect(nodes.getByRole("row").nth(1)).toContainText("this node");
  await expect(nodes).toContainText("default");
  await expect(page.getByRole("group", { name: "Raft state" })).toContainText("Term");
  await shot(page, "cluster");
});

test("a viewer sees these pages without any button that changes something", async ({ page }) => {
  const user = unique("e2e_viewer");
  const password = "viewer-password-1";
  const cfg = unique("e2e_viewer_cfg");
  await page.goto("/");
  await adminApi(page, "POST", "/users", { name: user, password, role: "viewer" });
  await adminApi(page, "POST", "/configurations", {
    name: cfg,
    configuration_data: [
      { name: "host", value: "10.1.1.1", encrypted: false },
      { name: "token", value: "viewer-must-not-see", encrypted: true },
    ],
  });
  await signIn(page, user, password);
  for (const [path, heading] of [
    ["/configurations", "Configurations"],
    ["/steps", "Steps"],
    ["/syncpacks", "SyncPacks"],
    ["/schedules", "Schedules"],
    ["/reports", "Reports"],
    ["/cluster", "Cluster"],
  ]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: heading, exact: true })).toBeVisible();
    await expect(page.locator("main").getByRole("button", { name: /Delete|Upload|New|Edit|Activate|Install/ })).toHaveCount(0);
  }
  await page.goto(`/configurations?name=${cfg}`);
  const vars = page.getByRole("table", { name: "Variables" });
  await expect(vars.getByRole("row", { name: /token/ })).toContainText("encrypted");
  await expect(vars.getByRole("row", { name: /host/ })).toContainText("hidden for your role");
  expect(await page.content()).not.toContain("viewer-must-not-see");
  await expect(page.getByRole("button", { name: /Edit|Delete/ })).toHaveCount(0);
});
