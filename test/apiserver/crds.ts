// CustomResourceDefinitions: the apiextensions.k8s.io/v1 resource itself, and turning a CRD into
// the resource types it serves. A CRD is "established" as soon as it is written (the real server
// takes a moment; clients that wait for the Established condition see it at once).
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import type { StatusCause } from "./errors.ts";
import { resourceType, type KObject, type ResourceType } from "./resources.ts";
import { compileSchema, type StructuralSchema } from "./schema.ts";
import { DEFAULT_COLUMNS, type PrinterColumn } from "./table.ts";

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: StructuralSchema };
  subresources?: { status?: object };
  selectableFields?: Array<{ jsonPath: string }>;
  additionalPrinterColumns?: PrinterColumn[];
}

interface CrdSpec {
  group: string;
  scope: "Namespaced" | "Cluster";
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

/** Reads CustomResourceDefinition documents from YAML files (other kinds in the files are ignored). */
export function loadCrdFiles(files: string[]): KObject[] {
  const crds: KObject[] = [];
  for (const file of files) {
    let docs: unknown[];
    try {
      docs = yaml.loadAll(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${file}: not valid YAML: ${(e as Error).message}`);
    }
    for (const doc of docs) {
      if (doc && typeof doc === "object" && (doc as KObject).kind === "CustomResourceDefinition") crds.push(doc as KObject);
    }
  }
  return crds;
}

/** The resource types a CRD serves, one per served version; throws if its schema does not compile. */
export function customResourceTypes(crd: KObject): ResourceType[] {
  const spec = crd.spec as CrdSpec;
  const names = spec.names;
  return spec.versions
    .filter((v) => v.served !== false)
    .map((v) =>
      resourceType({
        group: spec.group,
        version: v.name,
        plural: names.plural,
        singular: names.singular ?? names.kind.toLowerCase(),
        kind: names.kind,
        listKind: names.listKind ?? `${names.kind}List`,
        namespaced: spec.scope !== "Cluster",
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        custom: true,
        hasGeneration: true,
        statusSubresource: !!v.subresources?.status,
        allowUnconditionalUpdate: false,
        fieldSelectors: (v.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, "")),
        printerColumns: v.additionalPrinterColumns ?? DEFAULT_COLUMNS,
        schema: compileSchema(v.schema?.openAPIV3Schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true }),
        // Versions share storage; an object read through a version carries that version's apiVersion.
        toView: (stored) => ({ ...stored, apiVersion: `${spec.group}/${v.name}` }),
      }),
    );
}

function validateCrd(crd: KObject): StatusCause[] {
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  const causes: StatusCause[] = [];
  const required = (field: string) => causes.push({ reason: "FieldValueRequired", field, message: "Required value" });
  if (!spec?.group) required("spec.group");
  if (!spec?.names?.plural) required("spec.names.plural");
  if (!spec?.names?.kind) required("spec.names.kind");
  if (spec?.scope !== "Namespaced" && spec?.scope !== "Cluster") {
    causes.push({ reason: "FieldValueNotSupported", field: "spec.scope", message: `Unsupported value: "${String(spec?.scope ?? "")}": supported values: "Cluster", "Namespaced"` });
  }
  if (!spec?.versions?.length) required("spec.versions");
  else if (spec.versions.filter((v) => v.storage).length !== 1) {
    causes.push({ reason: "FieldValueInvalid", field: "spec.versions", message: "Invalid value: []apiextensions.CustomResourceDefinitionVersion: must have exactly one version marked as storage version" });
  }
  if (spec?.group && spec.names?.plural && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    causes.push({ reason: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "${crd.metadata.name}": must be spec.names.plural+"."+spec.group` });
  }
  if (causes.length === 0) {
    try {
      customResourceTypes(crd);
    } catch (e) {
      causes.push({ reason: "FieldValueInvalid", field: "spec.versions[0].schema.openAPIV3Schema", message: `Invalid value: "object": ${(e as Error).message}` });
    }
  }
  return causes;
}

/** apiextensions.k8s.io/v1 customresourcedefinitions; `onChange` (re)registers or forgets what a CRD serves. */
export function crdResourceType(onChange: (crd: KObject, event: "ADDED" | "MODIFIED" | "DELETED") => void): ResourceType {
  return resourceType({
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    statusSubresource: true,
    hasGeneration: true,
    allowUnconditionalUpdate: false,
    strategy: {
      prepare(obj) {
        const spec = obj.spec as CrdSpec | undefined;
        if (!spec?.names || !Array.isArray(spec.versions)) return;
        const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        const condition = (type: string, reason: string, message: string) => ({ type, status: "True", lastTransitionTime: now, reason, message });
        obj.status = {
          acceptedNames: { ...spec.names, singular: spec.names.singular ?? spec.names.kind.toLowerCase(), listKind: spec.names.listKind ?? `${spec.names.kind}List` },
          conditions: [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
          ],
          storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
        };
      },
      validate: validateCrd,
      afterWrite: onChange,
    },
  });
}
