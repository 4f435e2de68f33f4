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
#include <cmath>

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
  const std::string prefix = group + ".";
  for (const auto& key : value_order)
    if (key.rfind(prefix, 0) == 0) {
      const std::string value = key.substr(prefix.size());
      auto it = m.find(value);
      out.push_back({value, value_titles.at(key), it == m.end() ? 0 : it->second});
    }
  for (const auto& [value, n] : m)
    if (!value_titles.count(prefix + value)) out.push_back({value, value, n});
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

// `C`, the field changes of the history entries in `H`, is where the two
// backends' JSON functions differ; the rest is common SQL.
std::string ChangesCte(bool sqlite) {
  if (sqlite)
    return "C AS (SELECT h.instance, h.seq, h.at, json_extract(j.value, '$.field') AS field,"
           " json_extract(j.value, '$.after') AS after FROM H h, json_each(h.changes) j"
           " WHERE h.changes <> '[]')";
  return "C AS (SELECT h.instance, h.seq, h.at, j.value->>'field' AS field, j.value->>'after' AS after"
         " FROM H h CROSS JOIN LATERAL jsonb_array_elements(CAST(h.changes AS jsonb)) AS j(value)"
         " WHERE h.changes <> '[]')";
}

// The pairs' history before the cut, when each was formed and ended, and
// which were at work in the year (formed before its end, not ended before it began).
std::string PairCtes() {
  return std::string(kParams) +
         ", H AS (SELECT h.instance, h.seq, h.at, h.event, h.from_state, h.to_state, h.changes"
         " FROM history h JOIN instances i ON i.id = h.instance, K WHERE i.workflow = '" +
         kPairWorkflow +
         "' AND h.at < K.c),"
         " F AS (SELECT instance, MIN(at) AS at FROM H WHERE to_state = 'active' GROUP BY instance),"
         " E AS (SELECT instance, seq, at, to_state FROM H WHERE to_state IN ('completed', 'terminated')"
         " AND (from_state IS NULL OR from_state NOT IN ('completed', 'terminated'))),"
         " A AS (SELECT F.instance, F.at AS formed_at FROM F LEFT JOIN E ON E.instance = F.instance"
         ", K WHERE E.at IS NULL OR E.at >= K.s)";
}

}  // namespace

Status SociStore::AnnualStatistics(int year, const Now& now, AnnualFigures* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
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
    const std::string pairs = PairCtes(), changes = ", " + ChangesCte(sqlite_);

    long long y = year;
    AnnualFigures f;
    f.year = year;
    long long n1 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0;
    *sql_ << pairs + " SELECT (SELECT COUNT(*) FROM F, K WHERE at >= K.s),"
                     " (SELECT COUNT(*) FROM A),"
                     " (SELECT COUNT(*) FROM E, K WHERE to_state = 'completed' AND at >= K.s),"
                     " (SELECT COUNT(*) FROM E, K WHERE to_state = 'terminated' AND at >= K.s),"
                     " (SELECT COUNT(DISTINCT instance) FROM H, K WHERE event = 'change_signed'"
                     "  AND to_state = 'active' AND at >= K.s)",
        soci::use(start, "start"), soci::use(cut, "cut"), soci::use(first_day, "first"),
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"), soci::into(n1), soci::into(n2), soci::into(n3),
        soci::into(n4), soci::into(n5);
    f.formed = n1, f.active = n2, f.completed = n3, f.terminated = n4, f.extended = n5;

    // Mean days from formation to completion, of the pairs completed in the year.
    const std::string days = sqlite_ ? "(julianday(E.at) - julianday(F.at))"
                                     : "(EXTRACT(EPOCH FROM (CAST(E.at AS timestamptz) - CAST(F.at AS timestamptz)))"
                                       " / 86400.0)";
    double mean = 0;
    soci::indicator mi = soci::i_null;
    *sql_ << pairs + " SELECT AVG(" + days + ") FROM E JOIN F ON F.instance = E.instance, K"
                     " WHERE E.to_state = 'completed' AND E.at >= K.s",
        soci::use(start, "start"), soci::use(cut, "cut"), soci::use(first_day, "first"),
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"), soci::into(mean, mi);
    if (mi == soci::i_ok) f.mean_days_completed = std::round(mean * 10) / 10;

    // Terminations by the reason recorded with them.
    {
      soci::rowset<soci::row> rs =
          (sql_->prepare << pairs + changes +
                                " SELECT COALESCE(C.after, 'unspecified'), COUNT(*) FROM E"
                                " LEFT JOIN C ON C.instance = E.instance AND C.seq = E.seq AND C.field = 'termination', K"
                                " WHERE E.to_state = 'terminated' AND E.at >= K.s GROUP BY COALESCE(C.after, 'unspecified')",
           soci::use(start, "start"), soci::use(cut, "cut"), soci::use(first_day, "first"),
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"));
      for (const auto& r : rs) f.terminated_by_reason[r.get<std::string>(0)] = RowInt(r, 1);
    }
    // Form and kind of each pair at work: the last value recorded.
    {
      soci::rowset<soci::row> rs =
          (sql_->prepare << pairs + changes +
                                ", V AS (SELECT C.field, C.after, ROW_NUMBER() OVER (PARTITION BY C.instance, C.field"
                                " ORDER BY C.seq DESC) AS rn FROM C JOIN A ON A.instance = C.instance"
                                " WHERE C.field IN ('form', 'kind'))"
                                " SELECT field, after, COUNT(*) FROM V WHERE rn = 1 AND after IS NOT NULL"
                                " GROUP BY field, after",
           soci::use(start, "start"), soci::use(cut, "cut"), soci::use(first_day, "first"),
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"));
      for (const auto& r : rs)
        (r.get<std::string>(0) == "form" ? f.by_form : f.by_kind)[r.get<std::string>(1)] = RowInt(r, 2);
    }
    // People: each value of `mentor` and `mentee` that held while its pair
    // was at work in the year (a replaced mentor counts when replaced after
    // the pair was formed and after the year began). Minors: under 18 on
    // 31 December, from the year of birth (kept for erased people).
    {
      const std::string birth_year =
          "COALESCE(p.birth_year, CAST(SUBSTR(d.birth, 1, 4) AS INTEGER))";
      long long mentors = 0, mentees = 0, minors = 0;
      *sql_ << pairs + changes +
                   ", S AS (SELECT C.instance, C.field, C.after, LEAD(C.at) OVER (PARTITION BY C.instance, C.field"
                   " ORDER BY C.seq) AS next_at FROM C WHERE C.field IN ('mentor', 'mentee')),"
                   " W AS (SELECT DISTINCT S.field, S.after FROM S JOIN A ON A.instance = S.instance, K"
                   " WHERE S.after IS NOT NULL AND (S.next_at IS NULL OR (S.next_at >= K.s AND S.next_at > A.formed_at)))"
                   " SELECT (SELECT COUNT(*) FROM W WHERE field = 'mentor'),"
                   " (SELECT COUNT(*) FROM W WHERE field = 'mentee'),"
                   " (SELECT COUNT(*) FROM W JOIN people p ON p.id = W.after LEFT JOIN person_data d ON d.id = p.id, K"
                   "  WHERE W.field = 'mentee' AND K.y - " + birth_year + " < 18)",
          soci::use(start, "start"), soci::use(cut, "cut"), soci::use(first_day, "first"),
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"), soci::use(y, "year"), soci::into(mentors),
          soci::into(mentees), soci::into(minors);
      f.mentors = mentors, f.mentees = mentees, f.mentees_minors = minors;
    }
    // Monitoring cycles due in the year, as they stood at its end: each
    // period date in the year that has passed (or was reported already).
    {
      const std::string mon_changes =
          std::string(kParams) + ", H AS (SELECT h.instance, h.seq, h.at, h.event, h.from_state, h.changes FROM history h"
                      " JOIN instances i ON i.id = h.instance, K WHERE i.workflow = '" +
          kMonitoringWorkflow + "' AND h.at < K.c), " + ChangesCte(sqlite_);
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
        for (const auto& [field, map] : {std::pair<const char*, std::map<std::string, long long>*>{"form", &f.by_form},
                                         {"kind", &f.by_kind},
                                         {"termination", &f.terminated_by_reason}}) {
          const int i = def->FieldIndex(field);
          if (i < 0) continue;
          const std::string prefix = map == &f.by_form ? "by_form." : map == &f.by_kind ? "by_kind." : "terminated_by_reason.";
          const FieldDef& fd = def->fields[i];
          for (size_t k = 0; k < fd.values.size(); ++k) {
            const std::string& title = k < fd.value_titles.size() ? fd.value_titles[k] : "";
            map->emplace(fd.values[k], 0);
            f.value_titles[prefix + fd.values[k]] = title.empty() ? fd.values[k] : title;
            f.value_order.push_back(prefix + fd.values[k]);
          }
        }
    *out = std::move(f);
    return Status::Ok();
  }
}

}  // namespace storage
}  // namespace mentorflow
