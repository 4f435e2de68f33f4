// The command-line contract: exit codes, file:line:col errors, --json, and
// global options anywhere on the line.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <utility>

#include <cctype>

#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include <algorithm>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

using testing::RunCli;
using testing::SourcePath;

TEST(Cli_Validate, ShippedWorkflowsAreValid) {
  auto r = RunCli("validate");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("12 file(s), 12 workflow(s): valid"), std::string::npos) << r.out;
}

// Everything people read has a Russian title: a missing one is a warning
// (with its line and column), and with --strict an error.
TEST(Cli_Validate, AMissingTitleWarnsAndStrictRefuses) {
  const std::string f = SourcePath("tests/fixtures/untitled/untitled.yaml");
  auto warned = RunCli("validate " + f);
  EXPECT_EQ(warned.code, 0) << warned.err;
  EXPECT_NE(warned.out.find("valid, 7 warning(s)"), std::string::npos) << warned.out;
  auto strict = RunCli("validate --strict " + f);
  EXPECT_EQ(strict.code, 1);
  for (const char* e : {"untitled.yaml:1:1: error: workflow 'untitled' has no title",
                        "untitled.yaml:3:9: error: role 'curator' has no title",
                        "untitled.yaml:5:3: error: field 'note' has no title",
                        "untitled.yaml:6:3: error: enum value 'virtual' of field 'form' has no title",
                        "untitled.yaml:6:3: error: enum value 'speed' of field 'form' has no title",
                        "untitled.yaml:9:3: error: state 'done' has no title",
                        "untitled.yaml:11:5: error: transition 'finish' has no title"})
    EXPECT_NE(strict.err.find(e), std::string::npos) << e << "\n" << strict.err;
}

// Every shipped workflow passes --strict; the same file with one title taken
// away fails, naming the line and column of what lost it.
TEST(Cli_Validate, TheShippedWorkflowsPassStrictAndACopyWithoutOneTitleFails) {
  auto all = RunCli("validate --strict " + SourcePath("workflows"));
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("12 file(s), 12 workflow(s): valid"), std::string::npos) << all.out;
  EXPECT_EQ(all.out.find("warning"), std::string::npos) << all.out;

  std::string text = testing::ReadText(SourcePath("workflows/mentoring_pair.yaml"));
  const std::string title = ", title: Отказать}";
  const size_t at = text.find(title);
  ASSERT_NE(at, std::string::npos) << "the shipped mentoring_pair has no 'reject' title to remove";
  text.replace(at, title.size(), "}");
  // The transition's mapping starts at the "{" that opens its line.
  const size_t line_start = text.rfind("\n  - {on: reject", at) + 1;
  const int line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(line_start), '\n')) + 1;
  const std::string dir = ::testing::TempDir() + "/mf_strict_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/mentoring_pair.yaml") << text;
  auto one = RunCli("validate --strict " + dir + "/mentoring_pair.yaml");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(one.code, 1) << one.out;
  EXPECT_NE(one.err.find("mentoring_pair.yaml:" + std::to_string(line) + ":5: error: transition 'reject' has no title"),
            std::string::npos)
      << "line " << line << ": " << one.err;
  EXPECT_NE(one.err.find("1 error(s)"), std::string::npos) << one.err;
}

TEST(Cli_Validate, ABadFileExitsOneWithFileLineColumn) {
  std::string f = SourcePath("tests/fixtures/invalid/unknown_state.yaml");
  auto r = RunCli("validate " + f);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(f + ":8:34: error: unknown state 'don' (did you mean 'done'?)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(f + ":9:24: error: unknown state 'opne'"), std::string::npos) << r.err;
}

TEST(Cli_Validate, OneShippedFileAloneResolvesItsReferences) {
  auto r = RunCli("validate " + SourcePath("workflows/programme.yaml"));
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Cli_Validate, JsonListsErrorsWithPositions) {
  auto r = RunCli("--json validate " + SourcePath("tests/fixtures/invalid/bad_duration.yaml"));
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  ASSERT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["errors"][0]["line"], 7);
  EXPECT_EQ(j["errors"][0]["column"], 23);
}

TEST(Cli_Validate, MissingPathIsAnError) {
  auto r = RunCli("validate /no/such/file.yaml");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/no/such/file.yaml:1:1: error: no such file or directory"), std::string::npos) << r.err;
}

TEST(Cli_Graph, GlobalOptionsMayStandAnywhere) {
  auto a = RunCli("graph mentoring_pair --format dot --json");
  EXPECT_EQ(a.code, 0) << a.err;
  auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["workflow"], "mentoring_pair");
  EXPECT_EQ(j["graph"].get<std::string>().rfind("digraph", 0), 0u);
  auto b = RunCli("--workflows " + SourcePath("workflows") + " graph monitoring");
  EXPECT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("stateDiagram-v2"), std::string::npos);
}

TEST(Cli_Graph, UnknownWorkflowExitsTwo) {
  auto r = RunCli("graph no_such_workflow");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no workflow 'no_such_workflow'"), std::string::npos);
  auto j = RunCli("graph no_such_workflow --json");
  EXPECT_EQ(nlohmann::json::parse(j.out)["error"]["code"], 2);
}

TEST(Cli_Usage, BadUsageExitsOneAndEveryCommandHasHelp) {
  EXPECT_EQ(RunCli("").code, 1);
  EXPECT_EQ(RunCli("graph mentoring_pair --format png").code, 1);
  for (const char* cmd : {"validate", "graph", "demo"}) {
    auto r = RunCli(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("--json"), std::string::npos) << cmd;
  }
}

TEST(Cli_Demo, RunsTheSchoolYear) {
  std::string dir = ::testing::TempDir() + "/mf_demo_" + std::to_string(getpid());
  struct RemoveDir {  // the demo's files go away with the test, pass or fail
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } remove_dir{dir};
  auto r = RunCli("demo --dir " + dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 unexpected outcome(s)"), std::string::npos);
  EXPECT_NE(r.out.find("[overdue] to d1 (Директор) about info: Срок пропущен"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deadline overdue (due 2027-05-20) on mon [monitoring]"), std::string::npos) << r.out;
  // The day each report came in, as the story tells it (the institution's zone, not UTC).
  EXPECT_NE(r.out.find("monitoring 2027-H1: due 2027-05-20, submitted 2027-06-01 (late)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("monitoring 2026-H2: due 2026-12-20, submitted 2026-12-15 (on time)"), std::string::npos) << r.out;
  // A plan item's own due date reminds the mentor and the mentee, naming the item.
  EXPECT_NE(r.out.find("to s1 (Воспитанник Петя) about plan1: Скоро срок: «Знакомство, постановка целей» — до 01.10.2026"),
            std::string::npos)
      << r.out;
  // The demo's database stays, and the commands read it.
  auto rs = RunCli("--db sqlite:" + dir + "/demo.db reminders --as d1 --json");
  ASSERT_EQ(rs.code, 0) << rs.err;
  // as many as the story counted, every one of them stored
  const size_t counted = r.out.rfind(" reminder(s), ");
  ASSERT_NE(counted, std::string::npos) << r.out;
  const size_t from = r.out.rfind(' ', counted - 1) + 1;
  EXPECT_EQ(nlohmann::json::parse(rs.out).size(), std::stoul(r.out.substr(from, counted - from)));
  EXPECT_GE(nlohmann::json::parse(rs.out).size(), 20u);
  EXPECT_FALSE(testing::ReadText(dir + "/graphs/mentoring_pair.mmd").empty());

  // Reminders were delivered as they came due: one JSON line each.
  {
    std::ifstream outbox(dir + "/outbox.jsonl");
    size_t lines = 0;
    for (std::string line; std::getline(outbox, line); ++lines) {
      auto m = nlohmann::json::parse(line);
      EXPECT_FALSE(m.value("subject", "").empty());
    }
    EXPECT_EQ(lines, nlohmann::json::parse(rs.out).size());
    EXPECT_NE(r.out.find(std::to_string(lines) + " reminder(s) delivered"), std::string::npos) << r.out;
  }
  // The agenda parses with python3-icalendar.
  {
    FILE* p = popen(("/usr/bin/python3 " + SourcePath("tests/parse_ics.py") + " " + dir + "/agenda.ics").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << out;
    auto events = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(events.is_array()) << out;
    EXPECT_GE(events.size(), 2u);
  }
  // Every current document is in out/ as HTML and ODT.
  for (const auto& d : nlohmann::json::parse(RunCli("--db sqlite:" + dir + "/demo.db doc list --as d1 --json").out)) {
    if (d["status"] == "superseded") continue;
    std::string name = d["id"].get<std::string>();
    if (name.find('/') != std::string::npos) name = "order-" + name;
    for (auto& c : name)
      if (c == ':' || c == '/') c = '-';
    for (const char* ext : {".html", ".odt"})
      EXPECT_TRUE(std::filesystem::exists(dir + "/out/" + name + ext)) << name << ext;
  }
  // The statistics it printed equal what this test computes on its own from
  // the pairs' and the monitoring's history, for each year the demo touched.
  {
    const std::string db = "--db sqlite:" + dir + "/demo.db --now 2027-08-31 ";
    auto instances = nlohmann::json::parse(RunCli(db + "list --json").out);
    auto birth_year = [&](const std::string& person) {
      auto p = nlohmann::json::parse(RunCli(db + "person show " + person + " --as d1 --json").out);
      return std::stoi(p["birth"].get<std::string>().substr(0, 4));
    };
    for (int year : {2026, 2027}) {
      // The year in Europe/Saratov (UTC+4), as history stores instants (UTC).
      const std::string start = std::to_string(year - 1) + "-12-31T20:00:00Z";
      const std::string cut = year == 2027 ? "2027-08-30T20:00:00Z" : std::to_string(year) + "-12-31T20:00:00Z";
      nlohmann::json want = {{"year", year}, {"pairs", {{"formed", 0}, {"active", 0}, {"completed", 0}, {"terminated", 0}, {"extended", 0}}},
                             {"monitoring", {{"due", 0}, {"on_time", 0}, {"late", 0}, {"missed", 0}}}};
      std::set<std::string> mentors, mentees, minors;
      std::map<std::string, long long> by_form, by_kind, reasons;
      double days = 0;
      int completed = 0;
      for (const auto& inst : instances) {
        const std::string id = inst["id"];
        auto h = nlohmann::json::parse(RunCli(db + "history --as d1 " + id + " --json").out);
        if (inst["workflow"] == "mentoring_pair") {
          std::string formed, ended, end_state, reason, form, kind, mentor, mentee;
          bool extended = false;
          for (const auto& e : h) {
            const std::string at = e["at"];
            if (at >= cut) break;
            for (const auto& c : e["changes"]) {
              const std::string f = c["field"];
              if (!c["after"].is_string()) continue;
              if (f == "form") form = c["after"];
              if (f == "kind") kind = c["after"];
              if (f == "mentor") mentor = c["after"];
              if (f == "mentee") mentee = c["after"];
              if (f == "termination") reason = c["after"];
            }
            if (e["to"] == "active" && formed.empty()) formed = at;
            if ((e["to"] == "completed" || e["to"] == "terminated") && ended.empty()) ended = at, end_state = e["to"];
            if (e["event"] == "change_signed" && e["to"] == "active" && at >= start) extended = true;
          }
          if (!formed.empty() && formed >= start) want["pairs"]["formed"] = want["pairs"]["formed"].get<int>() + 1;
          if (!ended.empty() && ended >= start) {
            want["pairs"][end_state] = want["pairs"][end_state].get<int>() + 1;
            if (end_state == "terminated") ++reasons[reason];
          }
          if (extended) want["pairs"]["extended"] = want["pairs"]["extended"].get<int>() + 1;
          if (!formed.empty() && (ended.empty() || ended >= start)) {
            want["pairs"]["active"] = want["pairs"]["active"].get<int>() + 1;
            ++by_form[form], ++by_kind[kind];
            mentors.insert(mentor), mentees.insert(mentee);
            if (year - birth_year(mentee) < 18) minors.insert(mentee);
            if (end_state == "completed" && ended >= start) {
              auto day = [](const std::string& t) {  // days since 1970 of an instant at local midnight
                std::tm tm{};
                strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
                return static_cast<double>(timegm(&tm)) / 86400.0;
              };
              days += day(ended) - day(formed);
              ++completed;
            }
          }
        }
        if (inst["workflow"] == "monitoring") {
          std::map<std::string, std::string> due;  // period -> on_time | late
          for (const auto& e : h) {
            if (e["at"].get<std::string>() >= cut) break;
            for (const auto& c : e["changes"]) {
              if (!c["after"].is_string()) continue;
              const std::string p = c["after"];
              if (c["field"] == "period" && p.rfind(std::to_string(year), 0) == 0) due.emplace(p, "");
              if (c["field"] == "reported_period" && e["event"] == "submit")
                due[p] = e["from"] == "collecting" ? "on_time" : "late";
            }
          }
          for (const auto& [period, how] : due) {
            if (period.rfind(std::to_string(year), 0) != 0) continue;
            if (how.empty() && period >= (year == 2027 ? std::string("2027-08-31") : std::to_string(year + 1))) continue;
            want["monitoring"]["due"] = want["monitoring"]["due"].get<int>() + 1;
            const std::string k = how.empty() ? "missed" : how;
            want["monitoring"][k] = want["monitoring"][k].get<int>() + 1;
          }
        }
      }
      want["mentors"] = mentors.size();
      want["mentees"] = mentees.size();
      want["mentees_minors"] = minors.size();
      want["mean_days_completed"] = completed ? nlohmann::json(std::round(days / completed * 10) / 10) : nlohmann::json();
      auto got = nlohmann::json::parse(RunCli(db + "stats annual --year " + std::to_string(year) + " --json").out);
      for (const char* k : {"year", "mentors", "mentees", "mentees_minors", "pairs", "monitoring", "mean_days_completed"})
        EXPECT_EQ(got[k], want[k]) << year << " " << k;
      for (const auto& [group, counts] : {std::pair<const char*, std::map<std::string, long long>*>{"by_form", &by_form},
                                          {"by_kind", &by_kind}, {"terminated_by_reason", &reasons}})
        for (const auto& [value, n] : got[group].items())
          EXPECT_EQ(n.get<long long>(), (*counts)[value]) << year << " " << group << "." << value;
      EXPECT_NE(r.out.find("== statistics for " + std::to_string(year)), std::string::npos);
      EXPECT_TRUE(std::filesystem::exists(dir + "/out/stats-" + std::to_string(year) + ".html"));
    }
  }

  // Russian everywhere a person looks: no identifier of a shipped workflow
  // (an event, a state, a role) in the visible text of any document the year
  // produced, nor in any reminder.
  std::set<std::string> ids;
  for (const auto& def : testing::Shipped().definitions()) {
    for (const auto& e : def->events) ids.insert(e);
    for (const auto& st : def->states) ids.insert(st.name);
    for (const auto& role : def->roles) ids.insert(role);
  }
  auto words = [](const std::string& text) {
    std::set<std::string> out;
    std::string w;
    for (char c : text + " ") {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') w += c;
      else if (!w.empty()) out.insert(std::exchange(w, ""));
    }
    return out;
  };
  auto visible = [](std::string html) {  // comments, the style sheet and tags out
    for (const auto& [open, close] : std::vector<std::pair<std::string, std::string>>{{"<!--", "-->"}, {"<style", "</style>"}, {"<", ">"}})
      for (size_t at = html.find(open); at != std::string::npos; at = html.find(open, at)) {
        const size_t end = html.find(close, at);
        html.replace(at, end == std::string::npos ? std::string::npos : end + close.size() - at, " ");
      }
    return html;
  };
  const std::string db = "--db sqlite:" + dir + "/demo.db ";
  auto docs = nlohmann::json::parse(RunCli(db + "doc list --as d1 --json").out);
  ASSERT_GE(docs.size(), 10u);
  for (const auto& d : docs) {
    auto page = RunCli(db + "doc render " + d["id"].get<std::string>() + " --as d1");
    ASSERT_EQ(page.code, 0) << d["id"] << ": " << page.err;
    for (const auto& w : words(visible(page.out))) EXPECT_EQ(ids.count(w), 0u) << d["id"] << " shows '" << w << "'";
  }
  for (const auto& rem : nlohmann::json::parse(rs.out))
    for (const char* part : {"subject", "text"})
      for (const auto& w : words(rem.value(part, std::string())))
        EXPECT_EQ(ids.count(w), 0u) << "reminder " << rem["id"] << " shows '" << w << "'";
}

// A database with the people of examples/import/*.jsonl, for the import tests.
class Cli_Import : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/mf_import_" + std::to_string(getpid()) + ".db";
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + ext);
    ASSERT_EQ(Db("init --institution 'Центр «Радуга»'" MF_INSTITUTION_ADDRESS " --director d1 --name Имя").code, 0);
    for (const char* p : {"c1 --role curator", "m1 --role mentor --birth 1990-01-01", "g1 --role guardian",
                          "s1 --role mentee --birth 2013-04-02 --guardian g1"})
      ASSERT_EQ(Db(std::string("person add ") + p + MF_PAPERS " --name Имя --as d1").code, 0);
    ASSERT_EQ(Db("consent sign m1 --as m1").code, 0);
    ASSERT_EQ(Db("consent sign s1 --as g1").code, 0);
  }
  void TearDown() override {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + ext);
  }
  testing::Run Db(const std::string& args) {
    return RunCli("--db sqlite:" + path_ + " --now 2026-09-01 " + args, SourcePath(""));
  }
  std::string path_;
};

TEST_F(Cli_Import, AFileIsAppliedInOneGo) {
  auto r = Db("import examples/import/pairs.jsonl --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["lines"], 22);
  EXPECT_EQ(out["started"], 3);  // the programme, the pair at its pairs stage, its plan
  EXPECT_EQ(out["events"], 11);
  // the roadmap, two on the agreement, the mentor's consent to the duties, two on the plan, the order
  EXPECT_EQ(out["signatures"], 7);
  EXPECT_EQ(out["issued"], 1);
  EXPECT_EQ(out["refs"]["order"], "1/2026");
  const std::string id = out["refs"]["pair"].get<std::string>();
  auto show = nlohmann::json::parse(Db("show --as d1 " + id + " --json").out);
  EXPECT_EQ(show["state"], "active");
  auto history = nlohmann::json::parse(Db("history --as d1 " + id + " --json").out);
  // start, submit, three signatures, ready, listed on the order, approve (by the order's signature).
  ASSERT_EQ(history.size(), 8u);
  EXPECT_EQ(history[2]["event"], "sign");
  EXPECT_EQ(history[6]["event"], "listed");
  EXPECT_EQ(history[7]["actor"], "d1");
  EXPECT_EQ(history[7]["event"], "approve");
  EXPECT_EQ(history[7]["at"], "2026-09-09T21:00:00Z") << "each line's \"at\" is when it happened (Moscow time)";
}

TEST_F(Cli_Import, AnyRefusedLineImportsNothing) {
  const std::string before = Db("list --json").out;
  auto r = Db("import examples/import/pairs_refused.jsonl");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("pairs_refused.jsonl:26: role:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was imported"), std::string::npos);
  EXPECT_EQ(Db("list --json").out, before);
  // Bad lines name themselves, and change nothing either.
  const std::string dir = ::testing::TempDir();
  const std::vector<std::pair<std::string, int>> bad = {
      {"{\"start\": \"mentoring_pair\"", 1},                                  // not JSON
      {"{\"send\": \"1\", \"event\": \"submit\", \"as\": \"c1\"}", 2},        // unknown instance
      {"{\"send\": \"@nope\", \"event\": \"submit\", \"as\": \"c1\"}", 2},    // unknown ref
      {"{\"start\": \"mentoring_pair\", \"send\": \"1\", \"as\": \"c1\"}", 1},  // two kinds
      {"{\"start\": \"mentoring_pair\", \"as\": \"c1\", \"at\": \"1 Sept\"}", 1},
      {"{\"start\": \"mentoring_pair\", \"set\": {\"months\": [9]}, \"as\": \"c1\"}", 1},
  };
  for (const auto& [line, code] : bad) {
    std::ofstream(dir + "/mf_bad.jsonl") << "# a comment\n\n" << line << "\n";
    auto b = Db("import " + dir + "/mf_bad.jsonl");
    EXPECT_EQ(b.code, code) << line << "\n" << b.err;
    EXPECT_NE(b.err.find("mf_bad.jsonl:3:"), std::string::npos) << b.err;
  }
  std::filesystem::remove(dir + "/mf_bad.jsonl");
  EXPECT_EQ(Db("list --json").out, before);
  // Nothing was used up: the first instance really imported is still number 1.
  auto ok = Db("import examples/import/pairs.jsonl --json");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["refs"]["prog"], "1");
  // (2 is the monitoring the programme started by itself at stage 2.)
  EXPECT_EQ(nlohmann::json::parse(ok.out)["refs"]["pair"], "3");
}

TEST_F(Cli_Import, ADryRunChecksEveryLineAndKeepsNothing) {
  auto r = Db("import examples/import/pairs.jsonl --dry-run");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("would import 22 line(s)"), std::string::npos);
  EXPECT_EQ(Db("list --json").out, "[]\n");
  EXPECT_EQ(Db("import examples/import/pairs_refused.jsonl --dry-run").code, 3);
}

}  // namespace
}  // namespace mentorflow

namespace mentorflow {
namespace {

// A PostgreSQL "server" that accepts connections and never answers: the
// command gives up after connect_timeout with exit 5, it does not hang.
TEST(Cli_Postgres, ASilentServerEndsTheCommandWithinItsConnectTimeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);  // the kernel completes the handshake; nobody ever speaks
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "postgresql://u@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/db?connect_timeout=2";
  auto t0 = std::chrono::steady_clock::now();
  auto r = testing::RunCli("--db '" + url + "' list");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  close(fd);
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("cannot open the database"), std::string::npos) << r.err;
  EXPECT_LT(s, 15.0);
  auto bad = testing::RunCli("--db 'postgresql://u@127.0.0.1:1/db?lock_timeout=1s%3B' list");
  EXPECT_EQ(bad.code, 1) << bad.err;
}

}  // namespace
}  // namespace mentorflow
