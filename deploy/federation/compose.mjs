// Composes the marketplace subgraphs into a Federation v2 supergraph with Apollo's own
// composition library (the one Rover and GraphOS use), so "it composes" means what a real
// router would accept.
//
// Input (stdin): JSON {"subgraphs": [{"name": "...", "url": "...", "sdl": "..."}, ...]},
// as printed by subgraph_sdls.py. Output: the supergraph SDL on stdout, or to --out FILE.
// Exit status 1 with every composition error on stderr when the subgraphs do not compose.
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@apollo/composition";

function option(name) {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const input = JSON.parse(readFileSync(0, "utf8"));
const services = input.subgraphs.map(({ name, url, sdl }) => ({
  name,
  url,
  typeDefs: parse(sdl),
}));

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) {
    const code = error.extensions?.code ?? "COMPOSITION_ERROR";
    console.error(`${code}: ${error.message}`);
  }
  process.exit(1);
}

for (const hint of result.hints ?? []) {
  if (process.argv.includes("--hints")) console.error(`hint ${hint.definition.code}: ${hint.message}`);
}

const supergraph = result.supergraphSdl.endsWith("\n")
  ? result.supergraphSdl
  : `${result.supergraphSdl}\n`;
const out = option("--out");
if (out) writeFileSync(out, supergraph);
else process.stdout.write(supergraph);
