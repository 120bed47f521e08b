#!/usr/bin/env node
// Copy the front-end files the web UI needs from node_modules (installed by `npm ci`
// from the pinned package.json + lockfile) into the git-ignored static folder
// src/chainstore/web/vendor_static/vendor/. No network access, no dependencies.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const out = join(root, "src", "chainstore", "web", "vendor_static", "vendor");

// [source inside node_modules, destination inside vendor/]
const FILES = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"],
  ["bootstrap-icons/font/bootstrap-icons.min.css", "bootstrap-icons/bootstrap-icons.min.css"],
  ["bootstrap-icons/font/fonts", "bootstrap-icons/fonts"],
  ["htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"],
  ["alpinejs/dist/cdn.min.js", "alpinejs/alpine.min.js"],
  ["echarts/dist/echarts.min.js", "echarts/echarts.min.js"],
  ["html5-qrcode/html5-qrcode.min.js", "html5-qrcode/html5-qrcode.min.js"],
];

if (!existsSync(modules)) {
  console.error("node_modules is missing: run `npm ci` first.");
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
let missing = 0;
for (const [src, dest] of FILES) {
  const from = join(modules, src);
  if (!existsSync(from)) {
    console.error(`missing: node_modules/${src}`);
    missing += 1;
    continue;
  }
  const to = join(out, dest);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}
if (missing) process.exit(1);
writeFileSync(join(out, ".gitignore"), "*\n");
console.log(`copied ${FILES.length} vendor entries to ${out}`);
