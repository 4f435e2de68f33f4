// The one JSON codec: what the CLI's --json prints and what the HTTP API
// answers are built here from the use cases' results, so the two cannot
// drift. Stored text that is not valid UTF-8 is written with U+FFFD (Dump).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "app/admin.h"
#include "app/document_actions.h"
#include "app/import.h"
#include "app/outbox.h"
#include "app/region.h"
#include "app/rollup.h"
#include "app/views.h"
#include "engine/loader.h"

namespace mentorflow::app {

using nlohmann::json;

// `indent` as json::dump; invalid UTF-8 replaced, never an exception.
std::string Dump(const json& j, int indent = 2);

// {"error": {"code": EXIT_CODE, "reason": MESSAGE[, "rule": RULE]}}
json ErrorJson(const Status& st);

json InstanceJson(const InstanceRecord& r);
json InstanceJson(const InstanceView& v);
json InstancesJson(const std::vector<InstanceView>& vs);
json HistoryJson(const HistoryView& h);
json DocumentJson(const DocumentRecord& d);
json DocumentsJson(const std::vector<DocumentRecord>& ds);
json SignedJson(const Signed& s);
json ReminderJson(const ReminderRecord& r);
json RemindersJson(const std::vector<ReminderRecord>& rs);
json AgendaJson(const AgendaView& a);
json PersonJson(const PersonRecord& p);
json TickJson(const Store::TickReport& report, Date today);
json DeliveryJson(const Delivery& d);
// tick and deliver over a region: every turn, with what it did (TickJson,
// DeliveryJson) under its institution and round.
json RegionTickJson(const RegionRun& run);
// {"year", "today", "submitted", "late", "pending", "columns": [{"key",
// "title"}], "institutions": [{"id", "name", "status": "submitted"|"late"|
// "pending", "signed_on", "figures": {KEY: N|null}}], "total": {"figures"}};
// a withheld count (below 5, or one it could be recovered from) is null
// and its key listed in "withheld".
json RollupJson(const Rollup& r);
json RegionDeliveryJson(const RegionRun& run);
json MigrationJson(const MigrateRequest& r, const Migration& m);
json RankingJson(const Store::RatingReport& r);
json TablesJson(const std::vector<Store::TableVersion>& all);
// A table's rows by column; Internal when the stored text does not parse.
Status TableJson(const Store::TableVersion& t, json* out);
json SettingsJson(const SettingList& all);
json ImportJson(const ImportResult& r, bool dry_run);
json DiagnosticsJson(const std::vector<Diagnostic>& errors);

// An event's or a start's input from a JSON object: each member a field, its
// value a string, a number or a boolean (as the text --set would give);
// null or anything else is BadInput naming the member.
Status InputFromJson(const json& j, Input* out);

}  // namespace mentorflow::app
