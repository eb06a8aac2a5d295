// The Configure pane, opened from the editor's toolbar: aligning an
// application with a configuration, editing its variables, Show/Hide JSON,
// and an encrypted value that shows a padlock, can be replaced, and never
// reaches the page (neither in its HTML nor in any API answer it received).
import { test, expect, signIn, shot, unique, adminApi } from "../fixtures";

test("aligns a configuration and never reveals an encrypted value", async ({ page }) => {
  const tag = unique("cfg");
  const cfg = `config_${tag}`;
  const app = `app_${tag}`;
  const secret = "s3cret-value";
  const replacement = "n3w-s3cret-value";

  // Every JSON answer of the API the page gets, to look for the secret in.
  const bodies: Promise<string>[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/api/") && (r.headers()["content-type"] ?? "").includes("json")) {
      bodies.push(r.text().catch(() => ""));
    }
  });

  await adminApi(page, "POST", "/configurations", {
    name: cfg,
    friendly_name: "Config under test",
    configuration_data: [
      { name: "password", value: secret, encrypted: true },
      { name: "host", value: "example.org", encrypted: false },
    ],
  });
  await adminApi(page, "POST", "/applications", {
    name: app,
    app_variables: [{ name: "region", value: "eu", description: "where to look", required: true }],
    steps: [
      {
        name: "Query",
        file: "QueryREST",
        method: "GET",
        prefix_url: "https://${config.host}",
        password: "${config.password}",
      },
    ],
  });
  const before = await adminApi(page, "GET", `/configurations/${cfg}`);

  await signIn(page);
  await page.goto(`/editor/${app}`);
  await page.getByRole("button", { name: "Configure" }).click();
  const pane = page.getByRole("dialog", { name: /Configure/ });
  await expect(pane).toBeVisible();
  await expect(pane.getByLabel("Configuration", { exact: true })).toHaveValue("");

  // Choose (align) the configuration: its values show, the secret as a padlock.
  await pane.getByLabel("Configuration", { exact: true }).selectOption(cfg);
  const values = pane.getByRole("table", { name: `Values of ${cfg}` });
  await expect(values.locator('tr[data-variable="host"]')).toContainText("example.org");
  const locked = values.locator('tr[data-variable="password"] .padlock');
  await expect(locked).toBeVisible();
  await expect(locked).toHaveText("encrypted");

  // The variables are editable.
  await expect(pane.getByLabel("Value of region", { exact: true })).toHaveValue("eu");
  await pane.getByLabel("Value of region", { exact: true }).fill("us");
  await pane.getByRole("button", { name: "Add variable" }).click();
  await pane.getByLabel("Name of variable 2", { exact: true }).fill("limit");
  await pane.getByLabel("Value of limit", { exact: true }).fill("50");

  await pane.getByRole("button", { name: "Show JSON" }).click();
  await expect(pane.getByLabel("Application JSON")).toContainText(`"configuration": "${cfg}"`);
  await shot(page, "configure");
  await pane.getByRole("button", { name: "Hide JSON" }).click();
  await expect(pane.getByLabel("Application JSON")).toHaveCount(0);

  // Replace the encrypted value: stored sealed, the other values untouched.
  await pane.getByRole("button", { name: "Replace password" }).click();
  await pane.getByLabel("New value for password").fill(replacement);
  await pane.getByRole("button", { name: "Store" }).click();
  await expect(pane.getByText("The value of password was replaced.")).toBeVisible();
  await expect(locked).toBeVisible();
  const after = await adminApi(page, "GET", `/configurations/${cfg}`);
  const value = (doc: { configuration_data: { name: string; value: string }[] }, n: string) =>
    doc.configuration_data.find((v) => v.name === n)?.value;
  expect(value(after, "password")).toMatch(/^enc:/);
  expect(value(after, "password")).not.toBe(value(before, "password"));
  expect(value(after, "host")).toBe("example.org");

  await pane.getByRole("button", { name: "Save", exact: true }).click();
  await expect(pane).toBeHidden();
  const doc = await adminApi(page, "GET", `/applications/${app}`);
  expect(doc.configuration).toBe(cfg);
  expect(doc.app_variables).toEqual([
    { name: "region", value: "us", description: "where to look", required: true },
    { name: "limit", value: "50" },
  ]);
  expect(doc.steps[0].password).toBe("${config.password}");

  // Opened again, the pane shows the stored choice.
  await page.getByRole("button", { name: "Configure" }).click();
  await expect(pane.getByLabel("Configuration", { exact: true })).toHaveValue(cfg);
  await expect(pane.locator(".padlock")).toBeVisible();

  const html = await page.content();
  expect(html).not.toContain(secret);
  expect(html).not.toContain(replacement);
  for (const body of await Promise.all(bodies)) {
    expect(body).not.toContain(secret);
    expect(body).not.toContain(replacement);
  }
  expect(bodies.length).toBeGreaterThan(3);
});

test("a viewer sees the configuration names but no values and cannot save", async ({ page }) => {
  const tag = unique("cfgview");
  const cfg = `config_${tag}`;
  const app = `app_${tag}`;
  const viewer = unique("viewer");
  await adminApi(page, "POST", "/users", { name: viewer, password: "viewer-password", role: "viewer" });
  await adminApi(page, "POST", "/configurations", {
    name: cfg,
    configuration_data: [
      { name: "token", value: "t0ken-value", encrypted: true },
      { name: "host", value: "example.org", encrypted: false },
    ],
  });
  await adminApi(page, "POST", "/applications", { name: app, configuration: cfg, steps: [{ name: "Only", file: "QueryREST" }] });
  const pane = page.getByRole("dialog", { name: /Configure/ });

  // The editor is not for viewers; the application page opens the pane
  // for every role, read-only for those who may not write.
  await signIn(page, viewer, "viewer-password");
  await page.goto(`/apps/${app}`);
  const configure = page.getByRole("button", { name: "Configure" });
  await expect(configure).toBeVisible();
  await configure.click();
  await expect(pane).toBeVisible();
  await expect(pane.getByLabel("Configuration", { exact: true })).toBeDisabled();
  await expect(pane.locator('tr[data-variable="token"] .padlock')).toBeVisible();
  await expect(pane.locator('tr[data-variable="host"]')).toContainText("hidden");
  await expect(pane.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await expect(pane.getByRole("button", { name: /Replace/ })).toHaveCount(0);
  expect(await page.content()).not.toContain("t0ken-value");
});
