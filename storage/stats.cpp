// The annual figures (`stats annual`), aggregated in the database: the pair
// figures from the pairs' facts (pair_facts.cpp: derived from the history,
// kept with each entry, a row for each span of a pair's values), the
// monitoring from the history itself. Only what happened before the year's
// end (or before now, for the year under way) is read, so a past year reads
// the same after later events. Nothing here loads instances into memory.
//
// What the figures read, in the shipped workflows' terms:
//   mentoring_pair: a pair is formed when it first enters `active`, ends when
//   it enters `completed` or `terminated` (the reason: the `termination` value
//   recorded by that entry), is extended when a re-signed agreement of an
//   extension takes effect (`change_signed` into `active`); its people are
//   the values its `mentor` and `mentee` fields held while it was at work in
//   the year; its form and kind are the ones it had at the year's end (or
//   when it ended).
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
  for (const auto& kv : m)  // not a structured binding: C++17 lambdas cannot capture one (clang refuses)
    if (std::none_of(out.begin(), out.end(), [&](const Entry& e) { return e.value == kv.first; }))
      out.push_back({kv.first, kv.first, kv.second});
  return out;
}

namespace storage {
namespace {

// Each value is bound once, into the one-row `K` (SOCI's backends differ on
// a placeholder named twice): s, c the year's first instant and the cut
// (UTC, as history stores them), first, last its first and last day, today
// the cut's date, y the year.
constexpr const char* kParams =
    "WITH K AS (SELECT CAST(:start AS TEXT) AS s, CAST(:cut AS TEXT) AS c, CAST(:first AS TEXT) AS first_day,"
    " CAST(:last AS TEXT) AS last_day, CAST(:today AS TEXT) AS today, CAST(:year AS INTEGER) AS y,"
    " CAST(:an AS TEXT) AS an, CAST(:av AS TEXT) AS av)";

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

Status SociStore::AnnualBreakdownBy(int year, const std::string& attribute, const Now& now, AnnualBreakdown* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (sqlite_ && !in_tx_) *sql_ << "PRAGMA temp_store = FILE";
    Tx tx(*this);  // one snapshot for every part
    const auto declared = DeclaredAttributes();
    Status unknown;
    const AttributeDef* a = FindAttribute(declared, "--by", attribute, &unknown);
    if (!a) return unknown;
    out->attribute = attribute;
    out->title = a->field.title.empty() ? attribute : a->field.title;
    if (Status s = AnnualFiguresUnlocked(year, now, &out->total); !s.ok()) return s;
    std::vector<std::pair<std::string, std::string>> values;  // value, title
    const FieldDef& f = a->field;
    if (f.type == FieldType::kEnum) {
      for (size_t i = 0; i < f.values.size(); ++i)
        values.push_back({f.values[i], i < f.value_titles.size() && !f.value_titles[i].empty() ? f.value_titles[i] : f.values[i]});
    } else {
      soci::rowset<std::string> rs = (sql_->prepare << "SELECT DISTINCT value FROM person_attributes WHERE institution = " +
                                                       I() + " AND name = :n ORDER BY value",
                                      soci::use(attribute));
      for (const auto& v : rs) values.push_back({v, v});
    }
    values.push_back({"", ""});
    for (size_t i = 0; i < values.size(); ++i) {
      AnnualBreakdown::Part part;
      part.value = values[i].first;
      part.title = values[i].second;
      const std::pair<std::string, std::string> slice{attribute, part.value};
      const std::optional<AttributeTarget> coverage =
          f.type == FieldType::kEnum && i < a->coverage.size() ? a->coverage[i] : std::nullopt;
      const std::string units = coverage && !part.value.empty() ? coverage->counting : "";
      if (Status s = AnnualFiguresUnlocked(year, now, &part.figures, &slice, units, &part.covered_units); !s.ok())
        return s;
      part.figures.monitoring_due = part.figures.monitoring_on_time = part.figures.monitoring_late =
          part.figures.monitoring_missed = 0;
      if (!part.value.empty()) {
        *sql_ << "SELECT COUNT(*) FROM person_attributes a JOIN person_roles r ON r.institution = a.institution"
                 " AND r.person = a.person AND r.role = 'mentee' JOIN people p ON p.institution = a.institution"
                 " AND p.id = a.person WHERE a.institution = " + I() +
                     " AND a.name = :n AND a.value = :v AND p.erased_at IS NULL",
            soci::into(part.registered_mentees), soci::use(attribute), soci::use(part.value);
        if (!units.empty())
          *sql_ << "SELECT COUNT(DISTINCT s.value) FROM person_attributes a JOIN person_roles r"
                   " ON r.institution = a.institution AND r.person = a.person AND r.role = 'mentee' JOIN people p"
                   " ON p.institution = a.institution AND p.id = a.person JOIN person_attributes s"
                   " ON s.institution = a.institution AND s.person = a.person AND s.name = :u WHERE a.institution = " +
                       I() + " AND a.name = :n AND a.value = :v AND p.erased_at IS NULL",
              soci::into(part.registered_units), soci::use(units), soci::use(attribute), soci::use(part.value);
        if (f.type == FieldType::kEnum) {
          part.share_target = a->share[i];
          part.coverage_target = coverage;
        }
      }
      out->parts.push_back(std::move(part));
    }
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::AnnualFiguresUnlocked(int year, const Now& now, AnnualFigures* out,
                                        const std::pair<std::string, std::string>* slice, const std::string& units,
                                        long long* unit_count) {
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
    // The year under way is counted up to now, what happened at now included
    // (instants are stored to the second: the cut is the next second).
    const Instant cut_at = std::min(*end, now.instant + std::chrono::seconds(1));
    std::string start = FormatInstant(*begin), cut = FormatInstant(cut_at);
    const std::string cut_day = FormatDate(LocalDate(cut_at, zone));
    const std::string first_day = std::to_string(year) + "-01-01", last_day = std::to_string(year) + "-12-31";
    long long y = year;
    AnnualFigures f;
    f.year = year;
    // The pairs the year concerns, from their facts (pair_facts.cpp) as they
    // stood at the cut: at work in it (formed before the cut, not ended before
    // the year) or ended in it. What happened after the cut is not seen.
    // A slice: the pairs whose mentee holds the attribute's value (or none).
    const std::string an = slice ? slice->first : "", av = slice ? slice->second : "";
    const std::string sliced =
        !slice ? ""
        : av.empty() ? " AND (f.mentee IS NULL OR f.mentee NOT IN (SELECT person FROM person_attributes WHERE"
                       " institution = " + I() + " AND name = K.an))"
                     : " AND f.mentee IN (SELECT person FROM person_attributes WHERE institution = " + I() +
                           " AND name = K.an AND value = K.av)";
    const std::string in_year =
        " FROM pair_facts f CROSS JOIN K WHERE f.institution = " + I() + " AND f.since < K.c AND ((f.formed_at < K.c AND (f.ended_at IS NULL"
        " OR f.ended_at >= K.s)) OR (f.ended_at >= K.s AND f.ended_at < K.c))" + sliced;
    const std::string days = sqlite_ ? "julianday(ended_at) - julianday(formed_at)"
                                     : "EXTRACT(EPOCH FROM (CAST(ended_at AS timestamptz) -"
                                       " CAST(formed_at AS timestamptz))) / 86400.0";
    // Every value the workflow declares is listed, zeros included, with its
    // title (and a value it no longer declares, if a pair holds one).
    Status st;
    if (const int v = LatestVersion(kPairWorkflow); v > 0)
      if (const Definition* def = DefinitionFor(kPairWorkflow, v, &st))
        for (const auto& [field, group, counts] :
             {std::tuple<const char*, const char*, std::map<std::string, long long>*>{"form", "by_form", &f.by_form},
              {"kind", "by_kind", &f.by_kind},
              {"termination", "terminated_by_reason", &f.terminated_by_reason}}) {
          const int i = def->FieldIndex(field);
          if (i < 0) continue;
          const FieldDef& fd = def->fields[i];
          for (size_t k = 0; k < fd.values.size(); ++k) {
            const std::string& title = k < fd.value_titles.size() ? fd.value_titles[k] : "";
            counts->emplace(fd.values[k], 0);
            f.declared.push_back({group, fd.values[k], title.empty() ? fd.values[k] : title});
          }
        }
    // One row for each kind of pair the figures tell apart (at work or not,
    // form, kind, how it ended, extended: a few hundred at most), from each
    // pair's row current at the cut, with the columns compared as stored;
    // summed into the figures below.
    const std::string groups = std::string(kParams) +
        " SELECT CASE WHEN f.formed_at < K.c THEN 1 ELSE 0 END, f.form, f.kind,"
        " CASE WHEN f.ended_at < K.c THEN f.end_state END, CASE WHEN f.ended_at < K.c THEN f.ground END,"
        " CASE WHEN f.extended_at >= K.s THEN 1 ELSE 0 END, CAST(COUNT(*) AS DOUBLE PRECISION),"
        " CAST(SUM(CASE WHEN f.formed_at >= K.s AND f.formed_at < K.c THEN 1 ELSE 0 END) AS DOUBLE PRECISION),"
        " CAST(SUM(CASE WHEN f.ended_at < K.c AND f.end_state = 'completed' AND f.formed_at < K.c THEN " + days +
        " END) AS DOUBLE PRECISION)," +
        " CAST(SUM(CASE WHEN f.ended_at < K.c AND f.end_state = 'completed' AND f.formed_at < K.c THEN 1 ELSE 0 END)"
        " AS DOUBLE PRECISION)" + in_year + " AND (f.until IS NULL OR f.until >= K.c) GROUP BY 1, 2, 3, 4, 5, 6";
    spdlog::debug("stats annual {}: {}", year, groups);
    auto number = [](const soci::row& r, std::size_t i) -> double {
      if (r.get_indicator(i) != soci::i_ok) return 0;
      switch (r.get_properties(i).get_data_type()) {  // SQLite reports what the first row held
        case soci::dt_double: return r.get<double>(i);
        case soci::dt_string: return std::stod(r.get<std::string>(i));
        default: return static_cast<double>(RowInt(r, i));
      }
    };
    double completed_days = 0, completed_n = 0;
    {
      soci::rowset<soci::row> rs = (sql_->prepare << groups, soci::use(start, "start"), soci::use(cut, "cut"),
                                    soci::use(first_day, "first"), soci::use(last_day, "last"),
                                    soci::use(cut_day, "today"), soci::use(y, "year"), soci::use(an, "an"),
                                    soci::use(av, "av"));
      for (const auto& r : rs) {
        const bool at_work = RowInt(r, 0) == 1;
        const std::string end_state = RowText(r, 3);
        const long long n = std::llround(number(r, 6));
        if (at_work) {
          f.active += n;
          if (r.get_indicator(1) == soci::i_ok) f.by_form[RowText(r, 1)] += n;
          if (r.get_indicator(2) == soci::i_ok) f.by_kind[RowText(r, 2)] += n;
        }
        if (RowInt(r, 5) == 1) f.extended += n;
        f.formed += std::llround(number(r, 7));
        if (end_state == "completed") f.completed += n;
        if (end_state == "terminated") {
          f.terminated += n;
          f.terminated_by_reason[r.get_indicator(4) == soci::i_ok ? RowText(r, 4) : "unspecified"] += n;
        }
        completed_days += number(r, 8);
        completed_n += number(r, 9);
      }
    }
    if (completed_n > 0) f.mean_days_completed = std::round(completed_days / completed_n * 10) / 10;
    // The people: each value the pair's `mentor` and `mentee` held while the
    // pair was at work in the year (rows current at some moment of it);
    // mentees under 18 on 31 December (an erased person's year of birth is
    // kept for this).
    const std::string held =
        " AND f.formed_at < K.c AND (f.ended_at IS NULL OR f.ended_at >= K.s)"
        " AND (f.until IS NULL OR (f.until >= K.s AND f.until > f.formed_at))";
    const std::string people = std::string(kParams) +
        " SELECT 'mentor', CAST(COUNT(DISTINCT f.mentor) AS DOUBLE PRECISION), CAST(0 AS DOUBLE PRECISION)" + in_year +
        held +
        " UNION ALL SELECT 'mentee', CAST(COUNT(*) AS DOUBLE PRECISION), CAST(SUM(CASE WHEN K.y - W.born < 18"
        " THEN 1 ELSE 0 END) AS DOUBLE PRECISION) FROM (SELECT DISTINCT f.mentee AS who, f.mentee_born AS born" +
        in_year + held + " AND f.mentee IS NOT NULL) W CROSS JOIN K";
    spdlog::debug("stats annual {}: {}", year, people);
    {
      soci::rowset<soci::row> rs = (sql_->prepare << people, soci::use(start, "start"), soci::use(cut, "cut"),
                                    soci::use(first_day, "first"), soci::use(last_day, "last"),
                                    soci::use(cut_day, "today"), soci::use(y, "year"), soci::use(an, "an"),
                                    soci::use(av, "av"));
      for (const auto& r : rs) {
        if (RowText(r, 0) == "mentor") {
          f.mentors = std::llround(number(r, 1));
        } else {
          f.mentees = std::llround(number(r, 1));
          f.mentees_minors = std::llround(number(r, 2));
        }
      }
    }
    if (unit_count && !units.empty()) {  // the schools (say) those mentees come from
      const std::string distinct = std::string(kParams) +
          " SELECT CAST(COUNT(DISTINCT a.value) AS DOUBLE PRECISION) FROM (SELECT DISTINCT f.mentee AS who" +
          in_year + held + " AND f.mentee IS NOT NULL) W JOIN person_attributes a ON a.institution = " + I() +
          " AND a.person = W.who AND a.name = :units";
      soci::rowset<soci::row> rs = (sql_->prepare << distinct, soci::use(start, "start"), soci::use(cut, "cut"),
                                    soci::use(first_day, "first"), soci::use(last_day, "last"),
                                    soci::use(cut_day, "today"), soci::use(y, "year"), soci::use(an, "an"),
                                    soci::use(av, "av"), soci::use(units, "units"));
      *unit_count = 0;
      for (const auto& r : rs) *unit_count = std::llround(number(r, 0));
    }
    // Monitoring cycles due in the year, as they stood at its end: each
    // period date in the year that has passed (or was reported already).
    {
      const std::string mon_changes =
          std::string(kParams) + ", H AS (SELECT h.instance, h.seq, h.at, h.event, h.from_state, h.changes FROM history h"
                      " JOIN instances i ON i.institution = h.institution AND i.id = h.instance, K WHERE h.institution = " +
          I() + " AND i.workflow = '" +
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
        soci::use(last_day, "last"), soci::use(cut_day, "today"), soci::use(y, "year"), soci::use(an, "an"),
        soci::use(av, "av"), soci::into(due), soci::into(on_time), soci::into(late);
      f.monitoring_due = due, f.monitoring_on_time = on_time, f.monitoring_late = late;
      f.monitoring_missed = due - on_time - late;
    }
    *out = std::move(f);
    return Status::Ok();
  }
}

}  // namespace storage
}  // namespace mentorflow
