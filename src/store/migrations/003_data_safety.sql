-- Data safety (issue 9): who holds which run lock, and connector-space objects that remember the
-- metaverse object they were connected to.
--
-- run_lock: the PostgreSQL advisory locks (src/store/lock.ts) say THAT a run is in progress; this
-- table says WHO runs it, for the message a second process prints ("MA hr is being run by pid 42
-- on host-a since ..."). A row can outlive its holder (kill -9): only the advisory lock counts, and
-- the next holder overwrites the row.
create table run_lock (
  key          text primary key,
  holder       text not null,
  what         text not null,
  acquired_at  timestamptz not null default now()
);

-- A connector-space object that lost its metaverse object (the object was deleted by a deletion
-- rule, or left the scope of an outbound rule) keeps that object's id here. When the metaverse
-- object comes back within its grace period (its source object reappears), the engine reconnects
-- these objects instead of provisioning new ones: restoring an HR file never re-creates accounts.
alter table cs_object add column last_mv_id bigint;
create index cs_object_last_mv on cs_object (last_mv_id) where last_mv_id is not null and mv_id is null;
