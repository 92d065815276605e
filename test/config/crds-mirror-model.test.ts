// src/config/model.ts mirrors the CRDs: every field of every spec type exists in the schema (and
// the other way round), the same fields are required, and the string unions match the enums.
// Read from the TypeScript source with the compiler API so a field added on one side only fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { crdFor, type JsonSchema } from "../../src/config/schema.ts";

const MODEL = fileURLToPath(new URL("../../src/config/model.ts", import.meta.url));
const source = ts.createSourceFile(MODEL, readFileSync(MODEL, "utf8"), ts.ScriptTarget.ES2022, true);

const declarations = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
source.forEachChild((n) => {
  if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) declarations.set(n.name.text, n);
});

function membersOf(typeNode: ts.Node): Map<string, ts.PropertySignature> {
  let members: ts.NodeArray<ts.TypeElement>;
  if (ts.isInterfaceDeclaration(typeNode)) members = typeNode.members;
  else if (ts.isTypeLiteralNode(typeNode)) members = typeNode.members;
  else if (ts.isTypeReferenceNode(typeNode)) return membersOf(declarations.get(typeNode.typeName.getText())!);
  else if (ts.isArrayTypeNode(typeNode)) return membersOf(typeNode.elementType);
  else throw new Error(`not an object type: ${typeNode.getText()}`);
  return new Map(members.filter(ts.isPropertySignature).map((m) => [m.name.getText(), m]));
}

/** The string literals of a union type, following aliases. */
function literalsOf(typeNode: ts.TypeNode): string[] {
  if (ts.isUnionTypeNode(typeNode)) return typeNode.types.flatMap(literalsOf);
  if (ts.isLiteralTypeNode(typeNode) && ts.isStringLiteral(typeNode.literal)) return [typeNode.literal.text];
  if (ts.isTypeReferenceNode(typeNode)) {
    const alias = declarations.get(typeNode.typeName.getText());
    if (alias && ts.isTypeAliasDeclaration(alias)) return literalsOf(alias.type);
  }
  return [];
}

function specSchema(kind: string): JsonSchema {
  return ((crdFor(kind)!.spec.versions[0].schema.openAPIV3Schema.properties as Record<string, JsonSchema>).spec);
}

const compared: string[] = [];

function compare(where: string, typeNode: ts.Node, schema: JsonSchema): void {
  compared.push(where);
  const node = schema.type === "array" ? (schema.items as JsonSchema) : schema;
  const members = membersOf(typeNode);
  const properties = (node.properties as Record<string, JsonSchema>) ?? {};
  assert.deepEqual(Object.keys(properties).sort(), [...members.keys()].sort(), `${where}: fields differ between model.ts and the CRD`);
  const required = [...members].filter(([, m]) => !m.questionToken).map(([k]) => k).sort();
  assert.deepEqual(((node.required as string[]) ?? []).slice().sort(), required, `${where}: required fields differ`);
  for (const [name, member] of members) {
    const prop = properties[name];
    const type = member.type!;
    const literals = literalsOf(type);
    if (literals.length > 1) assert.deepEqual((prop.enum as string[]).slice().sort(), literals.sort(), `${where}.${name}: enum differs`);
    const element = ts.isArrayTypeNode(type) ? type.elementType : type;
    const isObject = ts.isTypeLiteralNode(element) || (ts.isTypeReferenceNode(element) && ts.isInterfaceDeclaration(declarations.get(element.typeName.getText()) ?? source));
    if (isObject) compare(`${where}.${name}`, element, prop);
  }
}

test("model.ts and the CRD schemas declare the same fields, required fields and enums", () => {
  compare("ManagementAgentSpec", declarations.get("ManagementAgentSpec")!, specSchema("ManagementAgent"));
  compare("SyncRuleSpec", declarations.get("SyncRuleSpec")!, specSchema("SyncRule"));
  compare("RetentionPolicySpec", declarations.get("RetentionPolicySpec")!, specSchema("RetentionPolicy"));
  // The walk reached the nested types, inline ones included.
  for (const nested of [
    "ManagementAgentSpec.connector.ldap.passwordSecretRef",
    "ManagementAgentSpec.connector.ldap.tls",
    "ManagementAgentSpec.objectTypes.attributes",
    "ManagementAgentSpec.schedule",
    "SyncRuleSpec.join",
    "SyncRuleSpec.deprovisionFlows",
    "RetentionPolicySpec.runHistory",
    "RetentionPolicySpec.deleteWhen",
  ]) {
    assert.ok(compared.includes(nested), `${nested} was not compared`);
  }
});
