// Schema 16 in reverse, for the tests and benchmarks that take a database
// back to an older schema and let `init` upgrade it: every table without
// its `institution` column (and without keys, which the upgrade re-creates),
// and no table of institutions.
#pragma once

#include <soci/soci.h>

#include <string>
#include <vector>

namespace mentorflow::testing {

inline void UndoInstitutions(soci::session& raw, bool sqlite) {
  // Schema 17's region goes first: its tables name the institutions, and
  // its views and policies name its tables.
  if (!sqlite) {
    raw << "DROP VIEW region_reports, region_institutions";
    raw << "DROP POLICY regional_reads ON institutions";
    raw << "DROP POLICY regional_reads ON settings";
    raw << "DROP POLICY institutions_named ON settings";
  }
  raw << "DROP TABLE annual_reports";
  raw << "DROP TABLE regional_centres";
  const std::vector<std::string> tables = {
      "workflow_definitions", "people", "person_roles", "person_data", "counters", "instances", "history", "timers",
      "reminders", "documents", "settings", "person_history", "orders", "order_items", "consents", "destruction_acts",
      "calendar", "pair_facts", "data_tables", "person_attributes", "document_people", "accounts", "account_tokens",
      "sessions", "login_failures", "calendar_feeds"};
  for (const auto& t : tables) {
    std::vector<std::string> columns;
    if (sqlite) {
      soci::rowset<soci::row> rs = (raw.prepare << "PRAGMA table_info(" + t + ")");
      for (const auto& r : rs) columns.push_back(r.get<std::string>(1));
    } else {
      soci::rowset<std::string> rs = (raw.prepare << "SELECT column_name FROM information_schema.columns WHERE"
                                                     " table_schema = current_schema() AND table_name = :t"
                                                     " ORDER BY ordinal_position",
                                      soci::use(t));
      for (const auto& c : rs) columns.push_back(c);
    }
    std::string list;
    for (const auto& c : columns)
      if (c != "institution") list += (list.empty() ? "" : ", ") + c;
    raw << "CREATE TABLE " + t + "_v15 AS SELECT " + list + " FROM " + t;
  }
  for (auto t = tables.rbegin(); t != tables.rend(); ++t) raw << "DROP TABLE " + *t;
  raw << "DROP TABLE institutions";
  for (const auto& t : tables) raw << "ALTER TABLE " + t + "_v15 RENAME TO " + t;
  // The key the foreign keys of later migrations name (PostgreSQL wants it).
  if (!sqlite) raw << "ALTER TABLE people ADD PRIMARY KEY (id)";
  raw << "DELETE FROM schema_version WHERE version >= 16";
}

}  // namespace mentorflow::testing
