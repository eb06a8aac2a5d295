// The application editor: building an application from two uploaded steps
// (one dragged from the registry, one added with the keyboard), drawing the
// arrow between them, filling a parameter in the step editor and saving;
// a refused save showing its problem on the step; undo/redo of a deletion.
import type { Page } from "@playwright/test";
import { test, expect, signIn, shot, unique, adminApi } from "../fixtures";

/** Uploads a step class `cls`; `params` are its declared parameters. */
async function uploadStep(page: Page, cls: string, params: string[] = []) {
  const declared = params
    .map((p) => `        self.new_step_parameter(name="${p}", description="the ${p} to use", sample_value="world", required=True)`)
    .join("\n");
  const source = [
    "from ipaascore.BaseStep import BaseStep",
    "",
    "",
    `class ${cls}(BaseStep):`,
    "    def __init__(self):",
    declared || "        pass",
    "",
    "    def execute(self):",
    `        self.save_data_for_next_step({"step": "${cls}"})`,
    "",
  ].join("\n");
  await adminApi(page, "POST", "/steps", { name: cls, data: source });
}

const node = (page: Page, name: string) => page.locator(`.react-flow__node[data-id="${name}"]`);

/** Draws an arrow from the bottom handle of `from` to the top handle of `to`. */
async function drawArrow(page: Page, from: string, to: string) {
  const a = await node(page, from).locator(".react-flow__handle.source").boundingBox();
  const b = await node(page, to).locator(".react-flow__handle.target").boundingBox();
  if (!a || !b) throw new Error("handles not visible");
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

test("builds an application from two uploaded steps and saves it", async ({ page }) => {
  const tag = unique("ed");
  const greet = `Greet_${tag}`;
  const shout = `Shout_${tag}`;
  const app = `app_${tag}`;
  await uploadStep(page, greet, ["who"]);
  await uploadStep(page, shout);

  await signIn(page);
  await page.goto("/editor");
  await expect(page.getByRole("heading", { name: "New application" })).toBeVisible();
  await page.getByLabel("Search steps").fill(tag);
  const registry = page.getByRole("complementary", { name: "Steps registry" });
  await expect(registry.locator("li")).toHaveCount(2);

  // One step by drag and drop onto the canvas, the other with its Add button.
  await registry.locator(`li[data-step="${greet}"]`).dragTo(page.locator(".react-flow__pane"), {
    targetPosition: { x: 200, y: 100 },
  });
  await expect(node(page, greet)).toBeVisible();
  await page.getByRole("button", { name: `Add ${shout}` }).focus();
  await page.keyboard.press("Enter");
  await expect(node(page, shout)).toBeVisible();

  await drawArrow(page, greet, shout);
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  // The step editor shows the declared parameter with its required mark.
  await page.getByRole("button", { name: `Edit step ${greet}` }).click();
  const editor = page.getByRole("complementary", { name: "Step editor" });
  await expect(editor.getByText("the who to use")).toBeVisible();
  await expect(editor.locator(".ed-req")).toHaveCount(1);
  await expect(editor.getByLabel("Retries at most")).toBeVisible();
  await editor.getByLabel("who").fill("world");
  await editor.getByLabel("Retries at most").fill("2");
  await shot(page, "step-editor");
  await editor.getByRole("button", { name: "Apply" }).click();
  await expect(editor).toBeHidden();

  await page.getByLabel("Name", { exact: true }).fill(app);
  await page.getByLabel("Friendly name").fill("Editor test");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/editor/${app}$`));
  await expect(page.getByRole("status")).toHaveText(/Saved|All changes saved/);
  await shot(page, "editor");

  const doc = await adminApi(page, "GET", `/applications/${app}`);
  expect(doc.friendly_name).toBe("Editor test");
  expect(doc.steps.map((s: { name: string }) => s.name).sort()).toEqual([greet, shout].sort());
  const first = doc.steps.find((s: { name: string }) => s.name === greet);
  expect(first.file).toBe(greet);
  expect(first.output_to).toEqual([shout]);
  expect(first.who).toBe("world");
  expect(first.retry_max).toBe(2);
});

test("a refused save shows the problem next to its step", async ({ page, allowConsole }) => {
  // The browser logs the 400 answer of the refused save.
  allowConsole(/400/);
  const tag = unique("edbad");
  const a = `First_${tag}`;
  const b = `Second_${tag}`;
  const app = `app_${tag}`;
  await uploadStep(page, a);
  await uploadStep(page, b);
  await adminApi(page, "POST", "/applications", {
    name: app,
    steps: [
      { name: a, file: a, output_to: [b] },
      { name: b, file: b },
    ],
  });
  await signIn(page);
  await page.goto(`/editor/${app}`);
  await expect(node(page, b)).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  // An arrow back makes a cycle, which the API refuses.
  await drawArrow(page, b, a);
  await expect(page.locator(".react-flow__edge")).toHaveCount(2);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("alert").first()).toContainText(/invalid/);
  await expect(node(page, a).locator(".ed-node-problems")).toContainText(/cycle/);
  await expect(node(page, a).locator(".ed-node")).toHaveClass(/has-problem/);
  await expect(node(page, b).locator(".ed-node-problems")).toContainText(/cycle/);
  await shot(page, "editor-problem");

  // Taking the arrow back out lets the application be saved.
  await page.getByRole("button", { name: "Undo", exact: true }).click();
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText(/Saved/);
  await expect(node(page, a).locator(".ed-node-problems")).toHaveCount(0);
});

test("undo and redo bring a deleted step back and take it away again", async ({ page }) => {
  const tag = unique("edundo");
  const a = `Keep_${tag}`;
  const b = `Drop_${tag}`;
  const app = `app_${tag}`;
  await uploadStep(page, a);
  await uploadStep(page, b);
  await adminApi(page, "POST", "/applications", {
    name: app,
    steps: [
      { name: a, file: a },
      { name: b, file: b, data_from: [a] },
    ],
  });
  await signIn(page);
  await page.goto(`/editor/${app}`);
  await expect(node(page, b)).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  // Select the step and press Delete: it goes with its arrow.
  await node(page, b).locator(".ed-node-name").click();
  await page.keyboard.press("Delete");
  await expect(node(page, b)).toHaveCount(0);
  await expect(page.locator(".react-flow__edge")).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText("Unsaved changes");

  await page.keyboard.press("Control+z");
  await expect(node(page, b)).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
  await page.getByRole("button", { name: "Redo", exact: true }).click();
  await expect(node(page, b)).toHaveCount(0);
  await page.getByRole("button", { name: "Undo", exact: true }).click();
  await expect(node(page, b)).toBeVisible();
  await expect(page.getByRole("status")).not.toHaveText("Unsaved changes");

  // data_from was read as the same arrow; saving writes it as output_to.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText(/Saved/);
  const doc = await adminApi(page, "GET", `/applications/${app}`);
  expect(doc.steps.find((s: { name: string }) => s.name === a).output_to).toEqual([b]);
});

test("an arrow can be redirected to another step and deleted", async ({ page }) => {
  const tag = unique("edarrow");
  const [a, b, c] = ["From", "OldTo", "NewTo"].map((n) => `${n}_${tag}`);
  const app = `app_${tag}`;
  for (const s of [a, b, c]) await uploadStep(page, s);
  await adminApi(page, "POST", "/applications", {
    name: app,
    steps: [
      { name: a, file: a, output_to: [b] },
      { name: b, file: b },
      { name: c, file: c, data_from: [a] },
    ],
  });
  await signIn(page);
  await page.goto(`/editor/${app}`);
  await expect(page.locator(".react-flow__edge")).toHaveCount(2);

  // Select an arrow and delete it with the Delete key.
  await page.getByLabel(`Arrow from ${a} to ${c}`).click({ force: true });
  await page.keyboard.press("Delete");
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  // Drag the head of the other arrow from OldTo onto NewTo's input.
  const head = page.locator(".react-flow__edge .react-flow__edgeupdater-target").first();
  const from = await head.boundingBox();
  const to = await node(page, c).locator(".react-flow__handle.target").boundingBox();
  if (!from || !to) throw new Error("arrow end or handle not visible");
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2 - 20, { steps: 6 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 3 });
  await page.mouse.up();
  await expect(page.getByLabel(`Arrow from ${a} to ${c}`)).toHaveCount(1);
  await expect(page.getByLabel(`Arrow from ${a} to ${b}`)).toHaveCount(0);

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText(/Saved/);
  const doc = await adminApi(page, "GET", `/applications/${app}`);
  const byName = (n: string) => doc.steps.find((s: { name: string }) => s.name === n);
  expect(byName(a).output_to).toEqual([c]);
  expect(byName(b).output_to).toBeUndefined();
  expect(byName(c).data_from).toBeUndefined();
});

test("a viewer sees a read-only message instead of the editor", async ({ page }) => {
  const viewer = unique("viewer");
  await adminApi(page, "POST", "/users", { name: viewer, password: "viewer-password", role: "viewer" });
  await signIn(page, viewer, "viewer-password");
  await page.goto("/editor");
  await expect(page.getByText(/can look at applications but not change them/)).toBeVisible();
  await expect(page.getByRole("button", { name: "Save", exact: true })).toHaveCount(0);
  await expect(page.getByRole("complementary", { name: "Steps registry" })).toHaveCount(0);
});
