// Apollo Gateway + Apollo Server in front of the standalone marketplace subgraphs.
//
//   node gateway.mjs --port 4000 catalog=http://localhost:4001/graphql search=... usage=... governance=...
//   node gateway.mjs --port 4000 --supergraph ../supergraph.graphql
//
// With NAME=URL arguments the gateway fetches each subgraph's `_service { sdl }` and composes
// at start-up (IntrospectAndCompose); with --supergraph it serves a composed supergraph file.
// The caller's Authorization and X-Request-ID headers are forwarded to every subgraph fetch,
// as deploy/router.yaml configures for Apollo Router, plus the subgraph secret
// (MARKETPLACE_SUBGRAPH_SECRET) when one is set.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";

const FORWARDED_HEADERS = ["authorization", "x-request-id"];
// Subgraphs answer only callers that present the shared secret, when one is configured.
const SUBGRAPH_SECRET = process.env.MARKETPLACE_SUBGRAPH_SECRET;

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
}

const subgraphs = process.argv
  .slice(2)
  .filter((arg) => /^[a-z]+=https?:\/\//.test(arg))
  .map((arg) => {
    const [name, url] = arg.split(/=(.*)/s);
    return { name, url };
  });
const supergraphPath = option("--supergraph");
if (!supergraphPath && subgraphs.length === 0) {
  console.error("usage: gateway.mjs --port P (NAME=URL ... | --supergraph FILE)");
  process.exit(2);
}

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (SUBGRAPH_SECRET) request.http.headers.set("x-subgraph-secret", SUBGRAPH_SECRET);
    for (const name of FORWARDED_HEADERS) {
      const value = context.headers?.[name];
      if (value) request.http.headers.set(name, value);
    }
  }
}

const gateway = new ApolloGateway({
  ...(supergraphPath
    ? { supergraphSdl: readFileSync(supergraphPath, "utf8") }
    : { supergraphSdl: new IntrospectAndCompose({ subgraphs }) }),
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});

const server = new ApolloServer({
  gateway,
  // Same answers as the embedded gateway: no Apollo-specific error decoration.
  includeStacktraceInErrorResponses: false,
});

const port = Number(option("--port", "4000"));
const { url } = await startStandaloneServer(server, {
  listen: { port, host: option("--host", "127.0.0.1") },
  context: async ({ req }) => ({ headers: req.headers }),
});
console.log(`gateway ready at ${url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
