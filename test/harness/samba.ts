// Test harness: a real Samba Active Directory domain controller (see samba-dc.mjs for how it works).
//
//   const dc = await startDomainController();   // ldaps://127.0.0.N:636, realm SYNC.TEST
//   ... new Client({ url: dc.url, tlsOptions: { ca: [readFileSync(dc.caFile)] } }) ...
//   await dc.stop();
//
// Skip AD tests where Samba is missing with `test("…", { skip: !sambaAvailable() && "no Samba" }, …)`.
export {
  startDomainController,
  stopDomainControllerDir,
  sambaAvailable,
  sambaVersion,
  templateDir,
  ensureTemplate,
  REALM,
  BASE_DN,
  ADMIN_DN,
  ADMIN_UPN,
  type DomainController,
  type DomainControllerOptions,
} from "./samba-dc.mjs";
