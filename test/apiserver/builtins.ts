// The built-in types the operator touches, each with the parts of its real registry strategy
// that clients notice: Secrets turn stringData into data and honour `immutable`, Namespaces get
// their name label and phase, Events are one table served as core/v1 and as events.k8s.io/v1.
import { badRequest, type StatusCause } from "./errors.ts";
import { deepEqual } from "./patch.ts";
import { ALL_VERBS, resourceType, type KObject, type ResourceType } from "./resources.ts";

type Json = Record<string, unknown>;

const secretStrategy = {
  prepare(obj: KObject): void {
    const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
        throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (key ${k})`);
      }
    }
    // stringData is write-only: the server folds it into data and never returns it.
    for (const [k, v] of Object.entries((obj.stringData as Record<string, string> | undefined) ?? {})) {
      data[k] = Buffer.from(String(v), "utf8").toString("base64");
    }
    delete obj.stringData;
    if (Object.keys(data).length > 0) obj.data = data;
    obj.type ??= "Opaque";
  },
  validate(obj: KObject, old: KObject | undefined): StatusCause[] {
    const causes: StatusCause[] = [];
    if (old && old.type !== obj.type) {
      causes.push({ reason: "FieldValueInvalid", field: "type", message: `Invalid value: "${String(obj.type)}": field is immutable` });
    }
    if (old?.immutable === true && (!deepEqual(old.data ?? {}, obj.data ?? {}) || obj.immutable !== true)) {
      causes.push({ reason: "FieldValueForbidden", field: "data", message: "Forbidden: field is immutable when `immutable` is set" });
    }
    return causes;
  },
};

const namespaceStrategy = {
  prepare(obj: KObject): void {
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name ?? "" };
    obj.spec = { finalizers: ["kubernetes"], ...((obj.spec as Json | undefined) ?? {}) };
    obj.status = { phase: "Active" };
  },
};

/** core/v1 Event field ↔ events.k8s.io/v1 Event field (the rest share their names). */
const EVENT_FIELDS: Array<[string, string]> = [
  ["involvedObject", "regarding"],
  ["message", "note"],
  ["source", "deprecatedSource"],
  ["firstTimestamp", "deprecatedFirstTimestamp"],
  ["lastTimestamp", "deprecatedLastTimestamp"],
  ["count", "deprecatedCount"],
  ["reportingComponent", "reportingController"],
];

function renameFields(obj: KObject, pairs: Array<[string, string]>, apiVersion: string): KObject {
  const out: KObject = { ...obj, apiVersion, kind: "Event" };
  for (const [from, to] of pairs) {
    delete out[from];
    if (obj[from] !== undefined && obj[from] !== null) out[to] = obj[from];
  }
  return out;
}

const eventsV1Strategy = {
  // events.k8s.io/v1 insists on the fields of a "new" event; the core API does not.
  validate(obj: KObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const required: Array<[string, string]> = [
      ["eventTime", "eventTime"],
      ["reportingComponent", "reportingController"],
      ["reportingInstance", "reportingInstance"],
      ["action", "action"],
      ["reason", "reason"],
    ];
    for (const [stored, shown] of required) {
      if (!obj[stored]) causes.push({ reason: "FieldValueRequired", field: shown, message: "Required value" });
    }
    if (obj.type !== "Normal" && obj.type !== "Warning") {
      causes.push({ reason: "FieldValueInvalid", field: "type", message: `Invalid value: "${String(obj.type ?? "")}": has invalid value: ${String(obj.type ?? "")}` });
    }
    return causes;
  },
};

const EVENT_FIELD_SELECTORS = [
  "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
  "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
  "reason", "reportingComponent", "source", "type",
];

export function builtinTypes(): ResourceType[] {
  return [
    resourceType({
      group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"],
      verbs: ["create", "get", "list", "patch", "update", "watch"], statusSubresource: true, strategy: namespaceStrategy,
      fieldSelectors: ["status.phase"],
    }),
    resourceType({ group: "", version: "v1", plural: "secrets", kind: "Secret", strategy: secretStrategy, fieldSelectors: ["type"] }),
    resourceType({ group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", shortNames: ["cm"] }),
    resourceType({
      group: "", version: "v1", plural: "events", kind: "Event", shortNames: ["ev"], storageKey: "/events",
      allowCreateOnUpdate: true, fieldSelectors: EVENT_FIELD_SELECTORS,
    }),
    resourceType({
      group: "events.k8s.io", version: "v1", plural: "events", kind: "Event", shortNames: ["ev"], storageKey: "/events",
      allowCreateOnUpdate: true, strategy: eventsV1Strategy, verbs: ALL_VERBS,
      toView: (stored) => renameFields(stored, EVENT_FIELDS, "events.k8s.io/v1"),
      fromView: (obj) => renameFields(obj, EVENT_FIELDS.map(([a, b]) => [b, a]), "v1"),
    }),
    resourceType({ group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", allowCreateOnUpdate: true }),
  ];
}
