// Observable Framework config for the agent_segments dashboard.
// Everything is resolved locally: no CDN import, no web font, no in-browser DuckDB.
import {dirname, resolve} from "node:path";
import {fileURLToPath} from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

// The Python data loaders query the DuckDB marts; they need duckdb, so they run with
// the project's venv by default. AGENT_SEGMENTS_PYTHON overrides the interpreter.
const python = process.env.AGENT_SEGMENTS_PYTHON
  ? resolve(process.env.AGENT_SEGMENTS_PYTHON)
  : resolve(here, "..", ".venv", "bin", "python");

const output = process.env.AGENT_SEGMENTS_DASHBOARD_OUT ?? "dist";

export default {
  title: "agent_segments",
  root: "src",
  output: resolve(here, output),
  pages: [
    {name: "Segments", path: "/segments"},
    {name: "Combinations", path: "/combinations"},
    {name: "Trends", path: "/trends"},
    {name: "Inputs", path: "/inputs"}
  ],
  // The default global stylesheet is a Google web font: fetch nothing.
  globalStylesheets: [],
  // Local theme plus the Inputs stylesheet from node_modules (see src/style.css).
  style: "style.css",
  interpreters: {".py": [python]},
  // Links end in .html (and name index.html), so dist/ works from any static file server.
  preserveExtension: true,
  preserveIndex: true,
  search: false,
  toc: false,
  footer: "Built from the agent_segments marts (DuckDB, schema marts) with Observable Framework."
};
