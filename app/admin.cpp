#include "app/admin.h"

namespace mentorflow::app {

Result<SettingList> ReadSettings(Context& ctx, const std::string& key) {
  SettingList all;
  if (!key.empty()) {
    std::string v;
    if (Status s = ctx.store.GetSetting(key, &v); !s.ok()) return s;
    all.push_back({key, v});
    return all;
  }
  if (Status s = ctx.store.Settings(&all); !s.ok()) return s;
  return all;
}

Status ChangeSetting(Context& ctx, const std::string& key, const std::string& value) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  return ctx.store.SetSetting(key, value, ctx.actor, ctx.now);
}

Result<std::vector<Store::TableVersion>> ListTables(Context& ctx) {
  std::vector<Store::TableVersion> all;
  if (Status s = ctx.store.Tables(&all); !s.ok()) return s;
  return all;
}

Result<Store::TableVersion> ReadTable(Context& ctx, const std::string& name, int version) {
  Store::TableVersion t;
  if (Status s = ctx.store.GetTable(name, version, &t); !s.ok()) return s;
  return t;
}

Result<Migration> Migrate(Context& ctx, const MigrateRequest& r) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  Migration m;
  m.status = ctx.store.Migrate(r.workflow, r.to_version, r.state_map, ctx.actor, ctx.now, r.dry_run, &m.report);
  if (m.status.code() == Code::kConflict) {  // one retry on a concurrent change
    m.report = {};
    m.status = ctx.store.Migrate(r.workflow, r.to_version, r.state_map, ctx.actor, ctx.now, r.dry_run, &m.report);
  }
  const bool reported = m.status.ok() || (m.status.code() == Code::kRefused && !m.report.blocked.empty());
  if (!reported) return m.status;
  return m;
}

Result<BackupDone> Backup(Context& ctx, const std::string& path) {
  BackupDone out{path, 0};
  if (Status s = ctx.store.Backup(path, &out.bytes); !s.ok()) return s;
  return out;
}

}  // namespace mentorflow::app
