// Protobuf request bodies, for the few built-in types kubectl's typed commands create:
// `kubectl create namespace`, `kubectl create secret`, `kubectl create configmap` send
// application/vnd.kubernetes.protobuf (the 4-byte magic "k8s\0", then a runtime.Unknown whose raw
// bytes are the object), not JSON. Decoded here into the JSON the rest of the server takes, with
// Go's JSON conventions (empty strings and zero numbers are omitted, bytes are base64). Field
// numbers are those of k8s.io/api/core/v1 and k8s.io/apimachinery/pkg/apis/meta/v1 generated.proto.
// Anything else — another kind, or a field not listed (ownerReferences, managedFields) — is a 415
// that says so: send JSON (kubectl apply -f) instead.
import { ApiError, badRequest } from "./errors.ts";
import type { KObject } from "./resources.ts";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Kind = "string" | "bytes" | "bool" | "int64" | "time" | "strings" | "stringMap" | "bytesMap" | Message;
interface Message {
  name: string;
  fields: Record<number, [string, Kind]>;
}

// metav1.Time is set by the server (creationTimestamp) or ignored on create (deletionTimestamp).
const OBJECT_META: Message = {
  name: "ObjectMeta",
  fields: {
    1: ["name", "string"],
    2: ["generateName", "string"],
    3: ["namespace", "string"],
    4: ["selfLink", "string"],
    5: ["uid", "string"],
    6: ["resourceVersion", "string"],
    7: ["generation", "int64"],
    8: ["creationTimestamp", "time"],
    9: ["deletionTimestamp", "time"],
    10: ["deletionGracePeriodSeconds", "int64"],
    11: ["labels", "stringMap"],
    12: ["annotations", "stringMap"],
    14: ["finalizers", "strings"],
  },
};

const TYPES: Record<string, Message> = {
  Namespace: {
    name: "Namespace",
    fields: {
      1: ["metadata", OBJECT_META],
      2: ["spec", { name: "NamespaceSpec", fields: { 1: ["finalizers", "strings"] } }],
      3: ["status", { name: "NamespaceStatus", fields: { 1: ["phase", "string"] } }],
    },
  },
  Secret: {
    name: "Secret",
    fields: { 1: ["metadata", OBJECT_META], 2: ["data", "bytesMap"], 3: ["type", "string"], 4: ["stringData", "stringMap"], 5: ["immutable", "bool"] },
  },
  ConfigMap: {
    name: "ConfigMap",
    fields: { 1: ["metadata", OBJECT_META], 2: ["data", "stringMap"], 3: ["binaryData", "bytesMap"], 4: ["immutable", "bool"] },
  },
};

interface Field {
  number: number;
  wireType: number;
  varint?: bigint;
  bytes?: Buffer;
}

function unsupported(why: string): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `this test API server decodes protobuf bodies of ${Object.keys(TYPES).join(", ")} only (${why}) - send application/json or application/yaml (kubectl apply -f)`,
  );
}

function readVarint(buf: Buffer, at: { pos: number }): bigint {
  let result = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (at.pos >= buf.length || shift > 63n) throw badRequest("error decoding protobuf body: truncated or overlong varint");
    const byte = buf[at.pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return result;
  }
}

/** The wire-format fields of one message, in order. */
function wireFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = Number(readVarint(buf, at));
    const field: Field = { number: key >>> 3, wireType: key & 7 };
    if (field.wireType === 0) field.varint = readVarint(buf, at);
    else if (field.wireType === 2) {
      const length = Number(readVarint(buf, at));
      if (at.pos + length > buf.length) throw badRequest("error decoding protobuf body: truncated field");
      field.bytes = buf.subarray(at.pos, at.pos + length);
      at.pos += length;
    } else if (field.wireType === 1 || field.wireType === 5) at.pos += field.wireType === 1 ? 8 : 4;
    else throw badRequest(`error decoding protobuf body: wire type ${field.wireType}`);
    out.push(field);
  }
  return out;
}

function mapEntry(bytes: Buffer): [string, Buffer] {
  let key = "";
  let value: Buffer = Buffer.alloc(0);
  for (const f of wireFields(bytes)) {
    if (f.number === 1 && f.bytes) key = f.bytes.toString("utf8");
    else if (f.number === 2 && f.bytes) value = f.bytes;
  }
  return [key, value];
}

function decodeMessage(spec: Message, bytes: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of wireFields(bytes)) {
    const known = spec.fields[f.number];
    if (!known) throw unsupported(`field ${f.number} of ${spec.name} is not decoded`);
    const [name, kind] = known;
    const wantsBytes = kind !== "bool" && kind !== "int64";
    if (wantsBytes !== (f.wireType === 2)) throw badRequest(`error decoding protobuf body: ${spec.name}.${name} has wire type ${f.wireType}`);
    const b = f.bytes!;
    if (typeof kind === "object") out[name] = decodeMessage(kind, b);
    else if (kind === "string") {
      if (b.length) out[name] = b.toString("utf8");
    } else if (kind === "bytes") {
      if (b.length) out[name] = b.toString("base64");
    } else if (kind === "bool") out[name] = f.varint !== 0n;
    else if (kind === "int64") {
      if (f.varint) out[name] = Number(BigInt.asIntN(64, f.varint));
    } else if (kind === "strings") ((out[name] ??= []) as string[]).push(b.toString("utf8"));
    else if (kind === "stringMap" || kind === "bytesMap") {
      const [key, value] = mapEntry(b);
      const map = (out[name] ??= {}) as Record<string, string>;
      map[key] = kind === "stringMap" ? value.toString("utf8") : value.toString("base64");
    }
    // "time": set or ignored by the server
  }
  return out;
}

/** The object a protobuf request body holds, for the kind the URL names. */
export function decodeProtobufObject(body: Buffer, expectedKind: string): KObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badRequest("error decoding protobuf body: it does not start with the Kubernetes protobuf magic number");
  }
  let apiVersion = "";
  let kind = "";
  let raw: Buffer | undefined;
  for (const f of wireFields(body.subarray(MAGIC.length))) {
    if (f.number === 1 && f.bytes) {
      for (const t of wireFields(f.bytes)) {
        if (t.number === 1 && t.bytes) apiVersion = t.bytes.toString("utf8");
        if (t.number === 2 && t.bytes) kind = t.bytes.toString("utf8");
      }
    } else if (f.number === 2 && f.bytes) raw = f.bytes;
    else if ((f.number === 3 || f.number === 4) && f.bytes?.length) throw unsupported(`content encoding or type ${f.bytes.toString("utf8")}`);
  }
  const spec = TYPES[kind];
  if (!spec) throw unsupported(`not ${kind || "an unnamed kind"}`);
  if (kind !== expectedKind) throw badRequest(`the body is a ${kind}, the URL names ${expectedKind}`);
  const object = decodeMessage(spec, raw ?? Buffer.alloc(0));
  return { apiVersion, kind, ...object, metadata: (object.metadata as KObject["metadata"]) ?? {} } as KObject;
}
