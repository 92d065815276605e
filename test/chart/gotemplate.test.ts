// The Go-template subset the chart tests render with: whitespace trimming, control structures,
// pipelines and the Helm functions the chart uses; anything outside the subset is an error, so a
// template cannot silently render wrong.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTemplate, renderTemplate, type Defines } from "./gotemplate.ts";

function render(src: string, root: unknown = {}): string {
  const defines: Defines = new Map();
  return renderTemplate(parseTemplate(src, "t", defines), root, defines, "t");
}

describe("go template subset", () => {
  it("trims whitespace around {{- and -}} and drops comments", () => {
    assert.equal(render("a  \n  {{- .x -}}  \n b{{/* note */}}", { x: 1 }), "a1b");
  });

  it("evaluates if / else if / else, with and range", () => {
    const t = '{{ if .a }}A{{ else if eq .b "x" }}B{{ else }}C{{ end }}';
    assert.equal(render(t, { a: true }), "A");
    assert.equal(render(t, { b: "x" }), "B");
    assert.equal(render(t, { a: [], b: "y" }), "C", "an empty list is false");
    assert.equal(render("{{ with .m }}{{ .k }}{{ else }}none{{ end }}", { m: { k: "v" } }), "v");
    assert.equal(render("{{ with .m }}{{ .k }}{{ else }}none{{ end }}", { m: {} }), "none");
    assert.equal(render("{{ range .l }}[{{ . }}]{{ end }}", { l: [1, 2] }), "[1][2]");
    assert.equal(render("{{ with .m }}{{ $.top }}{{ end }}", { m: { k: 1 }, top: "root" }), "root");
  });

  it("runs pipelines through the Helm functions", () => {
    assert.equal(render('{{ .v | default "d" | quote }}', { v: "" }), '"d"');
    assert.equal(render("x:{{ toYaml .m | nindent 2 }}", { m: { a: 1, b: [true] } }), "x:\n  a: 1\n  b:\n    - true");
    assert.equal(render('{{ printf "%s-%s" .a .b | trunc 5 | trimSuffix "-" }}', { a: "abcd", b: "ef" }), "abcd");
    assert.equal(render('{{ define "n" }}<{{ .x }}>{{ end }}{{ include "n" .in | indent 2 }}', { in: { x: 7 } }), "  <7>");
    assert.equal(render("{{ not (and .a .b) }}", { a: true, b: false }), "true");
  });

  it("refuses what it does not implement", () => {
    assert.throws(() => render("{{ lookup \"v1\" \"Secret\" \"ns\" \"x\" }}"), /unsupported/);
    assert.throws(() => render("{{ if .a }}x"), /missing \{\{ end \}\}/);
    assert.throws(() => render('{{ include "nope" . }}'), /no template named "nope"/);
    assert.throws(() => render('{{ required "set it" .x }}'), /set it/);
  });
});
