#!/usr/bin/env node
// idsync runs from its TypeScript sources through tsx: no build step between git and the cluster.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
