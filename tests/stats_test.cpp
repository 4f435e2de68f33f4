// `stats monitoring` on the real store (both backends): a cycle's results as
// entered, on time or late, and the change from the cycle before, read from
// history; refusals for a malformed or uncovered period change nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "app/scenario.h"
#include "tests/schema_v15.h"
#include "tests/store_fixture.h"

namespace mentorflow {
namespace {

class StatsMonitoring : public testing::CliDatabase {};

TEST_P(StatsMonitoring, ACycleHasItsResultsTimelinessAndTheChangeSinceTheOneBefore) {
  auto m = Db("start monitoring --as c1", "2026-12-01");
  ASSERT_EQ(m.code, 0) << m.err;
  const std::string id = m.out.substr(0, m.out.find('\n'));
  // December on time.
  auto dec = Db("send " + id + " submit --as c1 --set report_url=https://example.org/m/12 --set respondents=16"
                " --set quality_score=3 --set pairs_total=6 --set pairs_met_plan=4 --set 'remarks=Мало встреч'",
                "2026-12-15");
  ASSERT_EQ(dec.code, 0) << dec.err;
  ASSERT_EQ(Db("tick", "2026-12-21").code, 0);  // the period closes, May opens
  // May late: overdue on the 21st, in on the 25th.
  ASSERT_EQ(Db("tick", "2027-05-21").code, 0);
  EXPECT_EQ(Json("show --as d1 " + id, "2027-05-21")["state"], "overdue");
  auto may = Db("send " + id + " submit --as c1 --set report_url=https://example.org/m/05 --set respondents=18"
                " --set quality_score=4 --set pairs_total=6 --set pairs_met_plan=5",
                "2027-05-25");
  ASSERT_EQ(may.code, 0) << may.err;

  auto h1 = Json("stats monitoring --period 2027-H1", "2027-05-26");
  EXPECT_EQ(h1["period"], "2027-H1");
  EXPECT_EQ(h1["due"], "2027-05-20");
  EXPECT_FALSE(h1["on_time"].get<bool>());
  EXPECT_EQ(h1["submitted_on"], "2027-05-25");
  EXPECT_EQ(h1["submitted"], "2027-05-24T20:00:00Z");
  EXPECT_EQ(h1["results"]["respondents"], 18);
  EXPECT_EQ(h1["results"]["quality_score"], 4);
  EXPECT_EQ(h1["results"]["pairs_met_plan"], 5);
  EXPECT_EQ(h1["results"]["remarks"], "Мало встреч") << "unchanged since December, still the period's remark";
  EXPECT_EQ(h1["previous"]["period"], "2026-H2");
  EXPECT_EQ(h1["delta"]["respondents"], 2);
  EXPECT_EQ(h1["delta"]["quality_score"], 1);
  EXPECT_EQ(h1["delta"]["pairs_total"], 0);
  EXPECT_EQ(h1["delta"]["pairs_met_plan"], 1);
  EXPECT_FALSE(h1["delta"].contains("remarks"));

  auto h2 = Json("stats monitoring --period 2026-H2", "2027-05-26");
  EXPECT_EQ(h2["due"], "2026-12-20");
  EXPECT_TRUE(h2["on_time"].get<bool>());
  EXPECT_EQ(h2["results"]["quality_score"], 3);
  EXPECT_TRUE(h2["previous"].is_null());
  EXPECT_TRUE(h2["delta"].empty());

  // A later change does not alter a past cycle.
  ASSERT_EQ(Db("tick", "2027-12-21").code, 0);
  ASSERT_EQ(Db("send " + id + " submit --as c1 --set report_url=x --set respondents=1 --set quality_score=1"
               " --set pairs_total=1 --set pairs_met_plan=0",
               "2027-12-28")
                .code,
            0);
  EXPECT_EQ(Json("stats monitoring --period 2027-H1", "2027-12-29"), h1);

  // The text form says the same in lines.
  auto text = Db("stats monitoring --period 2027-H1", "2027-12-29");
  EXPECT_EQ(text.code, 0);
  // The day it came in, in the institution's zone (Saratov, UTC+4: the
  // instant stored is the evening before in UTC).
  EXPECT_NE(text.out.find("monitoring 2027-H1 (due 2027-05-20): submitted 2027-05-25, late"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("late"), std::string::npos);
  EXPECT_NE(text.out.find("respondents: 18  (+2 since 2026-H2)"), std::string::npos) << text.out;

  // Refusals.
  auto bad = Db("stats monitoring --period 2027-H3", "2027-12-29");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("expected YEAR-H1"), std::string::npos) << bad.err;
  auto none = Db("stats monitoring --period 2025-H1", "2027-12-29");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no monitoring report covers 2025-H1"), std::string::npos) << none.err;
  EXPECT_EQ(Db("stats monitoring", "2027-12-29").code, 1);  // --period is required
}

INSTANTIATE_TEST_SUITE_P(Backends, StatsMonitoring, ::testing::Values("sqlite", "postgresql"));

// `stats annual` from the command line: the formats a curator hands on (the
// figures themselves are checked over two years in
// tests/scenarios/annual_statistics.yaml), and its refusals.
class StatsAnnual : public testing::CliDatabase {
 protected:
  // Runs /usr/bin/python3 on `script` with `input` as a file; its stdout.
  std::string Python(const std::string& script, const std::string& input) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("mf-stats-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "in") << input;
    std::ofstream(dir / "check.py") << script;
    std::string out;
    if (FILE* p = popen(("/usr/bin/python3 " + (dir / "check.py").string() + " " + (dir / "in").string() + " 2>&1").c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
      pclose(p);
    }
    fs::remove_all(dir);
    return out;
  }
  // One pair formed on 1 October 2026 (a minor, with a guardian), a monitoring report on time.
  void OnePair() {
    ProgrammeAtWork();
    for (const std::string& step :
         {std::string("person add m1" MF_PAPERS " --as c1 --name 'Анна Смирнова' --role mentor --birth 1995-02-03"),
          std::string("person add g1" MF_PAPERS " --as c1 --name 'Ирина Волкова' --role guardian --birth 1984-05-06"),
          std::string("person add s1" MF_PAPERS " --as c1 --name 'Петя Волков' --role mentee --birth 2012-04-01 --guardian g1"),
          std::string("consent sign m1 --as m1"), std::string("consent sign g1 --as g1"), std::string("consent sign s1 --as g1"), std::string("consent sign s1 --as s1")}) {
      auto r = Db(step, "2026-09-01");
      ASSERT_EQ(r.code, 0) << step << ": " << r.err;
    }
    auto p = Db("start mentoring_pair --as c1 --set mentor=m1 --set mentee=s1 --set guardian=g1 --set form=virtual"
                " --set kind=counsellor_pupil",
                "2026-09-20");
    ASSERT_EQ(p.code, 0) << p.err;
    const std::string id = p.out.substr(0, p.out.find('\n'));
    AgreedPlan(id, "m1", "s1", "2026-10-01");
    for (const std::string& step : {"send " + id + " submit --as c1", "doc sign " + id + ":agreement --as m1",
                                    "doc sign " + id + ":agreement --as g1", "doc sign " + id + ":agreement --as s1",
                                    "doc sign " + id + ":duties_consent --as m1",
                                    "send " + id + " ready --as c1", std::string("doc issue order_assign_pairs --as c1"),
                                    std::string("doc sign 1/2026 --as d1")}) {
      auto r = Db(step, "2026-10-01");
      ASSERT_EQ(r.code, 0) << step << ": " << r.err;
    }
    // The monitoring the programme started by itself at stage 2.
    std::string mon;
    for (const auto& i : nlohmann::json::parse(Db("list --json", "2026-10-01").out))
      if (i["workflow"] == "monitoring") mon = i["id"];
    ASSERT_FALSE(mon.empty());
    ASSERT_EQ(Db("send " + mon + " submit --as c1 --set report_url=https://example.org/m --set respondents=5"
                 " --set quality_score=4 --set pairs_total=1 --set pairs_met_plan=1", "2026-12-10").code, 0);
  }
};

// Issue 23, finding 13: the year under way counts what happened at the very
// moment of --now (the order signed at 00:00 of 1 October forms the pair).
TEST_P(StatsAnnual, TheYearUnderWayCountsAPairFormedAtNow) {
  OnePair();
  auto at = Json("stats annual --year 2026", "2026-10-01");
  EXPECT_EQ(at["pairs"]["formed"], 1) << at.dump();
  EXPECT_EQ(at["mentees"], 1) << at.dump();
}

// Issue 23, finding 10: a value a spreadsheet would run as a formula (an
// attribute `=HYPERLINK(...)`) reaches the CSV as text, never as a formula.
TEST_P(StatsAnnual, CsvCellsAreNeverFormulas) {
  OnePair();
  ASSERT_EQ(Db("person update s1 --as c1 --attr 'municipality==HYPERLINK(\"http://evil.example\",\"x\")'",
               "2026-12-20").code, 0);
  auto csv = Db("stats annual --year 2026 --by municipality --format csv", "2027-01-10");
  ASSERT_EQ(csv.code, 0) << csv.err;
  ASSERT_NE(csv.out.find("HYPERLINK"), std::string::npos) << csv.out;
  const std::string cells = Python(
      "import csv, sys\n"
      "for row in csv.reader(open(sys.argv[1], encoding='utf-8', newline='')):\n"
      "  for c in row:\n"
      "    if c[:1] in ('=', '+', '-', '@', '\\t', '\\r'): print('FORMULA', c)\n"
      "    if 'HYPERLINK' in c: print('CELL', c)\n",
      csv.out);
  EXPECT_EQ(cells.find("FORMULA"), std::string::npos) << cells;
  EXPECT_NE(cells.find("CELL '=HYPERLINK"), std::string::npos) << cells;
}

TEST_P(StatsAnnual, CsvParsesAsATableWithRussianTitlesAndOneFigurePerRow) {
  ASSERT_NO_FATAL_FAILURE(OnePair());
  auto csv = Db("stats annual --year 2026 --format csv", "2027-01-10");
  ASSERT_EQ(csv.code, 0) << csv.err;
  // Every row has three cells; the figures are where the JSON says.
  const std::string out = Python(
      "import csv, json, sys\n"
      "rows = list(csv.reader(open(sys.argv[1], encoding='utf-8', newline='')))\n"
      "print(json.dumps({'header': rows[0], 'widths': sorted({len(r) for r in rows}),"
      " 'rows': {r[0]: [r[1], r[2]] for r in rows[1:]}}, ensure_ascii=False))\n",
      csv.out);
  auto t = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(t.is_discarded()) << out;
  EXPECT_EQ(t["header"], nlohmann::json({"Код показателя", "Показатель", "Значение"}));
  EXPECT_EQ(t["widths"], nlohmann::json({3}));
  EXPECT_EQ(t["rows"]["year"][1], "2026");
  EXPECT_EQ(t["rows"]["pairs.formed"][1], "1");
  EXPECT_EQ(t["rows"]["mentees_minors"][1], "1");
  EXPECT_EQ(t["rows"]["by_form.virtual"], nlohmann::json({"Пар в форме «Виртуальное (дистанционное) наставничество»", "1"}));
  EXPECT_EQ(t["rows"]["by_kind.counsellor_pupil"][1], "1");
  EXPECT_EQ(t["rows"]["terminated_by_reason.mutual"][0], "Прекращено — по обоюдному решению");
  EXPECT_EQ(t["rows"]["monitoring.on_time"][1], "1");
  EXPECT_EQ(t["rows"]["mean_days_completed"][1], "") << "no pair completed: no mean";
  // A title with a comma is quoted, so it stays one cell.
  EXPECT_EQ(t["rows"]["mentors"][0], "Наставников (человек), работавших в парах в течение года");
  // No personal data in any form.
  for (const char* format : {"csv", "html", "json", "text"}) {
    auto r = Db(std::string("stats annual --year 2026 --format ") + format, "2027-01-10");
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* pd : {"Смирнова", "Волков", "2012", "m1", "s1", "g1"})
      EXPECT_EQ(r.out.find(pd), std::string::npos) << format << " prints " << pd;
  }
}

TEST_P(StatsAnnual, HtmlIsACompletePageWithWellFormedSvgCharts) {
  ASSERT_NO_FATAL_FAILURE(OnePair());
  auto html = Db("stats annual --year 2026 --format html", "2027-01-10");
  ASSERT_EQ(html.code, 0) << html.err;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.out.find("</html>"), std::string::npos);
  EXPECT_EQ(html.out.find("<script"), std::string::npos);
  // The whole page parses as XML (the template writes XHTML), and so does
  // each SVG: three charts, with as many bars as values.
  const std::string out = Python(
      "import sys, json, xml.etree.ElementTree as ET\n"
      "text = open(sys.argv[1], encoding='utf-8').read()\n"
      "root = ET.fromstring(text.split('\\n', 1)[1])\n"
      "ns = '{http://www.w3.org/2000/svg}'\n"
      "svgs = [s for s in root.iter(ns + 'svg')]\n"
      "print(json.dumps({'charts': [{'title': s.find(ns + 'title').text,"
      " 'bars': [int(float(r.get('width'))) for r in s.iter(ns + 'rect')]} for s in svgs]}, ensure_ascii=False))\n",
      html.out);
  auto t = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(t.is_discarded()) << out;
  ASSERT_EQ(t["charts"].size(), 3u) << out;
  EXPECT_EQ(t["charts"][0]["title"], "Пары по формам наставничества");
  EXPECT_EQ(t["charts"][0]["bars"].size(), 5u);  // the five forms
  EXPECT_EQ(t["charts"][1]["bars"].size(), 6u);  // the six pair kinds
  EXPECT_EQ(t["charts"][2]["bars"], nlohmann::json({300, 0, 0}));  // on time (the largest), late, missed
  EXPECT_NE(html.out.find("Центр «Радуга»"), std::string::npos);
}

TEST_P(StatsAnnual, RefusesAYearNotBegunABadFormatAndAMissingYear) {
  auto json = Json("stats annual --year 2026", "2026-11-01");
  EXPECT_EQ(json["pairs"]["formed"], 0);
  EXPECT_TRUE(json["mean_days_completed"].is_null());
  auto future = Db("stats annual --year 2027", "2026-11-01");
  EXPECT_EQ(future.code, 1);
  EXPECT_NE(future.err.find("2027 has not begun"), std::string::npos) << future.err;
  auto bad = Db("stats annual --year 2026 --format xls", "2026-11-01");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("xls"), std::string::npos) << bad.err;
  EXPECT_EQ(Db("stats annual", "2026-11-01").code, 1);
  auto old = Db("stats annual --year 1800", "2026-11-01");
  EXPECT_EQ(old.code, 1);
  EXPECT_NE(old.err.find("--year"), std::string::npos) << old.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, StatsAnnual, ::testing::Values("sqlite", "postgresql"));

// What the figures read about each pair (pair_facts) is kept with every
// history entry; a database from before (schema 8) gets it from its history
// when `init` upgrades it. Both ways give the same rows and the same figures,
// over the constructed two years (extensions, every ground, an erasure).
class PairFacts : public ::testing::TestWithParam<std::string> {};

std::string FactRows(const std::string& url) {
  const std::string dump = testing::DumpTables(url);
  const auto from = dump.find("## pair_facts");
  return dump.substr(from, dump.find("## ", from + 3) - from);
}

TEST_P(PairFacts, RebuiltFromTheHistoryTheyEqualThoseKeptAlongside) {
  if (GetParam() == "postgresql" && testing::PostgresAdminUrl().empty()) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "CI=true: PostgreSQL tests must run";
    GTEST_SKIP() << "MENTORFLOW_TEST_PG not set";
  }
  testing::TestDatabase db(GetParam(), "pair_facts_rebuilt");
  ASSERT_TRUE(db.available()) << db.why_not();
  auto report = RunScenarioFile(testing::SourcePath("tests/scenarios/annual_statistics.yaml"), testing::Shipped(),
                                {db.url(), testing::SourcePath("templates"), ""});
  ASSERT_TRUE(report.failures.empty()) << report.failures.front().message;
  const std::string kept = FactRows(db.url());
  EXPECT_GE(std::count(kept.begin(), kept.end(), '\n'), 1 + 8) << "a row at least for each of the 8 pairs";
  auto figures = [&](int year) {
    auto r = testing::RunCli("--db '" + db.url() + "' --now 2029-01-10 stats annual --json --year " +
                             std::to_string(year));
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  };
  const std::string y2026 = figures(2026), y2027 = figures(2027);
  EXPECT_EQ(nlohmann::json::parse(y2027)["pairs"]["extended"], 1) << y2027;

  {  // schema 16 took the institution into every table: out with it again
    soci::session raw = testing::OpenRaw(db.url());
    testing::UndoInstitutions(raw, GetParam() == "sqlite");
  }
  testing::ExecSql(db.url(), "DROP TABLE pair_facts");
  testing::ExecSql(db.url(), "DROP TABLE data_tables");        // schema 10, which came after
  testing::ExecSql(db.url(), "DROP TABLE person_attributes");  // schema 11
  testing::ExecSql(db.url(), "DROP TABLE document_people");    // schema 12
  for (const char* table : {"sessions", "account_tokens", "login_failures", "calendar_feeds", "accounts"})
    testing::ExecSql(db.url(), std::string("DROP TABLE ") + table);  // schema 13
  for (const char* table : {"documents", "orders", "consents"})
    testing::ExecSql(db.url(), std::string("ALTER TABLE ") + table + " DROP COLUMN redacted_at");
  testing::ExecSql(db.url(), "DROP INDEX IF EXISTS consents_by_purpose");  // schema 14
  testing::ExecSql(db.url(), "ALTER TABLE consents DROP COLUMN purpose");
  for (const char* column : {"address", "document_kind", "document_number", "document_issued", "document_issuer", "authority"})
    testing::ExecSql(db.url(), std::string("ALTER TABLE person_data DROP COLUMN ") + column);  // schema 15
  testing::ExecSql(db.url(), "DELETE FROM schema_version WHERE version >= 9");
  auto old = testing::RunCli("--db '" + db.url() + "' --now 2029-01-10 stats annual --year 2026");
  EXPECT_NE(old.code, 0) << "a database of schema 8 is upgraded by init first";
  EXPECT_NE(old.err.find("init"), std::string::npos) << old.err;
  auto init = testing::RunCli("--db '" + db.url() + "' --now 2029-01-10 init");
  ASSERT_EQ(init.code, 0) << init.err;
  EXPECT_EQ(FactRows(db.url()), kept);
  EXPECT_EQ(figures(2026), y2026);
  EXPECT_EQ(figures(2027), y2027);

  // A date of birth corrected later counts from then on, for every year:
  // every mentee made a minor of 2026, the minors are all the mentees.
  for (const char* adult : {"s1", "s3", "s5", "s7", "s8"}) {
    auto r = testing::RunCli("--db '" + db.url() + "' --now 2029-01-10 person update " + adult +
                             " --birth 2015-01-01 --as d1");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const auto minors = nlohmann::json::parse(figures(2026));
  EXPECT_EQ(minors["mentees_minors"], minors["mentees"]) << minors.dump();
  EXPECT_GT(minors["mentees"].get<int>(), nlohmann::json::parse(y2026)["mentees_minors"].get<int>());

  // A form the workflow no longer declares is still counted, under its value.
  testing::ExecSql(db.url(), "UPDATE pair_facts SET form = 'retired_form' WHERE instance = (SELECT MIN(instance)"
                             " FROM pair_facts WHERE formed_at < '2027-12-01' AND (ended_at IS NULL OR"
                             " ended_at >= '2027-01-02'))");
  const auto retired = nlohmann::json::parse(figures(2027));
  EXPECT_EQ(retired["by_form"]["retired_form"], 1) << retired.dump();
  long long by_form = 0;
  for (const auto& [form, n] : retired["by_form"].items()) by_form += n.get<long long>();
  EXPECT_EQ(by_form, retired["pairs"]["active"].get<long long>()) << retired.dump();
}

INSTANTIATE_TEST_SUITE_P(Backends, PairFacts, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace mentorflow
