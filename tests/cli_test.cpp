// The command-line contract: exit codes, file:line:col errors, --json, and
// global options anywhere on the line.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <utility>

#include <cctype>

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
  EXPECT_NE(r.out.find("9 file(s), 9 workflow(s): valid"), std::string::npos) << r.out;
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
  EXPECT_NE(all.out.find("9 file(s), 9 workflow(s): valid"), std::string::npos) << all.out;
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
  // A plan item's own due date reminds the mentor and the mentee, naming the item.
  EXPECT_NE(r.out.find("to s1 (Воспитанник Петя) about plan1: Скоро срок: «Знакомство, постановка целей» — до 01.10.2026"),
            std::string::npos)
      << r.out;
  // The demo's database stays, and the commands read it.
  auto rs = RunCli("--db sqlite:" + dir + "/demo.db reminders --json");
  ASSERT_EQ(rs.code, 0) << rs.err;
  // as many as the story counted, every one of them stored
  const size_t counted = r.out.rfind(" reminder(s), ");
  ASSERT_NE(counted, std::string::npos) << r.out;
  const size_t from = r.out.rfind(' ', counted - 1) + 1;
  EXPECT_EQ(nlohmann::json::parse(rs.out).size(), std::stoul(r.out.substr(from, counted - from)));
  EXPECT_GE(nlohmann::json::parse(rs.out).size(), 20u);
  EXPECT_FALSE(testing::ReadText(dir + "/graphs/mentoring_pair.mmd").empty());

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
  auto docs = nlohmann::json::parse(RunCli(db + "doc list --json").out);
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
    ASSERT_EQ(Db("init --director d1 --name Имя").code, 0);
    for (const char* p : {"c1 --role curator", "m1 --role mentor --birth 1990-01-01", "g1 --role guardian",
                          "s1 --role mentee --birth 2013-04-02 --guardian g1"})
      ASSERT_EQ(Db(std::string("person add ") + p + " --name Имя --as d1").code, 0);
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
  EXPECT_EQ(out["lines"], 16);
  EXPECT_EQ(out["started"], 2);  // the programme, then the pair at its pairs stage
  EXPECT_EQ(out["events"], 8);
  EXPECT_EQ(out["signatures"], 5);  // the roadmap, two on the agreement, the mentor's consent to the duties, the order
  EXPECT_EQ(out["issued"], 1);
  EXPECT_EQ(out["refs"]["order"], "1/2026");
  const std::string id = out["refs"]["pair"].get<std::string>();
  auto show = nlohmann::json::parse(Db("show " + id + " --json").out);
  EXPECT_EQ(show["state"], "active");
  auto history = nlohmann::json::parse(Db("history " + id + " --json").out);
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
  EXPECT_NE(r.err.find("pairs_refused.jsonl:19: role:"), std::string::npos) << r.err;
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
  EXPECT_EQ(nlohmann::json::parse(ok.out)["refs"]["pair"], "2");
}

TEST_F(Cli_Import, ADryRunChecksEveryLineAndKeepsNothing) {
  auto r = Db("import examples/import/pairs.jsonl --dry-run");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("would import 16 line(s)"), std::string::npos);
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
