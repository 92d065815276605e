// The rendered Deployment and its companions: non-root, read-only root filesystem with a writable
// /tmp, resources, probes on /healthz and /readyz, the operator command, the database URL from a
// Secret (never from values), the metrics Service and the optional ServiceMonitor.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { find, renderChart } from "./render.ts";

describe("the chart's workload", () => {
  it("runs the operator non-root on a read-only root filesystem with probes and resources", () => {
    const { documents } = renderChart({ namespace: "ops" });
    const [deployment] = find(documents, "Deployment");
    const pod = deployment.spec.template.spec;
    const [c] = pod.containers;
    assert.equal(deployment.metadata.namespace, "ops");
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(deployment.spec.selector.matchLabels, { "app.kubernetes.io/name": "idsync", "app.kubernetes.io/instance": "idsync" });
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
    assert.deepEqual(c.command, ["node", "bin/idsync.js"]);
    assert.deepEqual(c.args, ["operator", "--metrics-port=8080"]);
    assert.equal(c.image, "ghcr.io/idsync/idsync:0.1.0", "the tag defaults to the appVersion");
    assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "metrics" });
    assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "metrics" });
    assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 8080, protocol: "TCP" }]);
    assert.deepEqual(c.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
    assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: {} }]);
    assert.equal(pod.serviceAccountName, find(documents, "ServiceAccount")[0].metadata.name);
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    assert.deepEqual(env.IDSYNC_DATABASE_URL.valueFrom, { secretKeyRef: { name: "idsync-database", key: "url" } });
    assert.deepEqual(env.POD_NAMESPACE.valueFrom, { fieldRef: { fieldPath: "metadata.namespace" } });
    assert.deepEqual(env.POD_NAME.valueFrom, { fieldRef: { fieldPath: "metadata.name" } });
  });

  it("passes the watched namespace, extra volumes and the image tag through", () => {
    const { documents } = renderChart({
      values: {
        watchNamespace: "team-a",
        image: { tag: "1.2.3" },
        database: { existingSecret: "pg-app", key: "uri" },
        extraVolumes: [{ name: "csv", persistentVolumeClaim: { claimName: "csv" } }],
        extraVolumeMounts: [{ name: "csv", mountPath: "/data" }],
        nodeSelector: { "kubernetes.io/arch": "arm64" },
      },
    });
    const pod = find(documents, "Deployment")[0].spec.template.spec;
    const [c] = pod.containers;
    assert.deepEqual(c.args, ["operator", "--metrics-port=8080", "--namespace=team-a"]);
    assert.equal(c.image, "ghcr.io/idsync/idsync:1.2.3");
    assert.deepEqual(c.env[0].valueFrom.secretKeyRef, { name: "pg-app", key: "uri" });
    assert.deepEqual(c.volumeMounts.map((m: { name: string }) => m.name), ["tmp", "csv"]);
    assert.deepEqual(pod.volumes.map((v: { name: string }) => v.name), ["tmp", "csv"]);
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/arch": "arm64" });
  });

  it("serves metrics through a Service, and a ServiceMonitor only when asked", () => {
    const plain = renderChart();
    const [service] = find(plain.documents, "Service");
    assert.deepEqual(service.spec.ports, [{ name: "metrics", port: 8080, targetPort: "metrics", protocol: "TCP" }]);
    assert.deepEqual(service.spec.selector, find(plain.documents, "Deployment")[0].spec.selector.matchLabels);
    assert.equal(find(plain.documents, "ServiceMonitor").length, 0);

    const monitored = renderChart({ values: { metrics: { serviceMonitor: { enabled: true, labels: { release: "prom" } } } } });
    const [sm] = find(monitored.documents, "ServiceMonitor");
    assert.equal(sm.metadata.labels.release, "prom");
    assert.deepEqual(sm.spec.endpoints, [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }]);
    assert.deepEqual(sm.spec.selector.matchLabels, service.spec.selector);
  });

  it("explains the next steps in NOTES.txt", () => {
    const { notes } = renderChart({ values: { watchNamespace: "team-a" } });
    assert.match(notes, /the namespace team-a/);
    assert.match(notes, /create secret generic idsync-database/);
    assert.match(notes, /idsync\.dev\/run=/);
  });
});
