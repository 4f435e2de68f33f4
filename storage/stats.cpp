// The annual figures (`stats annual`), aggregated in the database from the
// history: every figure is a query over history entries made before the
// year's end (or before now, for the year under way), so a past year reads
// the same after later events. Nothing here loads instances into memory.
//
// What the figures read, in the shipped workflows' terms:
//   mentoring_pair: a pair is formed when it first enters `active`, ends when
//   it enters `completed` or `terminated` (the reason: its `termination`
//   field), is extended when a re-signed agreement of an extension takes
//   effect (`change_signed` into `active`); its people are the values its
//   `mentor` and `mentee` fields held while it was at work in the year; its
//   form and kind are the last ones recorded in the year.
//   monitoring: a cycle is each date its `period` field took; it was done on
//   time when the `submit` recording it as `reported_period` left
//   `collecting`, late when it left `overdue` or `escalated`, missed when no
//   report came by the year's end.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "storage/statements.h"

namespace mentorflow {

nlohmann::json AnnualFiguresJson(const AnnualFigures& f) {
  nlohmann::json o = {{"year", f.year},
            {"mentors", f.mentors},
            {"mentees", f.mentees},
            {"mentees_minors", f.mentees_minors},
            {"pairs",
             {{"formed", f.formed}, {"active", f.active}, {"completed", f.completed}, {"terminated", f.terminated},
              {"extended", f.extended}}},
            {"terminated_by_reason", f.terminated_by_reason},
            {"by_form", f.by_form},
            {"by_kind", f.by_kind},
            {"mean_days_completed", f.mean_days_completed ? nlohmann::json(*f.mean_days_completed) : nlohmann::json()},
            {"monitoring",
             {{"due", f.monitoring_due}, {"on_time", f.monitoring_on_time}, {"late", f.monitoring_late},
              {"missed", f.monitoring_missed}}}};
  return o;
}

std::vector<AnnualFigures::Entry> AnnualFigures::Entries(const std::string& group) const {
  const auto& m = group == "by_form" ? by_form : group == "by_kind" ? by_kind : terminated_by_reason;
  std::vector<Entry> out;
  for (const auto& d : declared)
    if (d.group == group) {
      auto it = m.find(d.value);
      out.push_back({d.value, d.title, it == m.end() ? 0 : it->second});
    }
  for (const auto& [value, n] : m)
    if (std::none_of(out.begin(), out.end(), [&](const Entry& e) { return e.value == value; }))
      out.push_back({value, value, n});
  return out;
}

namespace storage {
namespace {

constexpr const char* kPairWorkflow = "mentoring_pair";
constexpr const char* kMonitoringWorkflow = "monitoring";

// Each value is bound once, into the one-row `K` (SOCI's backends differ on
// a placeholder named twice): s, c the year's first instant and the cut
// (UTC, as history stores them), first, last its first and last day, today
// the cut's date, y the year.
constexpr const char* kParams =
    "WITH K AS (SELECT CAST(:start AS TEXT) AS s, CAST(:cut AS TEXT) AS c, CAST(:first AS TEXT) AS first_day,"
    " CAST(:last AS TEXT) AS last_day, CAST(:today AS TEXT) AS today, CAST(:year AS INTEGER) AS y)";

// The field changes of the history entries in `source` (instance, seq, at,
// field, after): where the two backends' JSON functions differ.
std::string ChangesSelect(bool sqlite, const std::string& source) {
  if (sqlite)
    return "SELECT h.instance, h.seq, h.at, json_extract(j.value, '$.field') AS field,"
           " json_extract(j.value, '$.after') AS after FROM " + source + " h, json_each(h.changes) j"
           " WHERE h.changes <> '[]'";
  return "SELECT h.instance, h.seq, h.at, j.value->>'field' AS field, j.value->>'after' AS after"
         " FROM " + source + " h CROSS JOIN LATERAL jsonb_array_elements(CAST(h.changes AS jsonb)) AS j(value)"
         " WHERE h.changes <> '[]'";
}

}  // namespace

Status SociStore::AnnualStatistics(int year, const Now& now, AnnualFigures* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    // The query's intermediate tables go to temporary files, not memory, so
    // that memory does not grow with the data (SQLite's default keeps them in
    // memory); outside a transaction, where the setting may change.
    if (sqlite_ && !in_tx_) *sql_ << "PRAGMA temp_store = FILE";
    return AnnualFiguresUnlocked(year, now, out);
  });
}

Status SociStore::AnnualFiguresUnlocked(int year, const Now& now, AnnualFigures* out) {
  if (year < kMinYear || year >= kMaxYear)
    return Status::BadInput("--year: expected a year from " + std::to_string(kMinYear) + " to " +
                            std::to_string(kMaxYear - 1) + ", got " + std::to_string(year));
  {
    const std::string zone = Setting("zone");
    const auto begin = ParseLocalTime(std::to_string(year) + "-01-01", zone);
    const auto end = ParseLocalTime(std::to_string(year + 1) + "-01-01", zone);
    if (!begin || !end) return Status::BadInput("--year: " + std::to_string(year) + " is out of range");
    if (*begin > now.instant)
      return Status::BadInput("--year: " + std::to_string(year) + " has not begun (today is " +
                              FormatDate(now.today) + ")");
    // The year under way is counted up to now.
    const Instant cut_at = std::min(*end, now.instant);
    std::string start = FormatInstant(*begin), cut = FormatInstant(cut_at);
    const std::string cut_day = FormatDate(LocalDate(cut_at, zone));
    const std::string first_day = std::to_string(year) + "-01-01", last_day = std::to_string(year) + "-12-31";
    long long y = year;
    AnnualFigures f;
    f.year = year;
    // One statement, each step materialised once: the pairs' history before
    // the cut (H), one summary row per pair (S), the pairs the year concerns
    // (Y: at work in it, or ended in it), the changes of the fields the
    // figures read, parsed only from the entries that hold them (C); then
    // every figure as a row (what, key, n).
    const std::string sql = std::string(kParams) +
        ", H AS MATERIALIZED (SELECT h.instance, h.seq, h.at, h.event, h.from_state, h.to_state, h.changes"
        " FROM history h JOIN instances i ON i.id = h.instance CROSS JOIN K"
        " WHERE i.workflow = '" + kPairWorkflow + "' AND h.at < K.c),"
        " S AS MATERIALIZED (SELECT H.instance,"
        " MIN(CASE WHEN H.to_state = 'active' THEN H.at END) AS formed_at,"
        " MIN(CASE WHEN H.to_state IN ('completed', 'terminated') THEN H.at END) AS ended_at,"
        " MIN(CASE WHEN H.to_state IN ('completed', 'terminated') THEN H.seq END) AS end_seq,"
        " MAX(CASE WHEN H.to_state IN ('completed', 'terminated') THEN H.to_state END) AS end_state,"
        " MAX(CASE WHEN H.event = 'change_signed' AND H.to_state = 'active' AND H.at >= K.s THEN 1 ELSE 0 END)"
        " AS extended FROM H CROSS JOIN K GROUP BY H.instance),"
        " Y AS MATERIALIZED (SELECT S.instance, S.formed_at, S.ended_at, S.end_seq, S.end_state, S.extended,"
        " CASE WHEN S.formed_at IS NOT NULL AND (S.ended_at IS NULL OR S.ended_at >= K.s) THEN 1 ELSE 0 END AS at_work,"
        " CASE WHEN S.ended_at >= K.s THEN 1 ELSE 0 END AS ended_in_year"
        " FROM S CROSS JOIN K WHERE (S.formed_at IS NOT NULL AND S.ended_at IS NULL) OR S.ended_at >= K.s),"
        " HY AS (SELECT H.* FROM H JOIN Y ON Y.instance = H.instance WHERE H.changes LIKE '%\"field\":\"mentor\"%'"
        " OR H.changes LIKE '%\"field\":\"mentee\"%' OR H.changes LIKE '%\"field\":\"form\"%'"
        " OR H.changes LIKE '%\"field\":\"kind\"%' OR H.changes LIKE '%\"field\":\"termination\"%'),"
        " C AS MATERIALIZED (SELECT * FROM (" + ChangesSelect(sqlite_, "HY") + ") X"
        " WHERE X.field IN ('mentor', 'mentee', 'form', 'kind', 'termination')),"
        " L AS (SELECT C.instance, C.field, C.after, ROW_NUMBER() OVER (PARTITION BY C.instance, C.field"
        " ORDER BY C.seq DESC) AS rn FROM C WHERE C.field IN ('form', 'kind')),"
        " N AS (SELECT C.instance, C.field, C.after, LEAD(C.at) OVER (PARTITION BY C.instance, C.field"
        " ORDER BY C.seq) AS next_at FROM C WHERE C.field IN ('mentor', 'mentee')),"
        " W AS MATERIALIZED (SELECT DISTINCT N.field, N.after FROM N JOIN Y ON Y.instance = N.instance CROSS JOIN K"
        " WHERE Y.at_work = 1 AND N.after IS NOT NULL"
        " AND (N.next_at IS NULL OR (N.next_at >= K.s AND N.next_at > Y.formed_at)))"
        " SELECT 'formed', '', CAST(COUNT(*) AS DOUBLE PRECISION) FROM S CROSS JOIN K WHERE S.formed_at >= K.s"
        " UNION ALL SELECT 'active', '', CAST(COUNT(*) AS DOUBLE PRECISION) FROM Y WHERE at_work = 1"
        " UNION ALL SELECT 'ended', end_state, CAST(COUNT(*) AS DOUBLE PRECISION) FROM Y WHERE ended_in_year = 1"
        " GROUP BY end_state"
        " UNION ALL SELECT 'extended', '', CAST(COUNT(*) AS DOUBLE PRECISION) FROM Y WHERE extended = 1"
        " UNION ALL SELECT 'mean_days', '', CAST(AVG(" + (sqlite_ ? std::string("julianday(ended_at) - julianday(formed_at)")
        : std::string("EXTRACT(EPOCH FROM (CAST(ended_at AS timestamptz) - CAST(formed_at AS timestamptz))) / 86400.0")) +
        ") AS DOUBLE PRECISION) FROM Y WHERE ended_in_year = 1 AND end_state = 'completed' AND formed_at IS NOT NULL"
        " UNION ALL SELECT 'reason', COALESCE(C.after, 'unspecified'), CAST(COUNT(*) AS DOUBLE PRECISION) FROM Y"
        " LEFT JOIN C ON C.instance = Y.instance AND C.seq = Y.end_seq AND C.field = 'termination'"
        " WHERE Y.ended_in_year = 1 AND Y.end_state = 'terminated' GROUP BY COALESCE(C.after, 'unspecified')"
        " UNION ALL SELECT L.field, L.after, CAST(COUNT(*) AS DOUBLE PRECISION) FROM L JOIN Y ON Y.instance = L.instance"
        " WHERE Y.at_work = 1 AND L.rn = 1 AND L.after IS NOT NULL GROUP BY L.field, L.after"
        " UNION ALL SELECT W.field, '', CAST(COUNT(*) AS DOUBLE PRECISION) FROM W GROUP BY W.field"
        " UNION ALL SELECT 'minors', '', CAST(COUNT(*) AS DOUBLE PRECISION) FROM W JOIN people p ON p.id = W.after"
        " LEFT JOIN person_data d ON d.id = p.id CROSS JOIN K"
        " WHERE W.field = 'mentee' AND K.y - COALESCE(p.birth_year, CAST(SUBSTR(d.birth, 1, 4) AS INTEGER)) < 18";
    spdlog::debug("stats annual {}: {}", year, sql);
    // PostgreSQL cannot estimate the size of a materialised step and would
    // join them in nested loops (quadratic in the pairs); hash joins instead,
    // for this statement only.
    struct NoNestedLoops {
      soci::session* s;
      explicit NoNestedLoops(soci::session* session) : s(session) {
        if (s) *s << "SET enable_nestloop = off";
      }
      ~NoNestedLoops() {
        try {
          if (s) *s << "RESET enable_nestloop";
        } catch (...) {  // the session is failing anyway; its error is reported
        }
      }
    } no_nested_loops(sqlite_ ? nullptr : sql_.get());
    {
      soci::rowset<soci::row> rs = (sql_->prepare << sql, soci::use(start, "start"), soci::use(cut, "cut"),
                                    soci::use(first_day, "first"), soci::use(last_day, "last"),
                                    soci::use(cut_day, "today"), soci::use(y, "year"));
      for (const auto& r : rs) {
        const std::string what = RowText(r, 0), key = RowText(r, 1);
        if (r.get_indicator(2) != soci::i_ok) continue;  // an average of nothing
        double v = 0;
        switch (r.get_properties(2).get_data_type()) {  // SQLite reports what the first row held
          case soci::dt_double: v = r.get<double>(2); break;
          case soci::dt_string: v = std::stod(r.get<std::string>(2)); break;
          default: v = static_cast<double>(RowInt(r, 2));
        }
        const auto n = static_cast<long long>(std::llround(v));
        if (what == "formed") f.formed = n;
        else if (what == "active") f.active = n;
        else if (what == "ended") (key == "completed" ? f.completed : f.terminated) = n;
        else if (what == "extended") f.extended = n;
        else if (what == "mean_days") f.mean_days_completed = std::round(v * 10) / 10;
        else if (what == "reason") f.terminated_by_reason[key] = n;
        else if (what == "form") f.by_form[key] = n;
        else if (what == "kind") f.by_kind[key] = n;
        else if (what == "mentor") f.mentors = n;
        else if (what == "mentee") f.mentees = n;
        else if (what == "minors") f.mentees_minors = n;
      }
    }
    // Monitoring cycles due in the year, as they stood at its end: each
    // period date in the year that has passed (or was reported already).
    {
      const std::string mon_changes =
          std::string(kParams) + ", H AS (SELECT h.instance, h.seq, h.at, h.event, h.from_state, h.changes FROM history h"
                      " JOIN instances i ON i.id = h.instance, K WHERE i.workflow = '" +
          kMonitoringWorkflow + "' AND h.at < K.c), C AS (" + ChangesSelect(sqlite_, "H") + ")";
      long long due = 0, on_time = 0, late = 0;
      *sql_ << mon_changes +
                   ", P AS (SELECT DISTINCT instance, after AS due FROM C, K WHERE field = 'period'"
                   " AND after >= K.first_day AND after <= K.last_day),"
                   " R AS (SELECT C.instance, C.after AS due, MIN(CASE WHEN H.from_state = 'collecting' THEN 1 ELSE 0 END)"
                   " AS on_time FROM C JOIN H ON H.instance = C.instance AND H.seq = C.seq"
                   " WHERE C.field = 'reported_period' AND H.event = 'submit' GROUP BY C.instance, C.after),"
                   " Q AS (SELECT P.instance, P.due, R.on_time FROM P LEFT JOIN R ON R.instance = P.instance"
                   " AND R.due = P.due, K WHERE P.due < K.today OR R.due IS NOT NULL)"
                   " SELECT (SELECT COUNT(*) FROM Q), (SELECT COUNT(*) FROM Q WHERE on_time = 1),"
                   " (SELECT COUNT(*) FROM Q WHERE on_time = 0)",
          soci::use(start, "start"), soci::use(cut, "cut"), soci::use(first_day, "first"),
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"), soci::into(due), soci::into(on_time), soci::into(late);
      f.monitoring_due = due, f.monitoring_on_time = on_time, f.monitoring_late = late;
      f.monitoring_missed = due - on_time - late;
    }
    // Every value the workflow declares is listed, zeros included, with its title.
    Status st;
    if (const int v = LatestVersion(kPairWorkflow); v > 0)
      if (const Definition* def = DefinitionFor(kPairWorkflow, v, &st))
        for (const auto& [field, group, map] :
             {std::tuple<const char*, const char*, std::map<std::string, long long>*>{"form", "by_form", &f.by_form},
              {"kind", "by_kind", &f.by_kind},
              {"termination", "terminated_by_reason", &f.terminated_by_reason}}) {
          const int i = def->FieldIndex(field);
          if (i < 0) continue;
          const FieldDef& fd = def->fields[i];
          for (size_t k = 0; k < fd.values.size(); ++k) {
            const std::string& title = k < fd.value_titles.size() ? fd.value_titles[k] : "";
            map->emplace(fd.values[k], 0);
            f.declared.push_back({group, fd.values[k], title.empty() ? fd.values[k] : title});
          }
        }
    *out = std::move(f);
    return Status::Ok();
  }
}

}  // namespace storage
}  // namespace mentorflow
