// The import graph of src/, by folder: `npm run graph`. Prints each folder's layer (the
// longest chain of imports below it) and what it imports, any cycle (between folders or
// between files), and the files over 250 lines. Exits 1 on a cycle; `--quiet` prints only
// the cycles (what `npm run lint` runs). `--dot` prints the
// folder graph in Graphviz's language instead. Relative imports only: packages are leaves.
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(process.argv.find((a) => !a.startsWith("-") && a !== process.argv[0] && a !== process.argv[1]) ?? "src");
const files = [];
(function walk(dir) {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts")) files.push(p);
  }
})(root);

/** The folder a file is in, below src/; files directly in src/ are the entry points. */
const folderOf = (file) => {
  const parts = path.relative(root, file).split(path.sep);
  return parts.length > 1 ? parts[0] : "(entry)";
};

const fileEdges = new Map();
const folderEdges = new Map();
for (const file of files) {
  const targets = new Set();
  for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)) {
    const base = path.resolve(path.dirname(file), spec);
    const target = [`${base}.ts`, path.join(base, "index.ts")].find((t) => fs.existsSync(t));
    // A JSON import (data) is a leaf; anything else unresolved is a mistake of this script's.
    if (!target) {
      if (!spec.endsWith(".json")) throw new Error(`${path.relative(process.cwd(), file)}: cannot resolve "${spec}"`);
      continue;
    }
    targets.add(target);
    const [a, b] = [folderOf(file), folderOf(target)];
    if (a !== b) folderEdges.set(a, (folderEdges.get(a) ?? new Set()).add(b));
  }
  fileEdges.set(file, targets);
}

/** Every cycle a depth-first walk meets, as the path round it. */
function cycles(graph) {
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (node) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const folders = [...new Set([...folderEdges.keys(), ...files.map(folderOf)])];
const layer = new Map();
const layerOf = (folder, seen = new Set()) => {
  if (layer.has(folder)) return layer.get(folder);
  if (seen.has(folder)) return 0; // a cycle: reported below
  seen.add(folder);
  const below = [...(folderEdges.get(folder) ?? [])].map((f) => layerOf(f, seen) + 1);
  const value = Math.max(0, ...below);
  layer.set(folder, value);
  return value;
};
for (const f of folders) layerOf(f);

const folderCycles = cycles(folderEdges);
const fileCycles = cycles(fileEdges).map((c) => c.map((f) => path.relative(process.cwd(), f)));

if (process.argv.includes("--dot")) {
  console.log("digraph imports {\n  rankdir=BT;");
  for (const [a, bs] of folderEdges) for (const b of bs) console.log(`  "${a}" -> "${b}";`);
  console.log("}");
} else if (process.argv.includes("--quiet")) {
  for (const c of [...folderCycles, ...fileCycles]) console.error(`import cycle: ${c.join(" → ")}`);
} else {
  for (const folder of folders.sort((a, b) => layer.get(b) - layer.get(a) || a.localeCompare(b))) {
    const below = [...(folderEdges.get(folder) ?? [])].sort();
    console.log(`${String(layer.get(folder)).padStart(2)}  ${folder.padEnd(13)} → ${below.join(", ") || "(packages only)"}`);
  }
  console.log(`\nfolder cycles: ${folderCycles.length ? folderCycles.map((c) => c.join(" → ")).join("; ") : "none"}`);
  console.log(`file cycles: ${fileCycles.length ? fileCycles.map((c) => c.join(" → ")).join("; ") : "none"}`);
  const long = files.map((f) => [fs.readFileSync(f, "utf8").split("\n").length - 1, path.relative(process.cwd(), f)]).filter(([n]) => n > 250);
  console.log(`files over 250 lines: ${long.length ? long.map(([n, f]) => `${f} (${n})`).join(", ") : "none"}`);
}
process.exitCode = folderCycles.length || fileCycles.length ? 1 : 0;
