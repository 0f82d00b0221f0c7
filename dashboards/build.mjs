// One command builds the dashboard, offline: `npm run build` (after `npm ci`).
//
// 1. Clears Framework's cache but for the bundles of node_modules packages (_node, keyed
//    by package version), so the data loaders query the warehouse again: Framework reuses
//    a loader's cached output until the loader file itself changes, whatever the data.
// 2. Seeds Framework's npm version cache with placeholders. Framework's client bundle
//    holds lazy `import("npm:…")` calls for its implicit built-ins (d3, Plot, Inputs,
//    DuckDB, sample datasets, react-dom for JSX, …), and resolving their versions asks
//    registry.npmjs.org at every build. These pages import Plot, Inputs and htl from
//    node_modules and use none of the implicit built-ins, so those imports never run;
//    with the placeholders Framework resolves them locally and the build needs no
//    network. A page that did use an implicit built-in (say `d3` without importing it)
//    fails the build loudly, as it cannot download npm:d3@0.0.0-not-bundled.
// 3. Empties the output folder when it lies outside this folder (Framework clears only an
//    output inside it), if it holds a previous build or nothing.
// 4. Runs `observable build` with telemetry off (Framework otherwise posts build events).
//
// Environment: AGENT_SEGMENTS_DB (the DuckDB warehouse, relative paths are from the
// project folder), AGENT_SEGMENTS_PYTHON (interpreter of the Python data loaders, default
// ../.venv/bin/python), AGENT_SEGMENTS_DASHBOARD_OUT (output folder, default dist).
import {spawnSync} from "node:child_process";
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync} from "node:fs";
import {dirname, join, resolve} from "node:path";
import {fileURLToPath} from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, "src", ".observablehq", "cache");
const PLACEHOLDER_VERSION = "0.0.0-not-bundled";

// Package names of every "npm:…" specifier in Framework's client code.
function clientNpmImports() {
  const client = join(here, "node_modules", "@observablehq", "framework", "dist", "client");
  const names = new Set();
  for (const entry of readdirSync(client, {recursive: true})) {
    if (!entry.endsWith(".js")) continue;
    const code = readFileSync(join(client, entry), "utf-8");
    for (const [, specifier] of code.matchAll(/["'`]npm:((?:@[\w.-]+\/)?[\w.-]+)/g)) {
      names.add(specifier);
    }
  }
  return names;
}

mkdirSync(cache, {recursive: true});
for (const entry of readdirSync(cache)) {
  if (entry !== "_node") rmSync(join(cache, entry), {recursive: true, force: true});
}
for (const name of clientNpmImports()) {
  mkdirSync(join(cache, "_npm", `${name}@${PLACEHOLDER_VERSION}`), {recursive: true});
}

const output = resolve(here, process.env.AGENT_SEGMENTS_DASHBOARD_OUT ?? "dist");
if (existsSync(output) && readdirSync(output).length > 0) {
  if (!existsSync(join(output, "_observablehq"))) {
    console.error(`${output} is not empty and holds no previous build: refusing to clear it`);
    process.exit(1);
  }
  rmSync(output, {recursive: true, force: true});
}

const observable = join(here, "node_modules", ".bin", "observable");
const result = spawnSync(observable, ["build", ...process.argv.slice(2)], {
  cwd: here,
  stdio: "inherit",
  env: {...process.env, OBSERVABLE_TELEMETRY_DISABLE: "1"}
});
if (result.error) {
  console.error(`cannot run ${observable}: ${result.error.message} (run npm ci first)`);
  process.exit(1);
}
process.exit(result.status ?? 1);
