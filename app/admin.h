// The institution's own records: settings, data tables, moving instances to
// a new workflow version, a backup, and creating or upgrading the database.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "app/context.h"

namespace mentorflow::app {

using SettingList = std::vector<std::pair<std::string, std::string>>;
// One setting (`key` given) or all of them.
Result<SettingList> ReadSettings(Context& ctx, const std::string& key);
// A curator or the director.
Status ChangeSetting(Context& ctx, const std::string& key, const std::string& value);

Result<std::vector<Store::TableVersion>> ListTables(Context& ctx);
// `version` 0: the latest (the one conditions read).
Result<Store::TableVersion> ReadTable(Context& ctx, const std::string& name, int version);

struct MigrateRequest {
  std::string workflow;
  int to_version = 0;
  StateMap state_map;
  bool dry_run = false;
};
struct Migration {
  Store::MigrationReport report;
  Status status;  // Ok, or Refused when some are blocked (the report lists them)
};
// Retried once on a concurrent change. A refusal that blocks no instance
// (not a curator) is the error.
Result<Migration> Migrate(Context& ctx, const MigrateRequest& r);

struct BackupDone {
  std::string path;
  long long bytes = 0;
};
Result<BackupDone> Backup(Context& ctx, const std::string& path);

}  // namespace mentorflow::app
