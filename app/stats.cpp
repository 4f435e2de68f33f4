#include "app/stats.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "engine/render.h"
#include "engine/text.h"

namespace mentorflow::app {
namespace {

using nlohmann::json;

// The results a monitoring report carries (workflows/monitoring.yaml).
const char* const kResults[] = {"respondents", "quality_score", "pairs_total", "pairs_met_plan", "remarks"};

struct Cycle {
  std::string instance, period, due, submitted, submitted_on;
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
  std::string zone;
  if (Status st = store.GetSetting("zone", &zone); !st.ok()) return st;
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
      cycle.submitted_on = LocalDay(h.at, zone);
      cycle.on_time = h.from != "overdue" && h.from != "escalated";
      for (const char* k : kResults) cycle.results[k] = fields.value(k, json());
      out->push_back(std::move(cycle));
    }
  }
  std::stable_sort(out->begin(), out->end(), [](const Cycle& a, const Cycle& b) { return a.due < b.due; });
  return Status::Ok();
}

json AsJson(const Cycle& c) {
  return {{"period", c.period},   {"due", c.due},           {"submitted", c.submitted},
          {"submitted_on", c.submitted_on}, {"on_time", c.on_time}, {"instance", c.instance},
          {"results", c.results}};
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

}  // namespace mentorflow::app

namespace mentorflow::app {
namespace {

struct Row {
  std::string key, title, value;
  bool sub = false;  // a part of the row above it
};

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string FillTitle(const std::string& pattern, const std::string& title) {
  std::string s = pattern;
  if (auto p = s.find("{}"); p != std::string::npos) s.replace(p, 2, title);
  else s += " " + title;
  return s;
}

Status LoadFigureTitles(const std::string& templates_dir, YAML::Node* out) {
  const std::string path = templates_dir + "/stats/titles.yaml";
  try {
    *out = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::NotFound(path + ": cannot read the titles of the figures");
  } catch (const YAML::Exception& e) {
    return Status::BadInput(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                            ": " + e.msg);
  }
  if (!(*out)["annual"].IsMap()) return Status::BadInput(path + ": expected a map 'annual' of figure titles");
  return Status::Ok();
}

namespace {

std::vector<Row> Rows(const AnnualFigures& f, const YAML::Node& titles) {
  const YAML::Node t = titles["annual"];
  auto title = [&](const std::string& key) { return t[key] ? t[key].as<std::string>() : key; };
  std::vector<Row> rows;
  auto add = [&](const std::string& key, const std::string& value, bool sub = false) {
    rows.push_back({key, title(key), value, sub});
  };
  add("year", std::to_string(f.year));
  add("mentors", std::to_string(f.mentors));
  add("mentees", std::to_string(f.mentees));
  add("mentees_minors", std::to_string(f.mentees_minors), true);
  add("pairs.formed", std::to_string(f.formed));
  add("pairs.active", std::to_string(f.active));
  add("pairs.completed", std::to_string(f.completed));
  add("pairs.terminated", std::to_string(f.terminated));
  auto values = [&](const std::string& group, bool sub) {
    for (const auto& e : f.Entries(group))
      rows.push_back({group + "." + e.value, FillTitle(title(group), e.title), std::to_string(e.count), sub});
  };
  values("terminated_by_reason", true);
  add("pairs.extended", std::to_string(f.extended));
  values("by_form", false);
  values("by_kind", false);
  add("mean_days_completed", f.mean_days_completed ? Num(*f.mean_days_completed) : "");
  add("monitoring.due", std::to_string(f.monitoring_due));
  add("monitoring.on_time", std::to_string(f.monitoring_on_time), true);
  add("monitoring.late", std::to_string(f.monitoring_late), true);
  add("monitoring.missed", std::to_string(f.monitoring_missed), true);
  return rows;
}

// A horizontal bar chart: labels on the left, bars scaled to the largest value.
json Chart(const std::string& title, const std::vector<std::pair<std::string, long long>>& bars) {
  constexpr int kLabel = 340, kBar = 300, kRow = 24;
  long long max = 1;
  for (const auto& b : bars) max = std::max(max, b.second);
  json c = {{"title", title}, {"width", kLabel + kBar + 60}, {"height", 8 + kRow * static_cast<int>(bars.size())},
            {"bars", json::array()}};
  int i = 0;
  for (const auto& [label, value] : bars) {
    const int y = 4 + kRow * i++;
    const long long w = value * kBar / max;
    c["bars"].push_back({{"label", label}, {"value", value}, {"y", y}, {"text_y", y + 13}, {"bar_x", kLabel},
                         {"width", w}, {"value_x", kLabel + w + 6}});
  }
  return c;
}

}  // namespace

Status AnnualReport(Store& store, const std::string& templates_dir, int year, const Now& now,
                    const std::string& format, std::string* out) {
  if (format != "json" && format != "csv" && format != "html" && format != "text")
    return Status::BadInput("--format: expected json, csv, html or text, got '" + format + "'");
  AnnualFigures f;
  if (Status st = store.AnnualStatistics(year, now, &f); !st.ok()) return st;
  if (format == "json") {
    *out = AnnualFiguresJson(f).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    return Status::Ok();
  }
  YAML::Node titles;
  if (Status st = LoadFigureTitles(templates_dir, &titles); !st.ok()) return st;
  const auto rows = Rows(f, titles);
  if (format == "text") {
    out->clear();
    for (const auto& r : rows)
      *out += r.key + std::string(r.key.size() < 38 ? 38 - r.key.size() : 1, ' ') + (r.value.empty() ? "-" : r.value) + "\n";
    return Status::Ok();
  }
  if (format == "csv") {
    const YAML::Node h = titles["annual"]["header"];
    auto head = [&](const char* k, const char* fallback) { return h && h[k] ? h[k].as<std::string>() : fallback; };
    *out = CsvField(head("key", "key")) + "," + CsvField(head("title", "title")) + "," + CsvField(head("value", "value")) +
           "\r\n";
    for (const auto& r : rows) *out += CsvField(r.key) + "," + CsvField(r.title) + "," + CsvField(r.value) + "\r\n";
    return Status::Ok();
  }
  // html
  const YAML::Node ch = titles["charts"];
  auto chart_title = [&](const char* k) { return ch && ch[k] ? ch[k].as<std::string>() : std::string(k); };
  auto bars_of = [&](const std::string& group) {
    std::vector<std::pair<std::string, long long>> bars;
    for (const auto& e : f.Entries(group)) bars.push_back({e.title, e.count});
    return bars;
  };
  json ctx = {{"year", year}, {"generated", RussianDate(FormatDate(now.today))}, {"rows", json::array()}, {"charts", json::array()}};
  std::string institution;
  if (store.GetSetting("institution", &institution).ok()) ctx["institution"] = institution;
  for (const auto& r : rows) ctx["rows"].push_back({{"title", r.title}, {"value", r.value.empty() ? "—" : r.value}, {"sub", r.sub}});
  ctx["charts"].push_back(Chart(chart_title("by_form"), bars_of("by_form")));
  ctx["charts"].push_back(Chart(chart_title("by_kind"), bars_of("by_kind")));
  ctx["charts"].push_back(Chart(chart_title("monitoring"), {{chart_title("on_time"), f.monitoring_on_time},
                                                            {chart_title("late"), f.monitoring_late},
                                                            {chart_title("missed"), f.monitoring_missed}}));
  std::ifstream in(templates_dir + "/stats/annual.mustache", std::ios::binary);
  if (!in) return Status::NotFound(templates_dir + "/stats_annual.mustache: cannot read the page template");
  std::stringstream ss;
  ss << in.rdbuf();
  return RenderMustache("stats_annual", ss.str(), ctx, Escape::kHtml, out);
}

namespace {

double Percent(long long part, long long whole) {
  return whole > 0 ? std::round(1000.0 * static_cast<double>(part) / static_cast<double>(whole)) / 10.0 : 0;
}

}  // namespace

Status AnnualBreakdownReport(Store& store, const std::string& templates_dir, int year, const std::string& attribute,
                             const Now& now, const std::string& format, std::string* out) {
  if (format != "json" && format != "csv" && format != "text")
    return Status::BadInput("--by: the breakdown is printed as text, json or csv, not '" + format + "'");
  Store::AnnualBreakdown b;
  if (Status st = store.AnnualBreakdownBy(year, attribute, now, &b); !st.ok()) return st;
  // What each target says, in numbers.
  struct Target {
    std::optional<double> share, coverage;
    std::optional<bool> share_met, coverage_met;
    long long share_of = 0;                  // the share's whole: the mentees of the values it is taken among
    long long covered = 0, coverable = 0;    // the coverage's part and whole (people, or schools)
  };
  auto mentees_of = [&](const std::string& value) {
    for (const auto& p : b.parts)
      if (p.value == value) return p.figures.mentees;
    return 0LL;
  };
  std::vector<Target> targets;
  for (const auto& p : b.parts) {
    Target t;
    if (!p.value.empty()) {
      // The share of the year's mentees, or of those holding the values it
      // is taken among (special schools' pupils apart, say).
      t.share_of = b.total.mentees;
      if (p.share_target && !p.share_target->among.empty()) {
        t.share_of = 0;
        for (const auto& v : p.share_target->among) t.share_of += mentees_of(v);
      }
      // The coverage of the people registered with the value, or of the
      // schools they come from (`counting:`).
      const bool units = p.coverage_target && !p.coverage_target->counting.empty();
      t.covered = units ? p.covered_units : p.figures.mentees;
      t.coverable = units ? p.registered_units : p.registered_mentees;
      // Nothing to measure (no mentee in the year, none registered with the
      // value): no figure and no verdict, rather than a 0% "not met".
      if (t.share_of > 0) t.share = Percent(p.figures.mentees, t.share_of);
      if (t.coverable > 0) t.coverage = Percent(t.covered, t.coverable);
      if (p.share_target && t.share) t.share_met = p.share_target->Met(*t.share);
      if (p.coverage_target && t.coverage) t.coverage_met = p.coverage_target->Met(*t.coverage);
    }
    targets.push_back(t);
  }
  if (format == "json") {
    auto opt = [](const auto& v) { return v ? json(*v) : json(); };
    json parts = json::array();
    for (size_t i = 0; i < b.parts.size(); ++i) {
      const auto& p = b.parts[i];
      json figures = AnnualFiguresJson(p.figures);
      figures.erase("monitoring");
      const auto& st = p.share_target;
      const auto& ct = p.coverage_target;
      json part = {{"value", p.value.empty() ? json() : json(p.value)},
                   {"title", p.title},
                   {"figures", figures},
                   {"mentees_share", opt(targets[i].share)},
                   {"target_share", st ? json(st->percent) : json()},
                   {"share_met", opt(targets[i].share_met)},
                   {"registered_mentees", p.registered_mentees},
                   {"coverage", opt(targets[i].coverage)},
                   {"target_coverage", ct ? json(ct->percent) : json()},
                   {"coverage_met", opt(targets[i].coverage_met)}};
      if (st) {
        part["share_compare"] = CompareName(st->compare);
        if (!st->among.empty()) part["share_among"] = st->among;
        part["share_of"] = targets[i].share_of;
      }
      if (ct) {
        part["coverage_compare"] = CompareName(ct->compare);
        if (!ct->counting.empty()) {
          part["coverage_counting"] = ct->counting;
          part["covered"] = targets[i].covered;
          part["coverable"] = targets[i].coverable;
        }
      }
      parts.push_back(std::move(part));
    }
    *out = json{{"year", year}, {"by", b.attribute}, {"title", b.title}, {"total", AnnualFiguresJson(b.total)},
                {"parts", parts}}
               .dump(2, ' ', false, json::error_handler_t::replace) +
           "\n";
    return Status::Ok();
  }
  YAML::Node titles;
  if (Status st = LoadFigureTitles(templates_dir, &titles); !st.ok()) return st;
  const auto total = Rows(b.total, titles);
  std::vector<std::vector<Row>> columns;
  for (const auto& p : b.parts) columns.push_back(Rows(p.figures, titles));
  auto value_of = [](const std::vector<Row>& rows, const std::string& key) {
    for (const auto& r : rows)
      if (r.key == key) return r.value;
    return std::string();
  };
  const bool csv = format == "csv";
  size_t key_width = 0;
  for (const auto& r : total) key_width = std::max(key_width, r.key.size() + 2);
  auto cell = [&](const std::string& s, size_t width) {
    const std::string v = s.empty() && !csv ? "-" : s;
    return csv ? "," + CsvField(v) : std::string(v.size() < width ? width - v.size() : 1, ' ') + v;
  };
  const YAML::Node h = titles["annual"]["header"];
  auto head = [&](const char* k, const char* fallback) { return h && h[k] ? h[k].as<std::string>() : fallback; };
  out->clear();
  *out += csv ? CsvField(head("key", "key")) + "," + CsvField(head("title", "title")) : std::string(key_width, ' ');
  for (const auto& p : b.parts) *out += cell(p.value.empty() ? "-" : p.value, 12);
  *out += cell("total", 12) + (csv ? "\r\n" : "\n");
  for (const auto& r : total) {
    if (r.key.rfind("monitoring.", 0) == 0) continue;  // the institution's, not any one value's
    *out += csv ? CsvField(r.key) + "," + CsvField(r.title) : r.key + std::string(key_width - r.key.size(), ' ');
    for (const auto& c : columns) *out += cell(value_of(c, r.key), 12);
    *out += cell(r.value, 12) + (csv ? "\r\n" : "\n");
  }
  if (csv) return Status::Ok();
  for (size_t i = 0; i < b.parts.size(); ++i) {
    const auto& p = b.parts[i];
    const Target& t = targets[i];
    // "at least 70%", "at most 30%", "70%" (exactly)
    auto bound = [](const AttributeTarget& target) {
      const char* how = target.compare == AttributeTarget::Compare::kAtMost    ? "at most "
                        : target.compare == AttributeTarget::Compare::kExactly ? ""
                                                                               : "at least ";
      return how + std::to_string(target.percent) + "%";
    };
    auto join = [](const std::vector<std::string>& vs) {
      std::string s;
      for (const auto& v : vs) s += (s.empty() ? "" : ", ") + v;
      return s;
    };
    char line[320];
    if (const auto& st = p.share_target) {
      const std::string of = st->among.empty() ? "" : " of " + join(st->among);
      if (t.share)
        std::snprintf(line, sizeof line, "target %s: %.1f%% of the year's mentees%s (%lld of %lld), target %s: %s\n",
                      p.value.c_str(), *t.share, of.c_str(), p.figures.mentees, t.share_of, bound(*st).c_str(),
                      *t.share_met ? "met" : "not met");
      else
        std::snprintf(line, sizeof line, "target %s: no mentee%s in a pair in the year, target %s: nothing to measure\n",
                      p.value.c_str(), of.c_str(), bound(*st).c_str());
      *out += line;
    }
    if (const auto& ct = p.coverage_target) {
      const bool units = !ct->counting.empty();
      if (t.coverage)
        std::snprintf(line, sizeof line, "target %s: %.1f%% of %s registered with it %s in pairs (%lld of %lld), target %s: %s\n",
                      p.value.c_str(), *t.coverage, units ? ("the values of " + ct->counting + " of the mentees").c_str() : "the mentees",
                      units ? "have mentees" : "are", t.covered, t.coverable, bound(*ct).c_str(),
                      *t.coverage_met ? "met" : "not met");
      else
        std::snprintf(line, sizeof line, "target %s: no mentee is registered with it%s, target %s: nothing to measure\n",
                      p.value.c_str(), units ? (" with a " + ct->counting).c_str() : "", bound(*ct).c_str());
      *out += line;
    }
  }
  return Status::Ok();
}

Result<Store::RatingReport> Ranking(Context& ctx, const std::string& workflow, const std::string& group) {
  Store::RatingReport r;
  if (Status s = ctx.store.Rating(workflow, group, ctx.actor, ctx.now, &r); !s.ok()) return s;
  return r;
}

}  // namespace mentorflow::app
