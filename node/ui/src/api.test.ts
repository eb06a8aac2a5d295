import { describe, expect, it } from "vitest";
import { withQuery } from "./api";

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
