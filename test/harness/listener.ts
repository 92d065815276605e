// A TCP listener on loopback that accepts every connection, answers nothing and records every byte
// it receives: the "server" an ManagementAgent's author points `url` at to collect what a connector
// sends (a simple LDAP bind carries its password as plain bytes).
import { createServer, type Socket } from "node:net";

export interface RecordingListener {
  /** ldap://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Everything received so far, all connections concatenated. */
  received(): Buffer;
  /** Whether `text` (UTF-8) appears in what was received. */
  saw(text: string): boolean;
  close(): Promise<void>;
}

export async function recordingListener(): Promise<RecordingListener> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `ldap://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    received: () => Buffer.concat(chunks),
    saw: (text) => Buffer.concat(chunks).includes(Buffer.from(text, "utf8")),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
