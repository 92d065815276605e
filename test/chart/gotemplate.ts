// A minimal Go text/template engine with the Helm functions charts/idsync uses — no helm binary
// is available here, and the chart is kept within this subset on purpose (see charts/idsync/README.md):
//   actions     {{ pipeline }}  {{- trims -}}  {{/* comments */}}
//   control     if / else if / else / end, with / else / end, range (lists) / end, define, include
//   values      .Values.a.b  .Release.Name  .Chart.AppVersion  .  $  $.Values.x  "strings"  42  true
//   functions   include toYaml nindent indent quote default required not eq ne and or printf trunc
//               trimSuffix toString empty
// Anything else is an error, so a template that strays from the subset fails the chart tests
// instead of rendering wrongly.
import yaml from "js-yaml";

type Node =
  | { t: "text"; text: string }
  | { t: "action"; pipe: string }
  | { t: "if"; branches: Array<{ pipe: string | undefined; body: Node[] }> }
  | { t: "with"; pipe: string; body: Node[]; otherwise: Node[] }
  | { t: "range"; pipe: string; body: Node[] };

export type Defines = Map<string, Node[]>;

interface Token {
  kind: "text" | "action";
  text: string;
}

function tokenize(src: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      out.push({ kind: "text", text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    const close = src.indexOf("}}", open);
    if (close < 0) throw new Error(`${file}: unclosed action`);
    let inner = src.slice(open + 2, close);
    if (inner.startsWith("-")) {
      text = text.replace(/\s+$/, "");
      inner = inner.slice(1);
    }
    let next = close + 2;
    if (inner.endsWith("-")) {
      inner = inner.slice(0, -1);
      while (next < src.length && /\s/.test(src[next])) next++;
    }
    out.push({ kind: "text", text });
    inner = inner.trim();
    if (!(inner.startsWith("/*") && inner.endsWith("*/"))) out.push({ kind: "action", text: inner });
    i = next;
  }
  return out.filter((t) => t.kind === "action" || t.text !== "");
}

/** Parses a template; `define` blocks go into `defines`. */
export function parseTemplate(src: string, file: string, defines: Defines): Node[] {
  const tokens = tokenize(src, file);
  let pos = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++];
      if (tok.kind === "text") {
        nodes.push({ t: "text", text: tok.text });
        continue;
      }
      const [word] = tok.text.split(/\s+/, 1);
      const rest = tok.text.slice(word.length).trim();
      if (terminators.includes(word) || (word === "else" && terminators.includes("else"))) {
        pos--;
        return { nodes, end: word };
      }
      if (word === "if") {
        const branches: Array<{ pipe: string | undefined; body: Node[] }> = [];
        let pipe: string | undefined = rest;
        for (;;) {
          const b = block(["else", "end"]);
          branches.push({ pipe, body: b.nodes });
          const term = tokens[pos++].text;
          if (term === "end") break;
          const elseRest = term.slice(4).trim();
          if (elseRest.startsWith("if ")) pipe = elseRest.slice(3).trim();
          else if (elseRest === "") pipe = undefined;
          else throw new Error(`${file}: unsupported '${term}'`);
        }
        nodes.push({ t: "if", branches });
      } else if (word === "with") {
        const b = block(["else", "end"]);
        let otherwise: Node[] = [];
        if (tokens[pos++].text !== "end") {
          otherwise = block(["end"]).nodes;
          pos++;
        }
        nodes.push({ t: "with", pipe: rest, body: b.nodes, otherwise });
      } else if (word === "range") {
        const b = block(["end"]);
        pos++;
        nodes.push({ t: "range", pipe: rest, body: b.nodes });
      } else if (word === "define") {
        const name = JSON.parse(rest) as string;
        const b = block(["end"]);
        pos++;
        defines.set(name, b.nodes);
      } else if (["end", "else", "template", "block", "break", "continue"].includes(word)) {
        throw new Error(`${file}: unexpected or unsupported '${tok.text}'`);
      } else {
        nodes.push({ t: "action", pipe: tok.text });
      }
    }
    if (terminators.length > 0) throw new Error(`${file}: missing {{ end }}`);
    return { nodes, end: "" };
  };
  return block([]).nodes;
}

// ---------------------------------------------------------------- evaluation

interface Scope {
  dot: unknown;
  root: unknown;
  defines: Defines;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v as object).length > 0;
  return true;
}

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function toYaml(v: unknown): string {
  if (v === undefined || v === null) return "null";
  return yaml.dump(v, { lineWidth: -1, noRefs: true, sortKeys: false }).replace(/\n$/, "");
}

const indentLines = (n: number, s: string) =>
  s
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");

/** Splits on a separator outside quotes and parentheses. */
function splitTop(text: string, sep: "|" | " "): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      cur += c;
      if (c === "\\") cur += text[++i];
      else if (c === '"') quote = false;
      continue;
    }
    if (c === '"') quote = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    if (depth === 0 && (sep === "|" ? c === "|" : /\s/.test(c))) {
      if (cur.trim() !== "") parts.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== "") parts.push(cur.trim());
  return parts;
}

function field(base: unknown, path: string): unknown {
  let v = base;
  for (const part of path.split(".").filter(Boolean)) {
    if (v === undefined || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function operand(text: string, s: Scope): unknown {
  if (text.startsWith("(") && text.endsWith(")")) return pipeline(text.slice(1, -1), s);
  if (text.startsWith('"')) return JSON.parse(text);
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  if (text === "nil") return undefined;
  if (text === ".") return s.dot;
  if (text === "$") return s.root;
  if (text.startsWith("$.")) return field(s.root, text.slice(2));
  if (text.startsWith(".")) return field(s.dot, text.slice(1));
  throw new Error(`unsupported operand '${text}'`);
}

type Fn = (s: Scope, args: unknown[]) => unknown;

const FUNCTIONS: Record<string, Fn> = {
  include: (s, [name, dot]) => {
    const body = s.defines.get(String(name));
    if (!body) throw new Error(`include: no template named "${String(name)}"`);
    return renderNodes(body, { ...s, dot });
  },
  toYaml: (_, [v]) => toYaml(v),
  nindent: (_, [n, v]) => "\n" + indentLines(Number(n), str(v)),
  indent: (_, [n, v]) => indentLines(Number(n), str(v)),
  quote: (_, args) => args.map((a) => JSON.stringify(str(a))).join(" "),
  default: (_, [d, v]) => (truthy(v) ? v : d),
  required: (_, [msg, v]) => {
    if (!truthy(v)) throw new Error(String(msg));
    return v;
  },
  not: (_, [v]) => !truthy(v),
  eq: (_, [a, ...bs]) => bs.some((b) => a === b),
  ne: (_, [a, b]) => a !== b,
  and: (_, args) => args.reduce((acc, a) => (truthy(acc) ? a : acc), true as unknown),
  or: (_, args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  empty: (_, [v]) => !truthy(v),
  toString: (_s: Scope, [v]: unknown[]) => str(v),
  trunc: (_, [n, v]) => str(v).slice(0, Number(n)),
  trimSuffix: (_, [suffix, v]) => (str(v).endsWith(String(suffix)) ? str(v).slice(0, -String(suffix).length) : str(v)),
  printf: (_, [format, ...args]) => {
    let i = 0;
    return String(format).replace(/%[sdv]/g, () => str(args[i++]));
  },
};

function pipeline(text: string, s: Scope): unknown {
  let value: unknown;
  let first = true;
  for (const command of splitTop(text, "|")) {
    const words = splitTop(command, " ");
    const fn = FUNCTIONS[words[0]];
    if (fn) {
      const args = words.slice(1).map((w) => operand(w, s));
      if (!first) args.push(value);
      value = fn(s, args);
    } else {
      if (!first || words.length !== 1) throw new Error(`unsupported command '${command}'`);
      value = operand(words[0], s);
    }
    first = false;
  }
  return value;
}

function renderNodes(nodes: Node[], s: Scope): string {
  let out = "";
  for (const n of nodes) {
    switch (n.t) {
      case "text":
        out += n.text;
        break;
      case "action":
        out += str(pipeline(n.pipe, s));
        break;
      case "if": {
        const branch = n.branches.find((b) => b.pipe === undefined || truthy(pipeline(b.pipe, s)));
        if (branch) out += renderNodes(branch.body, s);
        break;
      }
      case "with": {
        const v = pipeline(n.pipe, s);
        out += truthy(v) ? renderNodes(n.body, { ...s, dot: v }) : renderNodes(n.otherwise, s);
        break;
      }
      case "range": {
        const v = pipeline(n.pipe, s);
        if (v !== undefined && v !== null && !Array.isArray(v)) throw new Error("range: only lists are supported");
        for (const item of (v as unknown[] | undefined) ?? []) out += renderNodes(n.body, { ...s, dot: item });
        break;
      }
    }
  }
  return out;
}

/** Renders parsed nodes with `root` as both `.` and `$`. */
export function renderTemplate(nodes: Node[], root: unknown, defines: Defines, file: string): string {
  try {
    return renderNodes(nodes, { dot: root, root, defines });
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}
