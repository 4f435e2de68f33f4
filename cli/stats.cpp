#include "cli/stats.h"

#include <algorithm>
#include <regex>
#include <vector>

namespace mentorflow::cli {
namespace {

using nlohmann::json;

// The results a monitoring report carries (workflows/monitoring.yaml).
const char* const kResults[] = {"respondents", "quality_score", "pairs_total", "pairs_met_plan", "remarks"};

struct Cycle {
  std::string instance, period, due, submitted;
  bool on_time = true;
  json results = json::object();
};

std::string PeriodOf(const std::string& due) {  // 2027-05-20 -> 2027-H1
  const int month = std::stoi(due.substr(5, 2));
  return due.substr(0, 4) + (month <= 6 ? "-H1" : "-H2");
}

// Every report submitted, from each monitoring instance's history: its
// fields replayed entry by entry, taken at each `submit`.
Status Cycles(Store& store, std::vector<Cycle>* out) {
  std::vector<InstanceRecord> instances;
  if (Status st = store.List("monitoring", "", &instances); !st.ok()) return st;
  for (const auto& inst : instances) {
    std::vector<HistoryRecord> history;
    if (Status st = store.History(inst.id, &history); !st.ok()) return st;
    json fields = json::object();
    for (const auto& h : history) {
      json changes = json::parse(h.changes_json, nullptr, false);
      if (changes.is_array())
        for (const auto& c : changes)
          if (c.contains("field")) fields[c["field"].get<std::string>()] = c.value("after", json());
      if (h.event != "submit" || !fields.contains("reported_period") || !fields["reported_period"].is_string()) continue;
      Cycle cycle;
      cycle.instance = inst.id;
      cycle.due = fields["reported_period"].get<std::string>();
      cycle.period = PeriodOf(cycle.due);
      cycle.submitted = h.at;
      cycle.on_time = h.from != "overdue" && h.from != "escalated";
      for (const char* k : kResults) cycle.results[k] = fields.value(k, json());
      out->push_back(std::move(cycle));
    }
  }
  std::stable_sort(out->begin(), out->end(), [](const Cycle& a, const Cycle& b) { return a.due < b.due; });
  return Status::Ok();
}

json AsJson(const Cycle& c) {
  return {{"period", c.period}, {"due", c.due},        {"submitted", c.submitted},
          {"on_time", c.on_time}, {"instance", c.instance}, {"results", c.results}};
}

}  // namespace

Status MonitoringSummary(Store& store, const std::string& period, nlohmann::json* out) {
  if (!std::regex_match(period, std::regex("(19|20|21)[0-9]{2}-H[12]")))
    return Status::BadInput("--period: expected YEAR-H1 (the cycle due by 20 May) or YEAR-H2 (by 20 December), got '" +
                            period + "'");
  std::vector<Cycle> cycles;
  if (Status st = Cycles(store, &cycles); !st.ok()) return st;
  // The latest report for the period counts (a second instance, or a resubmission).
  auto it = std::find_if(cycles.rbegin(), cycles.rend(), [&](const Cycle& c) { return c.period == period; });
  if (it == cycles.rend()) return Status::NotFound("no monitoring report covers " + period);
  const Cycle& here = *it;
  json o = AsJson(here);
  o["previous"] = nullptr;
  o["delta"] = json::object();
  auto prev = std::find_if(cycles.rbegin(), cycles.rend(), [&](const Cycle& c) { return c.due < here.due; });
  if (prev != cycles.rend()) {
    o["previous"] = AsJson(*prev);
    for (const char* k : kResults)
      if (here.results[k].is_number_integer() && prev->results[k].is_number_integer())
        o["delta"][k] = here.results[k].get<long long>() - prev->results[k].get<long long>();
  }
  *out = std::move(o);
  return Status::Ok();
}

}  // namespace mentorflow::cli
