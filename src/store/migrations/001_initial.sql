-- idsync schema, version 1. One dialect for PostgreSQL 15+ and PGlite.
-- Connector spaces share one table keyed by (ma, anchor): the per-MA staging areas of DESIGN.md,
-- partitioned by the ma column rather than one table per MA, so adding an MA needs no DDL.

create table applied_config (
  kind        text not null,
  name        text not null,
  generation  bigint,
  spec        jsonb not null,
  source      jsonb,               -- where it was loaded from (file, line), for relative paths and errors
  hash        text not null,
  applied_at  timestamptz not null default now(),
  primary key (kind, name)
);

create table mv_object (
  id           bigserial primary key,
  object_type  text not null,
  attrs        jsonb not null default '{}',
  -- attribute -> {ma, rule, cs, at}: which connector-space object and rule supplied the value.
  lineage      jsonb not null default '{}',
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  deleted_at   timestamptz,         -- deleted by an object deletion rule; purged after the grace period
  -- Something about the object changed and precedence / deletion rules / outbound rules must be
  -- (re)applied. Persisted, not kept in memory, so that a crash between phases loses nothing.
  dirty        boolean not null default false,
  lost_from    text[]               -- MAs it lost a connector in since the deletion rule last looked
);
create index mv_object_dirty on mv_object (id) where dirty;
create index mv_object_live on mv_object (object_type) where deleted_at is null;
create index mv_object_deleted on mv_object (deleted_at) where deleted_at is not null;
create index mv_object_attrs on mv_object using gin (attrs jsonb_path_ops);

create table cs_object (
  id              bigserial primary key,
  ma              text not null,
  object_type     text not null,
  anchor          text,             -- null only for a provisioned object whose system assigns the anchor
  dn              text,
  dn_norm         text,             -- normalized DN, for matching a provisioned object on import
  attrs           jsonb not null default '{}',   -- the last imported state
  -- A change the last import staged and no sync has processed yet: add | update | delete.
  pending_import  text,
  -- The connected system no longer has the object (import saw it deleted, or the delete was exported).
  deleted         boolean not null default false,
  imported_at     timestamptz,      -- null: never seen by an import (provisioned, not yet confirmed)
  mv_id           bigint references mv_object (id) on delete set null,
  -- connector: projected | joined | provisioned; disconnector: normal | filtered | explicit
  link            text not null default 'normal',
  -- Inbound: values this object contributes, by rule: {"rule": {"attr": value}}.
  contrib         jsonb,
  -- Inbound references whose anchors do not resolve yet (the referenced object is not joined).
  unresolved_refs jsonb,
  -- Outbound references whose metaverse objects have no object in this MA yet.
  unresolved_out  jsonb,
  rule            text,             -- outbound: the rule that provisioned or manages the object
  linked_at       timestamptz,
  synced_at       timestamptz,
  disconnected_at timestamptz
);
create unique index cs_object_anchor on cs_object (ma, anchor);
create index cs_object_pending on cs_object (ma, id) where pending_import is not null;
create index cs_object_mv on cs_object (mv_id) where mv_id is not null;
create index cs_object_dn on cs_object (ma, dn_norm) where dn_norm is not null;
create index cs_object_unresolved on cs_object (ma) where unresolved_refs is not null;
create index cs_object_unresolved_out on cs_object (ma) where unresolved_out is not null;
create index cs_object_attrs on cs_object using gin (attrs jsonb_path_ops);

create table pending_export (
  cs_id        bigint primary key references cs_object (id) on delete cascade,
  ma           text not null,
  op           text not null,       -- add | update | delete
  new_dn       text,                -- rename/move to this DN
  changes      jsonb not null default '{}',   -- attribute -> complete new value (null = remove)
  -- pending: to export; unconfirmed: exported, awaiting the confirming import; error: last try failed
  state        text not null default 'pending',
  error        jsonb,
  attempts     integer not null default 0,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  exported_at  timestamptz
);
create index pending_export_ma on pending_export (ma, state, op);

create table watermark (
  ma          text primary key,
  value       text,
  updated_at  timestamptz not null default now()
);

create table run_history (
  id           bigserial primary key,
  ma           text not null,
  profile      text not null,
  status       text not null,
  counts       jsonb not null default '{}',
  message      text,
  blocked_deletes integer not null default 0,
  started_at   timestamptz not null,
  finished_at  timestamptz
);
create index run_history_ma on run_history (ma, id desc);
create index run_history_started on run_history (started_at);

create table run_error (
  id        bigserial primary key,
  run_id    bigint not null references run_history (id) on delete cascade,
  ma        text not null,
  cs_id     bigint,
  anchor    text,
  dn        text,
  code      text not null,
  message   text not null
);
create index run_error_run on run_error (run_id);
create index run_error_cs on run_error (cs_id) where cs_id is not null;

-- A configuration change that needs a full sync of an MA, kept until the sync ran (survives a crash).
create table full_sync_request (
  ma            text primary key,
  reason        text not null,
  requested_at  timestamptz not null default now()
);
