// The SecretStore hands a connector a Secret's value only when idsync may use that Secret: in the
// MA's namespace, and labelled idsync.dev/secret: "true" or listed with --allowed-secret. It checks
// that again over whatever its caches hold (a cache is only as selective as its selector), and its
// problems say why, never a value.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllowedSecrets, SecretStore, type SecretObject } from "../../src/operator/secrets.ts";

function cache(...secrets: SecretObject[]) {
  const byKey = new Map(secrets.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  return { get: (namespace: string | undefined, name: string) => byKey.get(`${namespace ?? ""}/${name}`) };
}
const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (namespace: string, name: string, labels?: Record<string, string>): SecretObject => ({
  metadata: { namespace, name, labels },
  data: { password: b64(`pw-of-${namespace}-${name}`) },
});

describe("SecretStore", () => {
  // One cache holding everything, as if a selector had let all of it through.
  const all = cache(
    secret("team-a", "labelled", { "idsync.dev/secret": "true" }),
    secret("team-a", "labelled-false", { "idsync.dev/secret": "false" }),
    secret("team-a", "plain"),
    secret("team-a", "listed-anywhere"),
    secret("team-b", "listed-anywhere"),
    secret("team-a", "listed-here"),
    secret("team-b", "listed-here"),
  );
  const store = new SecretStore([all], parseAllowedSecrets(["listed-anywhere", "team-a/listed-here"]));
  const ref = (name: string) => ({ name, key: "password" });

  it("uses labelled and listed Secrets, each in its own namespace", () => {
    assert.equal(store.resolve("team-a", "labelled", "password"), "pw-of-team-a-labelled");
    assert.equal(store.resolve("team-b", "listed-anywhere", "password"), "pw-of-team-b-listed-anywhere");
    assert.equal(store.resolve("team-a", "listed-here", "password"), "pw-of-team-a-listed-here");
    assert.equal(store.problem("team-a", ref("labelled")), undefined);
  });

  it("refuses the others and says why, without a value", () => {
    for (const [namespace, name] of [["team-a", "plain"], ["team-a", "labelled-false"], ["team-b", "listed-here"], ["team-b", "labelled"], [undefined, "labelled"]] as const) {
      const problem = store.problem(namespace, ref(name));
      assert.match(problem ?? "", new RegExp(`^Secret ${namespace ?? ""}/${name} not found among the Secrets idsync may use: .*label idsync\\.dev/secret: "true".*--allowed-secret`));
      assert.throws(() => store.resolve(namespace, name, "password"), (e: Error) => e.message === problem && !e.message.includes("pw-of-"));
    }
    assert.equal(store.problem("team-a", { name: "labelled", key: "nope" }), "Secret team-a/labelled has no key 'nope'");
  });

  it("parses --allowed-secret values, comma-separated or repeated", () => {
    assert.deepEqual(parseAllowedSecrets(["a,team-b/b", " c "]), [{ name: "a" }, { namespace: "team-b", name: "b" }, { name: "c" }]);
    assert.deepEqual(parseAllowedSecrets(undefined), []);
    assert.throws(() => parseAllowedSecrets(["team-b/"]), /--allowed-secret: "team-b\/" is not a Secret name or namespace\/name/);
  });
});
