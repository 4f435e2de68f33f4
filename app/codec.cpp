#include "app/codec.h"

#include <functional>

#include "engine/table.h"

namespace mentorflow::app {

namespace {

constexpr auto kLenient = json::error_handler_t::replace;

json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

// A JSON column as stored; text that is not JSON (edited by hand) is the
// string it is.
json Stored(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

}  // namespace

std::string Dump(const json& j, int indent) { return j.dump(indent, ' ', false, kLenient); }

json ErrorJson(const Status& st) {
  json e = {{"code", st.exit_code()}, {"reason", st.message()}};
  if (!st.rule().empty()) e["rule"] = st.rule();
  if (!st.field().empty()) e["field"] = st.field();
  return {{"error", e}};
}

json InstanceJson(const InstanceRecord& r) {
  return {{"id", r.id},
          {"workflow", r.workflow},
          {"version", r.workflow_version},
          {"state", r.state},
          {"fields", Stored(r.fields_json)},
          {"parent", OrNull(r.parent)},
          {"created", r.created},
          {"updated", r.updated},
          {"revision", r.version}};
}

json InstanceJson(const InstanceView& v) { return InstanceJson(v.record); }

json InstancesJson(const std::vector<InstanceView>& vs) {
  json arr = json::array();
  for (const auto& v : vs) arr.push_back(InstanceJson(v));
  return arr;
}

json HistoryJson(const HistoryView& hv) {
  json arr = json::array();
  for (const auto& e : hv.entries) {
    const HistoryRecord& h = e.entry;
    arr.push_back({{"seq", h.seq}, {"at", h.at}, {"actor", h.actor}, {"role", h.role}, {"event", h.event},
                   {"from", OrNull(h.from)}, {"to", h.to}, {"changes", Stored(h.changes_json)},
                   {"version", h.workflow_version}, {"note", OrNull(h.note)}});
  }
  return arr;
}

json DocumentJson(const DocumentRecord& d) {
  json signers = json::array();
  for (const auto& p : d.places)
    signers.push_back({{"person", !p.signed_by.empty() ? json(p.signed_by) : OrNull(p.person)},
                       {"for", p.representative ? OrNull(p.ward) : json()},
                       {"representative", p.representative},
                       {"entered_by", OrNull(p.entered_by)},
                       {"as", p.as},
                       {"capacity", OrNull(p.capacity)},
                       {"signed_at", OrNull(p.signed_at)}});
  json out = {{"id", d.Id()},
              {"kind", d.name},
              {"title", d.title},
              {"instance", OrNull(d.instance)},
              {"workflow", d.workflow},
              {"issue", d.issue},
              {"status", d.status},
              {"sha256", OrNull(d.sha256)},
              {"intact", d.intact},
              {"issued", d.issued_at},
              {"erased", OrNull(d.erased_at)},
              {"redacted", OrNull(d.redacted_at)},
              {"signers", signers}};
  if (!d.purpose.empty()) out["purpose"] = d.purpose;  // a consent's
  if (!d.number.empty()) {
    out["number"] = d.number;
    out["issued_by"] = d.issued_by;
    out["items"] = d.items;
  }
  return out;
}

json DocumentsJson(const std::vector<DocumentRecord>& ds) {
  json arr = json::array();
  for (const auto& d : ds) arr.push_back(DocumentJson(d));
  return arr;
}

json SignedJson(const Signed& s) {
  json out = {{"document", s.document}, {"status", s.status}};
  if (s.order) out["sent"] = s.approved;
  return out;
}

json ReminderJson(const ReminderRecord& r) {
  return {{"id", r.id},         {"on", r.on},           {"deadline", OrNull(r.deadline)},
          {"kind", r.kind},     {"to", r.to},           {"instance", r.instance},
          {"workflow", r.workflow}, {"subject", r.subject}, {"text", r.text},
          {"status", r.status}, {"tries", r.tries}};
}

json RemindersJson(const std::vector<ReminderRecord>& rs) {
  json arr = json::array();
  for (const auto& r : rs) arr.push_back(ReminderJson(r));
  return arr;
}

json AgendaJson(const AgendaView& a) {
  json ds = json::array();
  for (const auto& d : a.deadlines)
    ds.push_back({{"instance", d.instance}, {"workflow", d.workflow}, {"state", d.state}, {"event", d.event},
                  {"due", d.due}, {"recipients", d.recipients}, {"title", d.workflow_title},
                  {"state_title", d.state_title},
                  {"item", d.item_id.empty() ? json() : json{{"id", d.item_id}, {"title", d.item_title}}}});
  return {{"from", FormatDate(a.from)}, {"to", FormatDate(a.to)}, {"deadlines", ds},
          {"reminders", RemindersJson(a.reminders)}};
}

json PersonJson(const PersonRecord& p) {
  json attrs = json::object();
  for (const auto& [k, v] : p.attributes) attrs[k] = v;
  return {{"id", p.id},
          {"name", p.name},
          {"roles", p.roles},
          {"birth", OrNull(p.birth)},
          {"email", OrNull(p.email)},
          {"guardian", OrNull(p.guardian)},
          {"address", OrNull(p.address)},
          {"document_kind", OrNull(p.document.kind)},
          {"document_number", OrNull(p.document.number)},
          {"document_issued", OrNull(p.document.issued)},
          {"document_issuer", OrNull(p.document.issuer)},
          {"authority", OrNull(p.authority)},
          {"attributes", attrs}};
}

json TickJson(const Store::TickReport& report, Date today) {
  json fired = json::array();
  for (const auto& f : report.fired)
    fired.push_back({{"instance", f.instance}, {"workflow", f.workflow}, {"event", f.event}, {"due", f.due},
                     {"at", f.at}, {"from", f.from}, {"to", f.to}, {"refused", f.refused},
                     {"reason", f.refused ? json(f.reason) : json()}});
  json failed = json::array();
  for (const auto& f : report.failed)
    failed.push_back({{"instance", f.instance}, {"event", f.event}, {"due", f.due}, {"error", f.error}});
  return {{"today", FormatDate(today)},
          {"fired", fired},
          {"reminders_due", report.reminders_due},
          {"unreadable", report.unreadable},
          {"failed", failed}};
}

json DeliveryJson(const Delivery& d) {
  json lines = json::array();
  for (const auto& l : d.report.lines)
    lines.push_back({{"id", l.id}, {"to", l.to}, {"status", l.status}, {"error", OrNull(l.error)}});
  json out = {{"via", d.via}, {"sent", d.report.sent}, {"failed", d.report.failed}, {"dead", d.report.dead},
              {"reminders", lines}};
  if (!d.status.ok()) out["error"] = {{"code", d.status.exit_code()}, {"reason", d.status.message()}};
  return out;
}

namespace {

json RegionJson(const RegionRun& run, const std::function<json(const RegionTurn&)>& what) {
  json turns = json::array();
  for (const auto& t : run.turns) {
    json j = what(t);
    j["institution"] = t.institution;
    j["round"] = t.round;
    if (!t.status.ok()) j["error"] = {{"code", t.status.exit_code()}, {"reason", t.status.message()}};
    turns.push_back(std::move(j));
  }
  json out = {{"rounds", run.rounds}, {"turns", turns}};
  if (!run.status.ok()) out["error"] = {{"code", run.status.exit_code()}, {"reason", run.status.message()}};
  return out;
}

}  // namespace

json RegionTickJson(const RegionRun& run) {
  return RegionJson(run, [](const RegionTurn& t) {
    json j = TickJson(t.tick, Date{});
    j.erase("today");
    j["more"] = t.tick.more;
    return j;
  });
}

json RollupJson(const Rollup& r) {
  auto figures = [&](const Rollup::Line& line, json* out) {
    json f = json::object(), withheld = json::array();
    for (std::size_t c = 0; c < r.columns.size() && line.submitted; ++c) {
      if (line.hidden[c]) {
        f[r.columns[c].key] = nullptr;
        withheld.push_back(r.columns[c].key);
      } else {
        f[r.columns[c].key] = line.values[c];
      }
    }
    (*out)["figures"] = std::move(f);
    (*out)["withheld"] = std::move(withheld);
  };
  json j = {{"year", r.year}, {"today", r.today}, {"submitted", r.submitted}, {"late", r.late},
            {"pending", r.pending}, {"columns", json::array()}, {"institutions", json::array()}};
  for (const auto& c : r.columns) j["columns"].push_back({{"key", c.key}, {"title", c.title}});
  for (const auto& line : r.institutions) {
    json i = {{"id", line.id}, {"name", line.name},
              {"status", line.submitted ? "submitted" : line.late ? "late" : "pending"},
              {"signed_on", line.submitted ? json(line.signed_on) : json()}};
    figures(line, &i);
    j["institutions"].push_back(std::move(i));
  }
  json total = json::object();
  figures(r.total, &total);
  j["total"] = std::move(total);
  return j;
}

json RegionDeliveryJson(const RegionRun& run) {
  return RegionJson(run, [](const RegionTurn& t) { return DeliveryJson(t.delivery); });
}

json MigrationJson(const MigrateRequest& r, const Migration& m) {
  json moved = json::array(), blocked = json::array();
  for (const auto& x : m.report.moved)
    moved.push_back({{"id", x.id}, {"from_version", x.from_version}, {"from", x.from}, {"to", x.to}});
  for (const auto& b : m.report.blocked)
    blocked.push_back({{"id", b.id}, {"version", b.version}, {"state", b.state}, {"reasons", b.reasons}});
  json out = {{"workflow", r.workflow}, {"to", r.to_version}, {"dry_run", r.dry_run}, {"moved", moved},
              {"blocked", blocked}};
  if (!m.status.ok())
    out["error"] = {{"code", m.status.exit_code()}, {"reason", m.status.message()}, {"rule", "migrate"}};
  return out;
}

json RankingJson(const Store::RatingReport& r) {
  const bool named = !r.names.empty();
  json rows = json::array();
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const auto& e = r.entries[i];
    json o = {{"rank", e.rank}, {"person", e.person}, {"score", e.score}, {"normalised", e.normalised},
              {"counted", e.records}};
    if (named) o["name"] = r.names[i];
    rows.push_back(o);
  }
  json weights = json::object(), factors = json::object();
  for (const auto& [k, v] : r.weights) weights[k] = v;
  for (const auto& [k, v] : r.factors) factors[k] = v;
  return {{"workflow", r.workflow}, {"version", r.version}, {"direction", r.group}, {"title", r.group_title},
          {"weights", weights},     {"factors", factors},     {"ranking", rows}};
}

json TablesJson(const std::vector<Store::TableVersion>& all) {
  json arr = json::array();
  for (const auto& t : all) arr.push_back({{"name", t.name}, {"version", t.version}, {"loaded_at", t.loaded_at}});
  return arr;
}

Status TableJson(const Store::TableVersion& t, json* out) {
  std::vector<TableProblem> problems;
  auto parsed = ParseTable(t.name, t.source, &problems);
  if (!parsed) return Status::Internal("the stored table '" + t.name + "' does not parse");
  json rows = json::array();
  for (const auto& r : parsed->rows) {
    json o = json::object();
    for (size_t i = 0; i < r.size(); ++i) o[parsed->columns[i]] = r[i];
    rows.push_back(o);
  }
  *out = {{"name", t.name}, {"version", t.version}, {"loaded_at", t.loaded_at}, {"columns", parsed->columns},
          {"rows", rows}};
  return Status::Ok();
}

json SettingsJson(const SettingList& all) {
  json o = json::object();
  for (const auto& [k, v] : all) o[k] = v;
  return o;
}

json ImportJson(const ImportResult& r, bool dry_run) {
  return {{"lines", r.lines},           {"started", r.started}, {"events", r.events},
          {"signatures", r.signatures}, {"issued", r.issued},   {"refs", r.refs},
          {"dry_run", dry_run}};
}

json DiagnosticsJson(const std::vector<Diagnostic>& errors) {
  json out = json::array();
  for (const auto& e : errors)
    out.push_back({{"file", e.file}, {"line", e.mark.line}, {"column", e.mark.column}, {"message", e.message}});
  return out;
}

Status InputFromJson(const json& j, Input* out) {
  out->clear();
  if (j.is_null()) return Status::Ok();
  if (!j.is_object()) return Status::BadInput("input: expected an object of field: value");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const json& v = it.value();
    if (v.is_string()) out->push_back({it.key(), v.get<std::string>()});
    else if (v.is_boolean()) out->push_back({it.key(), v.get<bool>() ? "true" : "false"});
    else if (v.is_number_integer()) out->push_back({it.key(), v.dump()});
    else return Status::BadInput("input: '" + it.key() + "' must be a string, a whole number or true/false");
  }
  return Status::Ok();
}

}  // namespace mentorflow::app
