// The UI is built by node/build.rs into Cargo's OUT_DIR (IS_UI_OUT_DIR) and
// embedded in isnode; `npm run build` alone writes dist/. The development
// server proxies the API to a running node (IS_NODE_URL, default :8080), so
// pages can be worked on without rebuilding the node.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const node = process.env.IS_NODE_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: process.env.IS_UI_OUT_DIR ?? "dist",
    emptyOutDir: true,
    // Every asset is served by the node from memory: no source maps, and a
    // size warning only for chunks that would slow the first load.
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: { proxy: { "/api": { target: node, changeOrigin: false } } },
});
