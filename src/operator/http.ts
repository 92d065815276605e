// /metrics (Prometheus), /healthz (the process is alive and its loops are running) and /readyz
// (informers have synced and the database answers). Readiness is about this replica being able to
// work, not about being the leader: a follower is ready so a rollout can proceed.
import { createServer, type Server } from "node:http";
import type { Registry } from "./metrics.ts";

export interface Probe {
  ok: boolean;
  /** One line per check, shown in the probe's body (kubectl describe shows it on failure). */
  details: string[];
}

export interface HttpServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  healthy: () => Probe | Promise<Probe>;
  ready: () => Probe | Promise<Probe>;
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    const probe = async (fn: () => Probe | Promise<Probe>) => {
      try {
        const p = await fn();
        send(p.ok ? 200 : 503, [p.ok ? "ok" : "not ok", ...p.details].join("\n") + "\n");
      } catch (e) {
        send(503, `not ok\n${(e as Error).message}\n`);
      }
    };
    if (path === "/metrics") return send(200, opts.registry.render(), "text/plain; version=0.0.4; charset=utf-8");
    if (path === "/healthz" || path === "/livez") return void probe(opts.healthy);
    if (path === "/readyz") return void probe(opts.ready);
    send(404, "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
