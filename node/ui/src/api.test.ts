import { afterEach, describe, expect, it, vi } from "vitest";
import { page, withQuery } from "./api";

describe("withQuery", () => {
  it("adds the parameters in the order given", () => {
    expect(withQuery("/tasks", { app: "orders", limit: 50 })).toBe("/tasks?app=orders&limit=50");
  });

  it("skips parameters that are not set or empty", () => {
    expect(withQuery("/steps", { limit: 20, search: "", cursor: undefined, app: null })).toBe("/steps?limit=20");
  });

  it("keeps falsy values that are set", () => {
    expect(withQuery("/x", { n: 0, flag: false })).toBe("/x?n=0&flag=false");
  });

  it("answers the path alone when nothing is set", () => {
    expect(withQuery("/applications", {})).toBe("/applications");
    expect(withQuery("/applications", { search: "", cursor: undefined })).toBe("/applications");
  });

  it("encodes names and values", () => {
    expect(withQuery("/applications", { search: "a&b=c d/é?#", "odd key": "1+1" })).toBe(
      "/applications?search=a%26b%3Dc%20d%2F%C3%A9%3F%23&odd%20key=1%2B1",
    );
  });

  it("encodes a cursor again, so the server reads back exactly what it sent", () => {
    const cursor = "Greet%20app"; // as X-Next-Cursor carries it, decoded by the caller first
    const url = withQuery("/applications", { cursor: decodeURIComponent(cursor) });
    expect(url).toBe("/applications?cursor=Greet%20app");
    const q = new URLSearchParams(url.split("?")[1]);
    expect(q.get("cursor")).toBe("Greet app");
  });
});

describe("page", () => {
  afterEach(() => vi.unstubAllGlobals());

  // The node sends the next cursor percent-encoded; passed back through
  // withQuery it must reach the node as the same name, not encoded twice.
  it("answers the next cursor plain, so the next request asks for the same name", async () => {
    const asked: string[] = [];
    vi.stubGlobal("sessionStorage", { getItem: () => null, setItem: () => {}, removeItem: () => {} });
    vi.stubGlobal("fetch", async (url: string) => {
      asked.push(url);
      return new Response("[]", { status: 200, headers: { "x-next-cursor": "Greet%20%26%20Shout" } });
    });
    const first = await page("/steps?limit=1");
    expect(first.next).toBe("Greet & Shout");
    await page(withQuery("/steps", { limit: 1, cursor: first.next }));
    expect(asked[1]).toBe("/api/v1/steps?limit=1&cursor=Greet%20%26%20Shout");
  });

  it("answers no cursor on the last page", async () => {
    vi.stubGlobal("sessionStorage", { getItem: () => null, setItem: () => {}, removeItem: () => {} });
    vi.stubGlobal("fetch", async () => new Response("[]", { status: 200 }));
    expect((await page("/steps")).next).toBeNull();
  });
});
