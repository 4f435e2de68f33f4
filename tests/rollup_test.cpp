// The regional centre (issue 27, build 4): the institutions' annual reports,
// signed by their directors, summed for the region with no published count
// below 5; the centre reads nothing else of theirs, and its database role
// reads two views and no table.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/rollup.h"
#include "storage/store.h"
#include "tests/test_db.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

using nlohmann::json;
using testing::RunCli;
using testing::TestDatabase;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool NeedPostgres() { return testing::NeedClusterOrFail("the roll-up tests"); }

// ---- the suppression alone ----------------------------------------------

// Every line (its parts, then its total) has no withheld cell or two and
// more: none can be recovered by subtraction.
void ExpectNoLineWithOneWithheld(const std::vector<std::vector<bool>>& hidden, const std::vector<app::SuppressionLine>& lines) {
  for (const auto& line : lines) {
    int n = 0;
    for (const auto& [r, c] : line) n += hidden[r][c] ? 1 : 0;
    EXPECT_NE(n, 1) << "a line of " << line.size() << " cells with one withheld";
  }
}

TEST(Suppress, ASmallCountAndOneMoreOfEachLineItCouldBeRecoveredFrom) {
  // Three institutions and the total; one column.
  const std::vector<std::vector<long long>> cells = {{3}, {40}, {25}, {68}};
  const std::vector<app::SuppressionLine> lines = {{{0, 0}, {1, 0}, {2, 0}, {3, 0}}};
  const auto hidden = app::Suppress(cells, lines);
  EXPECT_TRUE(hidden[0][0]) << "3 is below 5";
  EXPECT_TRUE(hidden[2][0]) << "25, the smallest published part, goes with it: 68 - 40 would give 28 for the two";
  EXPECT_FALSE(hidden[1][0]);
  EXPECT_FALSE(hidden[3][0]);
  ExpectNoLineWithOneWithheld(hidden, lines);
}

TEST(Suppress, RowsAndColumnsTogetherReachAFixedPoint) {
  // Two institutions x (form A, form B, pairs): forms add up to pairs in each row.
  const std::vector<std::vector<long long>> cells = {{2, 30, 32}, {10, 10, 20}, {12, 40, 52}};
  std::vector<app::SuppressionLine> lines;
  for (std::size_t c = 0; c < 3; ++c) lines.push_back({{0, c}, {1, c}, {2, c}});
  for (std::size_t r = 0; r < 3; ++r) lines.push_back({{r, 0}, {r, 1}, {r, 2}});
  const auto hidden = app::Suppress(cells, lines);
  EXPECT_TRUE(hidden[0][0]);
  ExpectNoLineWithOneWithheld(hidden, lines);
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < 3; ++c)
      if (cells[r][c] < 5) EXPECT_TRUE(hidden[r][c]) << r << "," << c;
}

TEST(Suppress, NothingSmallNothingWithheld) {
  const std::vector<std::vector<long long>> cells = {{5, 9}, {14, 20}};
  const auto hidden = app::Suppress(cells, {{{0, 0}, {0, 1}}, {{1, 0}, {1, 1}}});
  for (const auto& row : hidden)
    for (bool h : row) EXPECT_FALSE(h);
}

// ---- a region ------------------------------------------------------------

class Rollup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NeedPostgres()) GTEST_SKIP() << "needs PostgreSQL";
    db_ = std::make_unique<TestDatabase>("postgresql", "rollup");
    ASSERT_TRUE(db_->available()) << db_->why_not();
    url_ = db_->url();
    Cli("rc", "2026-09-01", "init --regional --institution 'Региональный наставнический центр'" MF_INSTITUTION_ADDRESS
                            " --director rd --name 'Ирина Сергеевна Волкова'");
    Cli("rc", "2026-09-01", "person add r1" MF_PAPERS " --as rd --name 'Ольга Николаевна Белова' --role regional"
                            " --birth 1985-01-01 --email r1@example.org");
    Cli("rc", "2026-09-01", "person add c9" MF_PAPERS " --as rd --name 'Анна Петровна Котова' --role curator"
                            " --birth 1985-01-01 --email c9@example.org");
    for (const char* s : {"a", "b", "c", "d", "e"}) {
      Cli(s, "2026-09-01", std::string("init --institution 'Школа ") + s + "'" MF_INSTITUTION_ADDRESS
                               " --director d1 --name 'Пётр Ильич Соколов'");
      Cli(s, "2026-09-01", "person add c1" MF_PAPERS " --as d1 --name 'Мария Петрова' --role curator --email c1@example.org");
      report_[s] = Trim(Cli(s, "2026-12-01", "start annual_report --as c1").out);
    }
    // School a goes the whole way: the curator submits, the director signs.
    Cli("a", "2026-12-10", "send " + report_["a"] + " submit --as c1");
    Cli("a", "2026-12-11", "doc sign " + report_["a"] + ":report --as d1");
    // Schools with pairs: their reports as the store keeps them (pairs are
    // not formed here; their figures are what the test needs).
    Report("b", 1, R"({"year":2026,"mentors":40,"mentees":42,"mentees_minors":30,
        "pairs":{"formed":20,"active":42,"completed":10,"terminated":3,"extended":0},
        "by_form":{"virtual":30,"short_term":12},"by_kind":{"volunteer_pupil":42},
        "terminated_by_reason":{"mutual":3},"mean_days_completed":120.0,
        "monitoring":{"due":2,"on_time":2,"late":0,"missed":0},
        "titles":{"by_form":{"virtual":"Виртуальное (дистанционное) наставничество"}}})",
           "2026-12-20T09:00:00Z");
    Report("c", 1, R"({"year":2026,"mentors":1,"mentees":1,"mentees_minors":1,
        "pairs":{"formed":1,"active":1,"completed":0,"terminated":0,"extended":0},
        "by_form":{"virtual":1},"by_kind":{"volunteer_pupil":1},"terminated_by_reason":{},
        "monitoring":{"due":0,"on_time":0,"late":0,"missed":0}})", "2026-12-18T09:00:00Z");
    // ... and c's later issue, signed after the first: the one that counts.
    Report("c", 2, R"({"year":2026,"mentors":25,"mentees":25,"mentees_minors":20,
        "pairs":{"formed":25,"active":25,"completed":6,"terminated":7,"extended":5},
        "by_form":{"virtual":20,"short_term":5},"by_kind":{"volunteer_pupil":25},
        "terminated_by_reason":{"mutual":4,"mentor_initiative":3},
        "monitoring":{"due":2,"on_time":1,"late":1,"missed":0}})", "2026-12-22T09:00:00Z");
    // d's report was issued and never signed: not sent.
    Report("d", 1, R"({"year":2026,"mentors":90,"mentees":90,"mentees_minors":90,
        "pairs":{"formed":90,"active":90,"completed":0,"terminated":0,"extended":0},
        "by_form":{"virtual":90},"by_kind":{},"terminated_by_reason":{},
        "monitoring":{"due":0,"on_time":0,"late":0,"missed":0}})", "");
  }

  testing::Run Cli(const std::string& institution, const std::string& day, const std::string& args, int want = 0) {
    auto r = RunCli("--db '" + url_ + "' --institution-id " + institution + " --now " + day + " " + args);
    EXPECT_EQ(r.code, want) << institution << ": " << args << ": " << r.err;
    return r;
  }

  static std::string Trim(const std::string& s) { return s.substr(0, s.find('\n')); }

  void Report(const std::string& school, int issue, const std::string& figures, const std::string& signed_at) {
    std::string f = figures;
    for (auto p = f.find('\n'); p != std::string::npos; p = f.find('\n')) f.erase(p, 1);
    testing::ExecSql(url_,
                     "INSERT INTO annual_reports (institution, year, instance, issue, figures, issued_at, signed_at)"
                     " VALUES ('" + school + "', 2026, '" + report_[school] + "', " + std::to_string(100 + issue) +
                         ", '" + f + "', '2026-12-15T09:00:00Z', " +
                         (signed_at.empty() ? std::string("NULL") : "'" + signed_at + "'") + ")",
                     school);
  }

  json Rolled(const std::string& day) {
    auto r = Cli("rc", day, "region rollup --year 2026 --as r1 --json");
    return json::parse(r.out, nullptr, false);
  }

  std::unique_ptr<TestDatabase> db_;
  std::string url_;
  std::map<std::string, std::string> report_;
};

const json& Institution(const json& j, const std::string& id) {
  for (const auto& i : j["institutions"])
    if (i["id"] == id) return i;
  static const json none;
  ADD_FAILURE() << "no institution " << id;
  return none;
}

// No published count below 5, and no line with one withheld cell: each
// column over the institutions that sent and its total.
void ExpectSafe(const json& j) {
  for (const auto& col : j["columns"]) {
    const std::string key = col["key"];
    int withheld = 0;
    std::vector<const json*> rows;
    for (const auto& i : j["institutions"])
      if (i["status"] == "submitted") rows.push_back(&i);
    rows.push_back(&j["total"]);
    for (const json* row : rows) {
      const json& v = (*row)["figures"][key];
      if (v.is_null()) ++withheld;
      else EXPECT_GE(v.get<long long>(), 5) << key << " published below 5";
    }
    EXPECT_NE(withheld, 1) << key << ": one withheld cell in the column could be recovered from its total";
  }
}

TEST_F(Rollup, SumsTheReportsTheDirectorsSignedAndPublishesNoCountBelowFive) {
  // Before 30 December: not sent yet is not late.
  json early = Rolled("2026-12-20");
  ASSERT_TRUE(early.is_object());
  EXPECT_EQ(early["pending"], 2) << early.dump();
  EXPECT_EQ(early["late"], 0);
  const json j = Rolled("2027-01-10");
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_EQ(j["submitted"], 3);
  EXPECT_EQ(j["late"], 2);
  EXPECT_EQ(j["pending"], 0);
  ASSERT_EQ(j["institutions"].size(), 5u) << "every school, not the centre itself";
  EXPECT_EQ(Institution(j, "a")["status"], "submitted");
  EXPECT_EQ(Institution(j, "a")["signed_on"], "2026-12-11");
  EXPECT_EQ(Institution(j, "a")["name"], "Школа a");
  EXPECT_EQ(Institution(j, "d")["status"], "late") << "issued, never signed: not sent";
  EXPECT_EQ(Institution(j, "e")["status"], "late");
  EXPECT_TRUE(Institution(j, "e")["figures"].empty());
  // c's later signed issue counts, not its first.
  EXPECT_EQ(Institution(j, "c")["signed_on"], "2026-12-22");
  EXPECT_EQ(Institution(j, "b")["figures"]["by_form.virtual"], 30);
  EXPECT_EQ(Institution(j, "b")["figures"]["by_form.short_term"], 12);
  EXPECT_TRUE(Institution(j, "c")["figures"]["by_form.virtual"].is_null()) << "a's 0 withheld: c's 20 goes too";
  EXPECT_EQ(Institution(j, "c")["figures"]["pairs.terminated"], 7) << "its parts 4 and 3 are two withheld";
  EXPECT_EQ(j["total"]["figures"]["mentors"], 65) << "40 + 25 + 0: d's unsigned 90 not in it";
  EXPECT_EQ(j["total"]["figures"]["pairs.active"], 67);
  EXPECT_EQ(j["total"]["figures"]["by_form.virtual"], 50);
  // a's 0 mentors is withheld, and so is c's 25 (else 65 - 40 - 25 gives a's).
  EXPECT_TRUE(Institution(j, "a")["figures"]["mentors"].is_null());
  EXPECT_TRUE(Institution(j, "c")["figures"]["mentors"].is_null());
  EXPECT_EQ(Institution(j, "b")["figures"]["mentors"], 40);
  // c's terminations: 4 and 3 withheld, and its 7 stays (two withheld in the line).
  EXPECT_TRUE(Institution(j, "c")["figures"]["terminated_by_reason.mutual"].is_null());
  EXPECT_TRUE(Institution(j, "c")["figures"]["terminated_by_reason.mentor_initiative"].is_null());
  ExpectSafe(j);
  ExpectSafe(early);
  // The title of a form comes from the report.
  bool titled = false;
  for (const auto& c : j["columns"])
    if (c["key"] == "by_form.virtual") titled = c["title"] == "Пар в форме «Виртуальное (дистанционное) наставничество»";
  EXPECT_TRUE(titled) << j["columns"].dump();
}

TEST_F(Rollup, TheCsvTheWorkbookAndTheDocumentSayWhatTheJsonSays) {
  const json j = Rolled("2027-01-10");
  char pattern[] = "/tmp/mf_rollup_XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  struct Remove {
    std::string dir;
    ~Remove() { std::filesystem::remove_all(dir); }
  } remove{dir};
  // CSV: a row per school and the total; withheld cells read «менее 5».
  auto csv = Cli("rc", "2027-01-10", "region rollup --year 2026 --as r1 --format csv").out;
  std::size_t withheld = 0;
  for (const auto& i : j["institutions"])
    for (const auto& [k, v] : i["figures"].items()) withheld += v.is_null() ? 1 : 0;
  for (const auto& [k, v] : j["total"]["figures"].items()) withheld += v.is_null() ? 1 : 0;
  std::size_t words = 0;
  for (auto p = csv.find("менее 5"); p != std::string::npos; p = csv.find("менее 5", p + 1)) ++words;
  EXPECT_EQ(words, withheld);
  EXPECT_NE(csv.find("\r\nb,Школа b,подписаны 20.12.2026,40,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\r\ne,Школа e,\"не представлены, срок 30 декабря прошёл\""), std::string::npos) << csv;
  EXPECT_NE(csv.find("\r\n,Всего по представившим сведения,,65,"), std::string::npos) << csv;

  // XLSX, read back by openpyxl: the same cells, numbers as numbers.
  const std::string xlsx = dir + "/region.xlsx";
  Cli("rc", "2027-01-10", "region rollup --year 2026 --as r1 --format xlsx --out " + xlsx);
  const std::string script = dir + "/read.py", dumped = dir + "/xlsx.json";
  std::ofstream(script) << "import json, sys, openpyxl\n"
                           "ws = openpyxl.load_workbook(sys.argv[1]).active\n"
                           "rows = [[c.value for c in r] for r in ws.iter_rows()]\n"
                           "json.dump({'title': ws.title, 'rows': rows}, open(sys.argv[2], 'w'), ensure_ascii=False)\n";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + xlsx + " " + dumped).c_str()), 0)
      << "python3-openpyxl reads the workbook";
  const json book = json::parse(testing::ReadText(dumped));
  EXPECT_EQ(book["title"], "Свод по региону");
  const auto& rows = book["rows"];
  ASSERT_EQ(rows.size(), 1 + 5 + 1u) << book.dump();
  EXPECT_EQ(rows[0][0], "Код организации");
  for (std::size_t r = 1; r <= 5; ++r) {
    const json& inst = Institution(j, rows[r][0].get<std::string>());
    for (std::size_t c = 0; c < j["columns"].size(); ++c) {
      const json& cell = rows[r][c + 3];
      if (inst["status"] != "submitted") {
        EXPECT_TRUE(cell.is_null()) << r << "," << c;
        continue;
      }
      const json& want = inst["figures"][j["columns"][c]["key"].get<std::string>()];
      if (want.is_null()) EXPECT_EQ(cell, "менее 5");
      else EXPECT_EQ(cell.get<long long>(), want.get<long long>()) << r << "," << c;
    }
  }
  EXPECT_EQ(rows[6][1], "Всего по представившим сведения");
  EXPECT_EQ(rows[6][3].get<long long>(), 65);

  // The document for the centre's director, to PDF and back to text.
  if (std::system("command -v soffice >/dev/null && command -v pdftotext >/dev/null") != 0) {
    if (Env("CI") == "true") FAIL() << "CI=true: LibreOffice and pdftotext must be installed by make test";
    GTEST_SKIP() << "soffice or pdftotext not installed";
  }
  const std::string pdf = dir + "/region.pdf", txt = dir + "/region.txt";
  Cli("rc", "2027-01-10", "region rollup --year 2026 --as r1 --format pdf --out " + pdf);
  ASSERT_EQ(std::system(("pdftotext -enc UTF-8 " + pdf + " " + txt).c_str()), 0);
  std::string text;  // the words, one space between them (the PDF wraps its lines)
  for (char c : testing::ReadText(txt)) {
    const bool space = c == ' ' || c == '\n' || c == '\f' || c == '\t';
    if (!space) text += c;
    else if (!text.empty() && text.back() != ' ') text += ' ';
  }
  for (const char* want : {"Сводные сведения о наставничестве в регионе за 2026 год", "Региональный наставнический центр",
                           "Организаций в регионе: 5", "Представили сведения: 3", "Не представили после срока: 2",
                           "Школа e", "не представлены, срок 30 декабря прошёл", "подписаны 11.12.2026", "менее 5",
                           "Руководитель регионального наставнического центра", "Должность"})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  for (const char* personal : {"Мария Петрова", "Соколов", "Белова"})
    EXPECT_EQ(text.find(personal), std::string::npos) << "the roll-up names " << personal;
}

// Issue 27: "It never reads a person or an instance of an institution."
// Within the centre, row security shows its own rows, the signed reports,
// the list of institutions and their names, and nothing else of theirs.
TEST_F(Rollup, TheCentreSeesTheSignedReportsAndNoPersonOrInstanceOfASchool) {
  soci::session centre = testing::OpenRaw(url_, "rc");
  auto count = [&](const std::string& sql) {
    long long n = -1;
    centre << sql, soci::into(n);
    return n;
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM people WHERE institution <> 'rc'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM people"), 3) << "rd, r1 and c9";
  EXPECT_EQ(count("SELECT COUNT(*) FROM person_data WHERE institution <> 'rc'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM instances WHERE institution <> 'rc'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM documents WHERE institution <> 'rc'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM settings WHERE institution <> 'rc' AND key <> 'institution'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM settings WHERE institution <> 'rc'"), 5) << "each school's name";
  EXPECT_EQ(count("SELECT COUNT(*) FROM annual_reports WHERE signed_at IS NULL AND institution <> 'rc'"), 0)
      << "an unsigned issue is the school's alone";
  EXPECT_EQ(count("SELECT COUNT(*) FROM annual_reports"), 4) << "a's, b's and c's two signed issues";
  EXPECT_EQ(count("SELECT COUNT(*) FROM institutions"), 6);
  // A school sees no other school's report, signed or not, and not the region.
  soci::session school = testing::OpenRaw(url_, "b");
  long long n = -1;
  school << "SELECT COUNT(*) FROM annual_reports WHERE institution <> 'b'", soci::into(n);
  EXPECT_EQ(n, 0);
  school << "SELECT COUNT(*) FROM region_reports", soci::into(n);
  EXPECT_EQ(n, 0);
  school << "SELECT COUNT(*) FROM region_institutions", soci::into(n);
  EXPECT_EQ(n, 0);
  // The centre cannot write a school's report: row security finds no row to change.
  centre << "UPDATE annual_reports SET figures = '{}' WHERE institution = 'b'";
  school << "SELECT COUNT(*) FROM annual_reports WHERE institution = 'b' AND figures = '{}'", soci::into(n);
  EXPECT_EQ(n, 0);
}

// Issue 27: "The regional role gets permission denied on every base table."
TEST_F(Rollup, TheRegionalDatabaseRoleReadsTwoViewsAndIsDeniedEveryTable) {
  const std::string role = "mf_regional_" + std::to_string(getpid());
  {
    soci::session super(soci::postgresql, PostgresConnectionString(Env("MENTORFLOW_TEST_PG_SUPER")));
    super << "DROP ROLE IF EXISTS " + role;
    super << "CREATE ROLE " + role + " LOGIN NOSUPERUSER NOBYPASSRLS";
  }
  struct Drop {
    std::string role, url;
    ~Drop() {
      try {
        testing::ExecSql(url, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM " + role, "rc");
        testing::ExecSql(url, "REVOKE ALL ON SCHEMA public FROM " + role, "rc");
        soci::session super(soci::postgresql, PostgresConnectionString(std::getenv("MENTORFLOW_TEST_PG_SUPER")));
        super << "DROP ROLE IF EXISTS " + role;
      } catch (...) {
      }
    }
  } drop{role, url_};
  Cli("rc", "2026-09-01", "init --regional-role " + role);
  const auto scheme = url_.find("://") + 3, at = url_.find('@', scheme);
  const std::string as_role = url_.substr(0, scheme) + role + url_.substr(at);
  soci::session s(soci::postgresql, PostgresConnectionString(as_role));
  s << "SELECT set_config('mentorflow.institution', 'rc', false)";
  std::vector<std::string> tables;
  {
    soci::rowset<std::string> rs = (s.prepare << "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    tables.assign(rs.begin(), rs.end());
  }
  ASSERT_GE(tables.size(), 30u);
  for (const auto& t : tables) {
    try {
      long long n = 0;
      s << "SELECT COUNT(*) FROM " + t, soci::into(n);
      ADD_FAILURE() << t << ": read " << n << " rows";
    } catch (const soci::soci_error& e) {
      EXPECT_NE(std::string(e.what()).find("permission denied"), std::string::npos) << t << ": " << e.what();
    }
  }
  long long n = 0;
  s << "SELECT COUNT(*) FROM region_reports WHERE year = 2026", soci::into(n);
  EXPECT_EQ(n, 3) << "a, b and c: the last signed issue of each";
  s << "SELECT COUNT(*) FROM region_institutions", soci::into(n);
  EXPECT_EQ(n, 5);
  // Set to a school, or to nothing, the views are empty.
  for (const char* other : {"b", ""}) {
    s << std::string("SELECT set_config('mentorflow.institution', '") + other + "', false)";
    s << "SELECT COUNT(*) FROM region_reports", soci::into(n);
    EXPECT_EQ(n, 0) << other;
    s << "SELECT COUNT(*) FROM region_institutions", soci::into(n);
    EXPECT_EQ(n, 0) << other;
  }
}

TEST_F(Rollup, AnyoneButTheCentresStaffIsRefusedAndNothingChanges) {
  const std::string before = testing::DumpTables(url_, "rc"), school = testing::DumpTables(url_, "b");
  auto d1 = Cli("b", "2027-01-10", "region rollup --year 2026 --as d1", 3);
  EXPECT_NE(d1.err.find("only a regional centre reads the region"), std::string::npos) << d1.err;
  auto curator = Cli("rc", "2027-01-10", "region rollup --year 2026 --as c9", 3);
  EXPECT_NE(curator.err.find("role regional"), std::string::npos) << curator.err;
  Cli("rc", "2027-01-10", "region rollup --year 2026", 1);                   // no one acting
  Cli("rc", "2027-01-10", "region rollup --year 1990 --as r1", 1);           // no such year
  Cli("rc", "2027-01-10", "region rollup --year 2026 --as r1 --format xlsx", 1);  // a workbook needs --out
  // A school's person, by an id the centre does not have: nobody here.
  auto nobody = Cli("rc", "2027-01-10", "region rollup --year 2026 --as c1", 2);
  EXPECT_NE(nobody.err.find("no person 'c1'"), std::string::npos) << nobody.err;
  // The director of the centre reads it.
  Cli("rc", "2027-01-10", "region rollup --year 2026 --as rd --json");
  EXPECT_EQ(testing::DumpTables(url_, "rc"), before);
  EXPECT_EQ(testing::DumpTables(url_, "b"), school);
}

TEST(RollupSqlite, AFileOfOneInstitutionCannotBeARegionalCentre) {
  TestDatabase db("sqlite", "rollup_sqlite");
  ASSERT_TRUE(db.available()) << db.why_not();
  auto r = RunCli("--db '" + db.url() + "' --now 2026-09-01 init --regional");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("PostgreSQL"), std::string::npos) << r.err;
  auto ok = RunCli("--db '" + db.url() + "' --now 2026-09-01 init --director d1 --name 'Пётр Ильич Соколов'");
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto rollup = RunCli("--db '" + db.url() + "' --now 2026-09-01 region rollup --year 2026 --as d1");
  EXPECT_EQ(rollup.code, 3) << rollup.err;
}

}  // namespace
}  // namespace mentorflow
