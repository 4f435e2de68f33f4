// One `mentorflow serve` for a region (issue 27, build 2): started without
// --institution-id over a database of several institutions, each request is
// within the institution its session cookie names, or before a session the
// one it asks for. One person's accounts in two schools are two accounts;
// a session of one school is nothing in another; the regional centre's
// staff read the region's roll-up through the same server (OWASP ASVS 5.0
// V3.3 cookies, V7.2 sessions).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "tests/serve_client.h"
#include "tests/test_db.h"
#include "tests/test_support.h"

namespace mentorflow::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDay = "2027-01-10";
constexpr const char* kPasswordA = "тихий вечер у реки";
constexpr const char* kPasswordB = "звонкий полдень над полем";
constexpr const char* kPasswordR = "длинная дорога через лес";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class RegionServe : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PostgresAdminUrl().empty()) {
      if (Env("CI") == "true") FAIL() << "CI=true: the regional server's tests must run on PostgreSQL";
      GTEST_SKIP() << "needs PostgreSQL";
    }
    db_ = std::make_unique<TestDatabase>("postgresql", "region_serve");
    ASSERT_TRUE(db_->available()) << db_->why_not();
    scratch_ = ::testing::TempDir() + "/mf_region_serve_" + std::to_string(getpid());
    fs::create_directories(scratch_);
    Cli("rc", "2026-09-01", "init --regional --institution 'Региональный наставнический центр'" MF_INSTITUTION_ADDRESS
                            " --director rd --name 'Ирина Сергеевна Волкова'");
    Cli("rc", "2026-09-01", "person add r1" MF_PAPERS " --as rd --name 'Ольга Николаевна Белова' --role regional"
                            " --birth 1985-01-01 --email r1@example.org");
    // Twin schools: the same ids and e-mail, each its own director.
    for (const auto& [school, director] : std::map<std::string, std::string>{{"a", "Андрей Андреевич Быстров"},
                                                                             {"b", "Борис Борисович Медведев"}}) {
      Cli(school, "2026-09-01", "init --institution 'Школа " + school + "'" MF_INSTITUTION_ADDRESS
                                " --director d1 --name '" + director + "'");
      Cli(school, "2026-09-01", "person add c1" MF_PAPERS " --as d1 --name 'Мария Петрова' --role curator"
                                " --birth 1990-01-01 --email c1@example.org");
      Cli(school, kDay, "person invite c1 --as d1");
    }
    Cli("rc", kDay, "person invite r1 --as rd");
    // Deliver over the region: each link names its institution.
    const std::string file = scratch_ + "/mail.jsonl";
    auto d = RunCli("--db '" + db_->url() + "' --now " + kDay + " deliver --via jsonl:" + file);
    ASSERT_EQ(d.code, 0) << d.err;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      const json j = json::parse(line);
      std::smatch m;
      const std::string text = j["text"];
      if (std::regex_search(text, m, std::regex("institution=([a-z0-9_-]+)&token=([A-Za-z0-9_-]{22})")))
        links_[m[1].str() + "/" + j["to"].get<std::string>()] = m[2];
    }
    ASSERT_EQ(links_.size(), 3u) << "a's c1, b's c1 and the centre's r1";
    server_ = std::make_unique<ServerProcess>(db_->url(), std::string(kDay) + "T10:00");
    port_ = server_->port();
  }
  void TearDown() override {
    server_.reset();
    if (!scratch_.empty()) fs::remove_all(scratch_);
  }

  mentorflow::testing::Run Cli(const std::string& institution, const std::string& day, const std::string& args) {
    auto r = RunCli("--db '" + db_->url() + "' --institution-id " + institution + " --now " + day + " " + args);
    EXPECT_EQ(r.code, 0) << institution << ": " << args << ": " << r.err;
    return r;
  }
  Client NewClient(const std::string& address = "10.0.0.1") const { return Client{&port_, address, "", ""}; }
  Answer SetPassword(const std::string& institution, const std::string& token, const std::string& password) {
    return NewClient().Post("/api/v1/account/password",
                            {{"institution", institution}, {"token", token}, {"password", password}}, false);
  }
  void Passwords() {
    ASSERT_EQ(SetPassword("a", links_["a/c1"], kPasswordA).status, 200);
    ASSERT_EQ(SetPassword("b", links_["b/c1"], kPasswordB).status, 200);
    ASSERT_EQ(SetPassword("rc", links_["rc/r1"], kPasswordR).status, 200);
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<ServerProcess> server_;
  std::map<std::string, std::string> links_;  // "institution/person" -> token
  std::string scratch_;
  int port_ = 0;
};

TEST_F(RegionServe, OnePersonInTwoSchoolsHasTwoAccountsAndEachSessionStaysInItsSchool) {
  // A link opens in its own institution only.
  const std::string before = DumpTables(db_->url(), "b");
  auto crossed = SetPassword("b", links_["a/c1"], kPasswordA);
  EXPECT_EQ(crossed.status, 404) << crossed.text;
  EXPECT_EQ(crossed.body["error"]["rule"], "link");
  EXPECT_EQ(DumpTables(db_->url(), "b"), before);
  Passwords();

  // Logging in names the institution; without it, nothing is tried.
  Client nowhere = NewClient("10.0.0.9");
  auto none = nowhere.Login("c1@example.org", kPasswordA);
  EXPECT_EQ(none.status, 400) << none.text;
  EXPECT_EQ(none.body["error"]["rule"], "institution");
  Client a = NewClient("10.0.0.2");
  auto in_a = a.Login("c1@example.org", kPasswordA, "a");
  ASSERT_EQ(in_a.status, 200) << in_a.text;
  EXPECT_NE(in_a.cookie.find("__Host-mf_session=a."), std::string::npos) << in_a.cookie;
  for (const char* flag : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"})
    EXPECT_NE(in_a.cookie.find(flag), std::string::npos) << in_a.cookie;
  EXPECT_EQ(a.Get("/api/v1/people/d1").body["name"], "Андрей Андреевич Быстров");
  // a's password is not b's: two accounts.
  Client b = NewClient("10.0.0.3");
  EXPECT_EQ(b.Login("c1@example.org", kPasswordA, "b").status, 401);
  ASSERT_EQ(b.Login("c1@example.org", kPasswordB, "b").status, 200);
  EXPECT_EQ(b.Get("/api/v1/people/d1").body["name"], "Борис Борисович Медведев");
  EXPECT_EQ(a.Get("/api/v1/people/d1").body["name"], "Андрей Андреевич Быстров") << "a's session still in a";

  // a's session token under b's name, or under none, is no session.
  Client forged = a;
  forged.token = "b." + a.token.substr(a.token.find('.') + 1);
  auto as_b = forged.Get("/api/v1/people/d1");
  EXPECT_EQ(as_b.status, 401) << as_b.text;
  forged.token = a.token.substr(a.token.find('.') + 1);
  EXPECT_EQ(forged.Get("/api/v1/people/d1").status, 401);
  // A query naming another institution changes nothing for a session.
  EXPECT_EQ(a.Get("/api/v1/people/d1?institution=b").body["name"], "Андрей Андреевич Быстров");
  // An institution the database does not hold: no one to log in.
  EXPECT_EQ(NewClient("10.0.0.4").Login("c1@example.org", kPasswordA, "zz").status, 400);
}

TEST_F(RegionServe, TheLoginPageListsTheInstitutionsAndRemembersTheChoice) {
  Passwords();
  Client anyone = NewClient();
  auto page = anyone.Get("/login");
  ASSERT_EQ(page.status, 200);
  for (const char* option : {"<option value=\"a\">Школа a</option>", "<option value=\"b\">Школа b</option>",
                             "<option value=\"rc\">Региональный наставнический центр</option>"})
    EXPECT_NE(page.text.find(option), std::string::npos) << option << "\n" << page.text;
  EXPECT_EQ(page.text.find("Мария Петрова"), std::string::npos);
  // A form login: the session cookie and the remembered institution.
  httplib::Client http("127.0.0.1", port_);
  httplib::Headers headers = {{"Cookie", "__Host-mf_form=abcdefghijklmnopqrstuv"}};
  auto r = http.Post("/login", headers,
                     "csrf=abcdefghijklmnopqrstuv&institution=b&login=c1%40example.org&password=" +
                         httplib::detail::encode_query_param(kPasswordB),
                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303) << r->body;
  std::string cookies;
  for (const auto& [k, v] : r->headers)
    if (k == "Set-Cookie") cookies += v + "\n";
  EXPECT_NE(cookies.find("__Host-mf_session=b."), std::string::npos) << cookies;
  EXPECT_NE(cookies.find("__Host-mf_institution=b;"), std::string::npos) << cookies;
  auto again = http.Get("/login", {{"Cookie", "__Host-mf_institution=b"}});
  ASSERT_TRUE(again);
  EXPECT_NE(again->body.find("<option value=\"b\" selected>"), std::string::npos) << again->body;
}

TEST_F(RegionServe, TheCentreReadsTheRollUpThroughTheServerAsTheCommandLinePrintsIt) {
  Passwords();
  // a sends its report for 2026, signed by its director.
  const std::string report = Cli("a", "2026-12-01", "start annual_report --as c1").out;
  const std::string id = report.substr(0, report.find('\n'));
  Cli("a", "2026-12-10", "send " + id + " submit --as c1");
  Cli("a", "2026-12-11", "doc sign " + id + ":report --as d1");

  Client r1 = NewClient("10.0.0.5");
  ASSERT_EQ(r1.Login("r1@example.org", kPasswordR, "rc").status, 200);
  auto api = r1.Get("/api/v1/region/rollup?year=2026");
  ASSERT_EQ(api.status, 200) << api.text;
  auto cli = RunCli("--db '" + db_->url() + "' --institution-id rc --now " + kDay + "T10:00 region rollup --year 2026 --as r1 --json");
  ASSERT_EQ(cli.code, 0) << cli.err;
  EXPECT_EQ(api.body, json::parse(cli.out)) << "one codec";
  EXPECT_EQ(api.body["submitted"], 1);
  EXPECT_EQ(api.body["late"], 1);
  EXPECT_EQ(r1.Get("/api/v1/region/rollup").body["year"], 2026) << "in January, last year's reports";
  auto csv = r1.Get("/api/v1/region/rollup.csv?year=2026");
  EXPECT_EQ(csv.status, 200);
  auto cli_csv = RunCli("--db '" + db_->url() + "' --institution-id rc --now " + kDay + "T10:00 region rollup --year 2026 --as r1");
  EXPECT_EQ(csv.text, cli_csv.out);
  auto xlsx = r1.Get("/api/v1/region/rollup.xlsx?year=2026");
  EXPECT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.text.substr(0, 2), "PK") << "a zip: the workbook";
  auto page = r1.Get("/region?year=2026");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.text.find("Сведения организаций за 2026 год"), std::string::npos);
  EXPECT_NE(page.text.find("подписаны 11.12.2026"), std::string::npos) << page.text;
  EXPECT_EQ(r1.Get("/").status, 303) << "the centre's start page is the region";

  // A school's curator, and the school's director, are refused the region.
  Client c1 = NewClient("10.0.0.6");
  ASSERT_EQ(c1.Login("c1@example.org", kPasswordA, "a").status, 200);
  const std::string before = DumpTables(db_->url(), "rc");
  auto refused = c1.Get("/api/v1/region/rollup?year=2026");
  EXPECT_EQ(refused.status, 403) << refused.text;
  EXPECT_EQ(refused.text.find("Школа b"), std::string::npos);
  EXPECT_EQ(c1.Get("/api/v1/region/rollup.csv?year=2026").status, 403);
  EXPECT_EQ(DumpTables(db_->url(), "rc"), before);
}

}  // namespace
}  // namespace mentorflow::testing
