// `npm run apiserver -- --port N`: the test Kubernetes API server on its own, serving the CRDs in
// crds/, for trying the operator or kubectl by hand:
//   kubectl --server http://127.0.0.1:N --validate=false apply -f crds/
import { Command } from "commander";
import { startApiServer } from "../test/apiserver/server.ts";

const program = new Command()
  .name("apiserver")
  .description("Run the idsync test Kubernetes API server (in memory; stops with Ctrl-C)")
  .option("--port <port>", "port on 127.0.0.1 (0 picks a free one)", "0")
  .option("--crd <files...>", "CRD YAML files to serve (default: crds/*.yaml)")
  .option("--history-limit <n>", "watch events kept for resumption", "1000")
  .option("--kubeconfig <file>", "also write a kubeconfig for this server to <file>")
  .parse();

const opts = program.opts<{ port: string; crd?: string[]; historyLimit: string; kubeconfig?: string }>();
const port = Number(opts.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: not a port number: ${opts.port}`);
  process.exit(2);
}

const server = await startApiServer({ port, crdFiles: opts.crd, historyLimit: Number(opts.historyLimit) });
if (opts.kubeconfig) server.writeKubeconfig(opts.kubeconfig);
console.log(`test API server listening on ${server.url}`);
console.log(`  kubectl --server ${server.url} --validate=false get namespaces`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.stop().then(() => process.exit(0));
  });
}
