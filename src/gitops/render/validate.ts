// `idsync validate` output: text (file:line:col: Kind/name path: reason), JSON, GitHub Actions
// workflow commands (annotations on the pull request's files) and JUnit XML (CI test reports: one
// test case per resource, a failure per error).
import { formatConfigError } from "../../config/index.ts";
import type { AnyResource, ConfigError } from "../../config/model.ts";

export type ValidateFormat = "text" | "json" | "github" | "junit";

export interface Validation {
  directory: string;
  resources: AnyResource[];
  errors: ConfigError[];
}

export function renderValidation(v: Validation, format: ValidateFormat): string {
  switch (format) {
    case "json":
      return JSON.stringify({ valid: v.errors.length === 0, resources: v.resources.length, errors: v.errors }, null, 2) + "\n";
    case "github":
      return github(v);
    case "junit":
      return junit(v);
    default:
      if (v.errors.length === 0) return `${v.directory}: ${v.resources.length} resource(s), valid\n`;
      return v.errors.map((e) => formatConfigError(e) + "\n").join("") + `${v.errors.length} error(s) in ${v.directory}\n`;
  }
}

// ---------------------------------------------------------------- GitHub Actions

/** Workflow command data: %, CR and LF escaped (GitHub's toCommandValue). */
function ghData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Workflow command property values additionally escape : and , */
function ghProperty(s: string): string {
  return ghData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

function github(v: Validation): string {
  if (v.errors.length === 0) return `::notice title=idsync validate::${ghData(`${v.directory}: ${v.resources.length} resource(s), valid`)}\n`;
  const lines = v.errors.map((e) => {
    const props: string[] = [];
    if (e.file) props.push(`file=${ghProperty(e.file)}`);
    if (e.line) props.push(`line=${e.line}`);
    if (e.column) props.push(`col=${e.column}`);
    props.push(`title=${ghProperty(e.kind || e.name ? `idsync: ${e.kind ?? "?"}/${e.name ?? "?"}` : "idsync validate")}`);
    return `::error ${props.join(",")}::${ghData(`${e.path ? `${e.path}: ` : ""}${e.message}`)}\n`;
  });
  return lines.join("") + `${v.errors.length} error(s) in ${v.directory}\n`;
}

// ---------------------------------------------------------------- JUnit XML

function xml(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

interface Case {
  name: string;
  classname: string;
  file?: string;
  line?: number;
  errors: ConfigError[];
}

function junit(v: Validation): string {
  // One test case per resource; errors that belong to no resource (a YAML syntax error, an empty
  // directory) get a test case of their own, named by the file.
  const cases: Case[] = v.resources.map((r) => ({
    name: `${r.kind}/${(r.metadata as { name?: string } | undefined)?.name ?? "?"}`,
    classname: r.source?.file ?? v.directory,
    file: r.source?.file,
    line: r.source?.line,
    errors: [],
  }));
  const owner = (e: ConfigError): Case | undefined => {
    const i = v.resources.findIndex((r) => r.source && e.file === r.source.file && e.document === r.source.document);
    return i >= 0 ? cases[i] : cases.find((c) => e.kind && e.name && c.name === `${e.kind}/${e.name}`);
  };
  for (const e of v.errors) {
    let c = owner(e);
    if (!c) {
      const name = e.file ?? v.directory;
      c = cases.find((x) => x.name === name && x.classname === name);
      if (!c) cases.push((c = { name, classname: name, file: e.file, line: e.line, errors: [] }));
    }
    c.errors.push(e);
  }
  const failures = cases.filter((c) => c.errors.length > 0).length;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="idsync validate" tests="${cases.length}" failures="${failures}" errors="0">`);
  out.push(`  <testsuite name="${xml(v.directory)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`);
  for (const c of cases) {
    const attrs = `classname="${xml(c.classname)}" name="${xml(c.name)}"${c.file ? ` file="${xml(c.file)}"` : ""}${c.line ? ` line="${c.line}"` : ""}`;
    if (c.errors.length === 0) {
      out.push(`    <testcase ${attrs}/>`);
      continue;
    }
    out.push(`    <testcase ${attrs}>`);
    for (const e of c.errors) {
      out.push(`      <failure type="ConfigError" message="${xml(`${e.path ? `${e.path}: ` : ""}${e.message}`)}">${xml(formatConfigError(e))}</failure>`);
    }
    out.push("    </testcase>");
  }
  out.push("  </testsuite>");
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
