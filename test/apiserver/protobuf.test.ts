// Protobuf bodies, as kubectl's typed commands send them (`kubectl create namespace|secret`): the
// first two bodies are byte for byte what kubectl 1.32 sent; the rest are built with a small encoder.
// Decoded for Namespace, Secret and ConfigMap; anything else is a 415 that says to send JSON.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { kubeConfigFor, startWithFixture } from "./helpers.ts";

// `kubectl create namespace foo`
const KUBECTL_NAMESPACE = "6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a0032003800420012001a020a001a002200";
// `kubectl -n bar create secret generic s2 --type=kubernetes.io/basic-auth --from-literal=username=u`
const KUBECTL_SECRET =
  "6b3873000a0c0a027631120653656372657412400a150a02733212001a0362617222002a00320038004200120d0a08757365726e616d651201751a186b756265726e657465732e696f2f62617369632d617574681a002200";

// A protobuf encoder just big enough for the tests: length-delimited fields and varints.
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.from(out);
}
const bytesField = (field: number, value: Buffer | string) => {
  const b = Buffer.from(value);
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
};
const boolField = (field: number, value: boolean) => Buffer.concat([varint(field << 3), varint(value ? 1 : 0)]);
const entry = (field: number, key: string, value: string | Buffer) => bytesField(field, Buffer.concat([bytesField(1, key), bytesField(2, value)]));
function envelope(kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytesField(1, "v1"), bytesField(2, kind)]);
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), bytesField(1, typeMeta), bytesField(2, raw)]);
}

describe("protobuf request bodies", () => {
  let server: ApiServer;
  let core: CoreV1Api;
  const post = (path: string, body: Buffer) =>
    fetch(server.url + path, { method: "POST", headers: { "content-type": "application/vnd.kubernetes.protobuf", accept: "application/vnd.kubernetes.protobuf,application/json" }, body: new Uint8Array(body) });
  before(async () => {
    server = await startWithFixture();
    core = kubeConfigFor(server).makeApiClient(CoreV1Api);
  });
  after(() => server.stop());

  it("create a Namespace and a Secret as kubectl create sends them", async () => {
    const ns = await post("/api/v1/namespaces?fieldManager=kubectl-create", Buffer.from(KUBECTL_NAMESPACE, "hex"));
    assert.equal(ns.status, 201, await ns.clone().text());
    assert.equal(((await ns.json()) as { metadata: { name: string } }).metadata.name, "foo");
    await core.createNamespace({ body: { metadata: { name: "bar" } } });
    const secret = await post("/api/v1/namespaces/bar/secrets?fieldManager=kubectl-create", Buffer.from(KUBECTL_SECRET, "hex"));
    assert.equal(secret.status, 201, await secret.clone().text());
    const stored = await core.readNamespacedSecret({ namespace: "bar", name: "s2" });
    assert.equal(stored.type, "kubernetes.io/basic-auth");
    assert.deepEqual(stored.data, { username: Buffer.from("u").toString("base64") });
    assert.equal(stored.metadata?.generateName, undefined, "empty strings are absent, as in Go's JSON");
  });

  it("decode labels, annotations, stringData, binary data and immutable", async () => {
    const meta = Buffer.concat([bytesField(1, "opted-in"), entry(11, "idsync.dev/secret", "true"), entry(12, "note", "made by hand")]);
    const raw = Buffer.concat([bytesField(1, meta), entry(2, "bin", Buffer.from([0, 1, 255])), entry(4, "password", "hunter2"), boolField(5, true)]);
    const res = await post("/api/v1/namespaces/default/secrets", envelope("Secret", raw));
    assert.equal(res.status, 201, await res.clone().text());
    const stored = await core.readNamespacedSecret({ namespace: "default", name: "opted-in" });
    assert.deepEqual(stored.metadata?.labels, { "idsync.dev/secret": "true" });
    assert.deepEqual(stored.metadata?.annotations, { note: "made by hand" });
    assert.deepEqual(stored.data, { bin: "AAH/", password: Buffer.from("hunter2").toString("base64") });
    assert.equal(stored.immutable, true);
  });

  it("refuse other kinds and undecoded fields with a 415 that says what to send", async () => {
    const event = await post("/api/v1/namespaces/default/events", envelope("Event", bytesField(1, bytesField(1, "e"))));
    assert.equal(event.status, 415);
    assert.match(((await event.json()) as { message: string }).message, /Namespace, Secret, ConfigMap only .*kubectl apply -f/);
    const ownerRefs = Buffer.concat([bytesField(1, "owned"), bytesField(13, bytesField(1, "v1"))]);
    const owned = await post("/api/v1/namespaces/default/secrets", envelope("Secret", bytesField(1, ownerRefs)));
    assert.equal(owned.status, 415);
    assert.match(((await owned.json()) as { message: string }).message, /field 13 of ObjectMeta/);
  });
});
