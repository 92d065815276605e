// ManagementAgents the API refuses at `kubectl apply` (issue 10, item 4: "the API says no early"):
// the CRD's x-kubernetes-validations reject them in every cluster, and `idsync validate` and the
// test API server evaluate the same rules. Shared by test/config/rejected-at-apply.test.ts (file,
// line and field of `idsync validate`) and test/apiserver/rejected-at-apply.test.ts (422 through
// the real client, and the real kubectl). Each document is one mistake, and gets exactly its errors.

/** One ManagementAgent document: `connector` holds the lines under spec.connector (unindented). */
function managementAgent(name: string, connector: string): string {
  const body = connector.replace(/^\n/, "").split("\n").map((l) => "    " + l).join("\n");
  return `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: ${name}}
spec:
  connector:
${body}
  objectTypes: [{name: person, anchor: [id], attributes: [{name: id}]}]
`;
}

/** One bad MA per document, in the order of REJECTIONS. */
export const REJECTED_YAML = [
  managementAgent("postgres", `
type: postgres
postgres: {connectionSecretRef: {name: hr-db, key: url}, table: people}`),
  managementAgent("csv-without-block", `
type: csv`),
  managementAgent("ldap-without-block", `
type: ldap`),
  managementAgent("block-of-another-type", `
type: csv
csv: {path: data/hr.csv}
ldap: {url: "ldaps://dir.example.org:636", baseDN: "dc=example,dc=org"}`),
  managementAgent("csv-without-path", `
type: csv
csv: {delimiter: ";"}`),
  managementAgent("ldap-without-url", `
type: ldap
ldap: {baseDN: "dc=example,dc=org"}`),
  managementAgent("bind-dn-without-password", `
type: ldap
ldap:
  url: "ldaps://dir.example.org:636"
  baseDN: "dc=example,dc=org"
  bindDN: "cn=idsync,dc=example,dc=org"`),
  managementAgent("password-without-bind-dn", `
type: ldap
ldap:
  url: "ldaps://dir.example.org:636"
  baseDN: "dc=example,dc=org"
  passwordSecretRef: {name: ldap-bind, key: password}`),
  managementAgent("url-with-a-dn", `
type: ldap
ldap:
  url: "ldap://dir.example.org:389/dc=example,dc=org"
  baseDN: "dc=example,dc=org"`),
  managementAgent("starttls-on-ldaps", `
type: ldap
ldap:
  url: "ldaps://dir.example.org:636"
  baseDN: "dc=example,dc=org"
  startTLS: true`),
  managementAgent("quote-delimiter", `
type: csv
csv:
  path: data/hr.csv
  delimiter: '"'`),
  managementAgent("line-break-separator", `
type: csv
csv:
  path: data/hr.csv
  multiValueSeparator: "\\n"`),
].join("---\n");

export interface Rejection {
  /** The MA's name. */
  name: string;
  /** The field `idsync validate` names (the rule's fieldPath under the rule's node). */
  path: string;
  message: string;
  /** The StatusCause reason the API server gives. */
  reason: "FieldValueRequired" | "FieldValueForbidden" | "FieldValueInvalid";
  /** The rule is new with this item; false: the CRD had it before (the case guards it). */
  new: boolean;
}

export const REJECTIONS: Rejection[] = [
  { name: "postgres", reason: "FieldValueForbidden", path: "spec.connector.type", message: "connector type postgres is not implemented yet: use csv or ldap", new: true },
  { name: "csv-without-block", reason: "FieldValueRequired", path: "spec.connector.csv", message: "connector type csv requires connector.csv", new: false },
  { name: "ldap-without-block", reason: "FieldValueRequired", path: "spec.connector.ldap", message: "connector type ldap requires connector.ldap", new: false },
  { name: "block-of-another-type", reason: "FieldValueForbidden", path: "spec.connector.ldap", message: "connector.ldap is only allowed when the connector type is ldap", new: false },
  { name: "csv-without-path", reason: "FieldValueRequired", path: "spec.connector.csv.path", message: "is required", new: false },
  { name: "ldap-without-url", reason: "FieldValueRequired", path: "spec.connector.ldap.url", message: "is required", new: false },
  {
    name: "bind-dn-without-password",
    reason: "FieldValueRequired",
    path: "spec.connector.ldap.passwordSecretRef",
    message: "connector.ldap.bindDN needs passwordSecretRef, the Secret key holding its password (leave bindDN out to bind anonymously)",
    new: true,
  },
  {
    name: "password-without-bind-dn",
    reason: "FieldValueRequired",
    path: "spec.connector.ldap.bindDN",
    message: "connector.ldap.passwordSecretRef is only used with bindDN: add the DN to bind as, or remove passwordSecretRef to bind anonymously",
    new: true,
  },
  {
    name: "url-with-a-dn",
    reason: "FieldValueInvalid",
    path: "spec.connector.ldap.url",
    message: "connector.ldap.url must be ldap://host[:port] or ldaps://host[:port], with nothing after the port (the subtree goes in baseDN)",
    new: true,
  },
  {
    name: "starttls-on-ldaps",
    reason: "FieldValueForbidden",
    path: "spec.connector.ldap.startTLS",
    message: "connector.ldap.startTLS cannot be used with an ldaps:// url, which is TLS from the start: use ldap:// with startTLS, or ldaps:// without it",
    new: true,
  },
  { name: "quote-delimiter", reason: "FieldValueInvalid", path: "spec.connector.csv.delimiter", message: "connector.csv.delimiter may not hold a double quote or a line break", new: true },
  { name: "line-break-separator", reason: "FieldValueInvalid", path: "spec.connector.csv.multiValueSeparator", message: "connector.csv.multiValueSeparator may not hold a line break", new: true },
];

/** The connector settings the API accepts, one of each implemented type (the rules must not over-reach). */
export const ACCEPTED_YAML = [
  managementAgent("hr", `
type: csv
csv: {path: data/hr.csv, delimiter: ";", multiValueSeparator: "|"}`),
  managementAgent("directory", `
type: ldap
ldap:
  url: "ldaps://dir.example.org:636/"
  baseDN: "dc=example,dc=org"
  bindDN: "cn=idsync,dc=example,dc=org"
  passwordSecretRef: {name: ldap-bind, key: password}`),
  managementAgent("anonymous", `
type: ldap
ldap: {url: "ldap://dir.example.org", baseDN: "dc=example,dc=org", startTLS: true}`),
].join("---\n");
