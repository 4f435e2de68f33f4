// `tick` on the real store: every timer fires once and every reminder has one
// outbox row, however many times and in however many processes it runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/store_fixture.h"

namespace mentorflow {
namespace {

class Tick : public testing::CliDatabase {
 protected:
  // `n` information_support instances: each misses its week on 8 September.
  std::vector<std::string> StartMany(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto r = Db("start information_support --as c1", "2026-09-01");
      EXPECT_EQ(r.code, 0) << r.err;
      ids.push_back(r.out.substr(0, r.out.find('\n')));
    }
    return ids;
  }
  // How many times each instance's deadline fired, from its history.
  std::map<std::string, int> Firings(const std::vector<std::string>& ids) {
    std::map<std::string, int> out;
    for (const auto& id : ids)
      for (const auto& h : Json("history --as d1 " + id, "2026-09-30"))
        if (h["event"] == "week_missed") ++out[id];
    return out;
  }
  void ExpectExactlyOnce(const std::vector<std::string>& ids, int processes) {
    for (const auto& [id, n] : Firings(ids)) EXPECT_EQ(n, 1) << "instance " << id << " with " << processes << " ticks";
    EXPECT_EQ(Firings(ids).size(), ids.size());
    // Each lagging instance tells the director and both curators once.
    auto rs = Json("reminders --as d1 --status pending", "2026-09-30");
    std::map<std::string, int> per_row;
    for (const auto& r : rs) ++per_row[r["instance"].get<std::string>() + "/" + r["to"].get<std::string>() + "/" +
                                        r["kind"].get<std::string>() + "/" + r["on"].get<std::string>()];
    for (const auto& [key, n] : per_row) EXPECT_EQ(n, 1) << key;
    // the reminder two days before (c1, c2) and the overdue notice (d1, c1, c2)
    EXPECT_EQ(rs.size(), ids.size() * 5) << rs.dump(1);
  }
};

TEST_P(Tick, RepeatedTicksFireNothingMore) {
  auto ids = StartMany(3);
  // 12 September: the week missed on the 8th has fired; the lagging
  // instances escalate again only on the 15th.
  auto first = Json("tick", "2026-09-12");
  EXPECT_EQ(first["fired"].size(), 3u);
  EXPECT_EQ(first["fired"][0]["at"], "2026-09-08T20:00:00Z");  // the start of 9 September in Saratov
  auto again = Json("tick", "2026-09-12");
  EXPECT_EQ(again["fired"].size(), 0u);
  EXPECT_EQ(again["reminders_due"], 0);
  ExpectExactlyOnce(ids, 1);
}

// Dates are calendar dates in the institution's zone (Europe/Saratov, stored
// at init), whatever the machine's: here the machine claims to be at UTC+14.
TEST_P(Tick, DatesAreInTheInstitutionsZoneNotTheMachines) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "Pacific/Kiritimati", 1);
  StartMany(1);  // due 8 September
  EXPECT_EQ(Json("tick", "2026-09-08T23:30")["fired"].size(), 0u);  // still the 8th in Saratov
  auto out = Json("tick", "2026-09-09T00:10");
  ASSERT_EQ(out["fired"].size(), 1u);
  EXPECT_EQ(out["fired"][0]["at"], "2026-09-08T20:00:00Z");
  if (old) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
}

TEST_P(Tick, ConcurrentTicksFireEachTimerOnce) {
  for (int processes : {2, 4}) {
    SCOPED_TRACE(std::to_string(processes) + " processes");
    if (processes == 4) {  // a fresh set for the second round
      Db("tick", "2026-09-30");
    }
    const std::string day = processes == 2 ? "2026-09-01" : "2026-10-01";
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
      auto r = Db("start information_support --as c1", day);
      ASSERT_EQ(r.code, 0) << r.err;
      ids.push_back(r.out.substr(0, r.out.find('\n')));
    }
    const std::string when = processes == 2 ? "2026-09-12" : "2026-10-12";
    std::vector<testing::Run> runs(processes);
    std::vector<std::thread> threads;
    for (int p = 0; p < processes; ++p) threads.emplace_back([&, p] { runs[p] = Db("tick --json", when); });
    for (auto& t : threads) t.join();
    size_t fired = 0;
    for (const auto& r : runs) {
      ASSERT_EQ(r.code, 0) << r.err;
      const auto out = nlohmann::json::parse(r.out);
      for (const auto& f : out["fired"])  // the first round's instances still escalate weekly
        fired += std::count(ids.begin(), ids.end(), f["instance"].get<std::string>());
    }
    EXPECT_EQ(fired, ids.size());  // between them, each timer once
    std::map<std::string, int> firings;
    for (const auto& id : ids)
      for (const auto& h : Json("history --as d1 " + id, when))
        if (h["event"] == "week_missed") ++firings[id];
    EXPECT_EQ(firings.size(), ids.size());
    for (const auto& [id, n] : firings) EXPECT_EQ(n, 1) << id;
    auto rs = Json("reminders --as d1 --status pending", when);
    std::map<std::string, int> per_row;
    for (const auto& r : rs)
      ++per_row[r["instance"].get<std::string>() + "/" + r["to"].get<std::string>() + "/" + r["kind"].get<std::string>() +
                "/" + r["on"].get<std::string>()];
    for (const auto& [key, n] : per_row) EXPECT_EQ(n, 1) << key;
  }
}

TEST_P(Tick, ARefusedDeadlineEventIsWrittenDownAndTheTickGoesOn) {
  // A workflow whose deadline event the system may take only when a field is set.
  const std::string dir = ::testing::TempDir() + "/mf_probation_" + GetParam();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/probation.yaml") << R"(workflow: probation
version: 1
title: Испытательный срок
roles: [curator]
fields:
  ready: {type: bool, default: false}
states:
  open:
    initial: true
    deadline: {after: 3 days, event: expire}
  done: {final: true}
transitions:
  - {on: expire, from: open, to: done, by: system, when: {field: ready, eq: true}}
  - {on: finish, from: open, to: done, by: curator}
)";
  ASSERT_EQ(Db("init --workflows " + dir, "2026-09-01").code, 0);
  auto p = Db("start probation --as c1", "2026-09-01");
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string probation = p.out.substr(0, p.out.find('\n'));
  auto ids = StartMany(1);
  auto out = Json("tick", "2026-09-12");
  ASSERT_EQ(out["fired"].size(), 2u);  // the refusal did not stop the tick
  EXPECT_EQ(out["fired"][0]["instance"], probation);
  EXPECT_TRUE(out["fired"][0]["refused"].get<bool>());
  EXPECT_NE(out["fired"][0]["reason"].get<std::string>().find("ready"), std::string::npos);
  EXPECT_FALSE(out["fired"][1]["refused"].get<bool>());
  auto h = Json("history --as d1 " + probation, "2026-09-20");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1]["actor"], "system");
  EXPECT_EQ(h[1]["event"], "expire");
  EXPECT_EQ(h[1]["to"], "open");
  EXPECT_EQ(h[1]["at"], "2026-09-04T20:00:00Z");  // dated at its own moment, not the tick's
  EXPECT_NE(h[1]["note"].get<std::string>().find("refused:"), std::string::npos);
  const auto later = Json("tick", "2026-09-21");
  for (const auto& f : later["fired"]) EXPECT_NE(f["instance"], probation);  // fired once, not again
  std::filesystem::remove_all(dir);
}

TEST_P(Tick, RefusalsChangeNothing) {
  StartMany(1);
  Db("tick", "2026-09-20");
  const std::string before = Db("reminders --as d1 --status pending --json", "2026-09-20").out;
  EXPECT_EQ(Db("person add x1" MF_PAPERS " --name X --role system", "2026-09-20").code, 1);
  EXPECT_EQ(Db("person add system" MF_PAPERS " --name X --role curator", "2026-09-20").code, 1);
  EXPECT_EQ(Db("person add x2" MF_PAPERS " --name X --role wizard", "2026-09-20").code, 1);
  EXPECT_EQ(Db("person show x1", "2026-09-20").code, 1);  // no such command: usage
  EXPECT_EQ(Db("ack 999999 --as c1", "2026-09-20").code, 2);
  auto rs = Json("reminders --as d1 --status pending", "2026-09-20");
  ASSERT_FALSE(rs.empty());
  const std::string id = std::to_string(rs[0]["id"].get<long long>()), to = rs[0]["to"];
  EXPECT_EQ(Db("ack " + id + " --as nobody", "2026-09-20").code, 3);
  EXPECT_EQ(Db("ack " + id + " --as " + to, "2026-09-20").code, 0);
  auto again = Db("ack " + id + " --as " + to, "2026-09-20");
  EXPECT_EQ(again.code, 3) << again.err;
  EXPECT_NE(again.err.find("acknowledged cannot take 'ack'"), std::string::npos) << again.err;
  for (const char* bad : {"smtp://", "ftp://example.org", "jsonl:", "mail:c1", "smtp://exa mple.org"}) {
    auto r = Db(std::string("deliver --via '") + bad + "'", "2026-09-20");
    EXPECT_EQ(r.code, 1) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("expected jsonl:PATH or smtp://HOST[:PORT]"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Db("settings zone Mars/Olympus --as d1", "2026-09-20").code, 1);
  EXPECT_EQ(Db("settings deliver_max_tries 0 --as d1", "2026-09-20").code, 1);
  EXPECT_EQ(Db("settings zone Europe/Samara --as c9", "2026-09-20").code, 3);
  EXPECT_EQ(Db("settings colour red --as d1", "2026-09-20").code, 1);
  // Everything except the one acknowledgement is as it was.
  auto after = Json("reminders --as d1 --status pending", "2026-09-20");
  EXPECT_EQ(after.size() + 1, nlohmann::json::parse(before).size());
  EXPECT_EQ(Db("settings zone", "2026-09-20").out, "Europe/Saratov\n");
}

// Issue 23, finding 6: an event meets the instance as its deadlines have
// made it, whether or not `tick` ran. An interview at 10:30 on 25 July with
// no tick since: 'attended' three days later is refused, as the candidate
// was rejected for not showing up (a day's grace after 10:30, issue 26:
// the history says so, dated then); at 10:30 itself, and until the grace
// ends, the same event is taken — but not a minute before the interview.
TEST_P(Tick, ADeadlinePastDueFiresBeforeAnEventWithoutATick) {
  const std::string now = "2027-07-01";
  const std::string season = ItRegionSeason(now);
  ItRegionCandidates(2, now);
  ASSERT_EQ(Db("person add mt1" MF_PAPERS " --as d1 --name 'Наставник' --role mentor --birth 1990-01-01", now).code, 0);
  ASSERT_EQ(Db("consent sign mt1 --as mt1", now).code, 0);
  std::vector<std::string> ids;
  for (int k = 0; k < 2; ++k) {
    auto reg = ItRegionRegister(season, k, "vyazma", now);
    ASSERT_EQ(reg.code, 0) << reg.err;
    ids.push_back(reg.out.substr(0, reg.out.find('\n')));
    ASSERT_EQ(Db("send " + ids[k] + " schedule_interview --as c1 --set interviewer=mt1 --set interview_at=2027-07-25T10:30",
                 "2027-07-20").code, 0);
  }
  const std::string before = Json("show --as d1 " + ids[0], "2027-07-28")["state"];
  auto late = Db("send " + ids[0] + " attended --as mt1", "2027-07-28T11:00");
  EXPECT_EQ(late.code, 3) << late.out;
  EXPECT_EQ(Json("show --as d1 " + ids[0], "2027-07-28T11:00")["state"], "rejected");
  bool fired = false;
  for (const auto& h : Json("history --as d1 " + ids[0], "2027-07-28T11:00"))
    if (h["event"] == "no_show") {
      fired = true;
      EXPECT_EQ(h["actor"], "system");
      EXPECT_EQ(h["at"], "2027-07-26T06:30:00Z");  // a day after 10:30 in Saratov, not the moment of the late event
    }
  EXPECT_TRUE(fired) << "was " << before;
  const std::string dump = testing::DumpTables(db_->url());
  auto early = Db("send " + ids[1] + " attended --as mt1", "2027-07-25T10:29");
  EXPECT_EQ(early.code, 3) << early.err;
  EXPECT_NE(early.err.find("interview_at <= now"), std::string::npos) << early.err;
  EXPECT_EQ(testing::DumpTables(db_->url()), dump);
  auto in_time = Db("send " + ids[1] + " attended --as mt1", "2027-07-26T10:29");
  EXPECT_EQ(in_time.code, 0) << in_time.err;
  EXPECT_EQ(Json("show --as d1 " + ids[1], "2027-07-28T11:00")["state"], "interviewed");
  // tick later finds nothing more to fire for either.
  auto tick = Json("tick", "2027-07-28T11:00");
  for (const auto& f : tick["fired"]) EXPECT_NE(f["event"], "no_show") << tick.dump(1);
}

INSTANTIATE_TEST_SUITE_P(Backends, Tick, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mentorflow
