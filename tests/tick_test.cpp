// `tick` on the real store: every timer fires once and every reminder has one
// outbox row, however many times and in however many processes it runs.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/pipeline.h"
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
  // A trigger before each history entry of `instance`'s missed week that
  // runs `sqlite` (a statement of a trigger's body) or `plpgsql`: a fault or
  // a stall injected into one firing of a tick.
  void SetTrigger(const std::string& name, const std::string& instance, const std::string& sqlite,
                  const std::string& plpgsql) {
    if (GetParam() == "sqlite") {
      testing::ExecSql(db_->url(), "CREATE TRIGGER " + name + " BEFORE INSERT ON history WHEN NEW.instance = '" +
                                       instance + "' AND NEW.event = 'week_missed' BEGIN SELECT " + sqlite + "; END");
      return;
    }
    testing::ExecSql(db_->url(), "CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                                 " IF NEW.instance = '" + instance + "' AND NEW.event = 'week_missed' THEN " + plpgsql +
                                 "; END IF; RETURN NEW; END $$");
    testing::ExecSql(db_->url(), "CREATE TRIGGER " + name + " BEFORE INSERT ON history FOR EACH ROW EXECUTE FUNCTION " +
                                     name + "()");
  }
  void DropTrigger(const std::string& name) {
    testing::ExecSql(db_->url(), "DROP TRIGGER " + name + (GetParam() == "sqlite" ? "" : " ON history"));
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
  // Both deadlines fire in one batch (one transaction): the refusal is
  // written down and the other firing of the batch stands.
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

// Issue 28: a tick fires its deadlines in batches, one transaction each.
// A firing that fails inside a batch (here a fault injected by a trigger on
// the history of one instance) is undone alone: the others of its batch
// commit, its timer stays, and the next tick fires it.
TEST_P(Tick, AFiringThatFailsInsideABatchIsUndoneAloneAndFiresAtTheNextTick) {
  auto ids = StartMany(5);
  const std::string victim = ids[2];
  SetTrigger("mf_fault", victim, "RAISE(ABORT, 'injected fault')", "RAISE EXCEPTION 'injected fault'");
  auto r = Db("tick --json", "2026-09-12");
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("failed and was undone"), std::string::npos) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  ASSERT_EQ(out["fired"].size(), 4u) << out.dump(1);
  for (const auto& f : out["fired"]) EXPECT_NE(f["instance"], victim);
  ASSERT_EQ(out["failed"].size(), 1u) << out.dump(1);
  EXPECT_EQ(out["failed"][0]["instance"], victim);
  EXPECT_EQ(out["failed"][0]["event"], "week_missed");
  const std::string error = out["failed"][0]["error"];
  EXPECT_FALSE(error.empty());
  if (GetParam() == "postgresql") {
    EXPECT_NE(error.find("injected fault"), std::string::npos) << error;
  }
  // The victim is as it was: its one history entry, its state, no notice.
  EXPECT_EQ(Json("history --as d1 " + victim, "2026-09-12").size(), 1u);
  EXPECT_EQ(Json("show --as d1 " + victim, "2026-09-12")["state"], "publishing");
  for (const auto& rem : Json("reminders --as d1 --status pending", "2026-09-12"))
    if (rem["instance"] == victim) {
      EXPECT_NE(rem["kind"], "notice") << rem.dump();
    }
  DropTrigger("mf_fault");
  auto next = Json("tick", "2026-09-12");
  ASSERT_EQ(next["fired"].size(), 1u) << next.dump(1);
  EXPECT_EQ(next["fired"][0]["instance"], victim);
  ExpectExactlyOnce(ids, 1);
}

// Issue 28: a claimed timer goes before it fires, and only if it is still
// there as claimed. On PostgreSQL that delete waits in the pipeline with the
// rest of the batch's writes, and must find its row when answered. Here a
// trigger keeps one timer's row from going (as if it had been taken from
// under the claim): that deadline does not fire, the batch is undone and runs
// again one firing at a time (PostgreSQL), and the other four fire once each.
TEST_P(Tick, ATimerNotFoundAsClaimedDoesNotFireAndTheRestOfItsBatchDoes) {
  auto ids = StartMany(5);
  const std::string victim = ids[1];
  if (GetParam() == "sqlite") {
    testing::ExecSql(db_->url(), "CREATE TRIGGER mf_keep BEFORE DELETE ON timers WHEN OLD.instance = '" + victim +
                                     "' BEGIN SELECT RAISE(IGNORE); END");
  } else {
    testing::ExecSql(db_->url(), "CREATE FUNCTION mf_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                                 " IF OLD.instance = '" + victim + "' THEN RETURN NULL; END IF; RETURN OLD; END $$");
    testing::ExecSql(db_->url(), "CREATE TRIGGER mf_keep BEFORE DELETE ON timers FOR EACH ROW EXECUTE FUNCTION mf_keep()");
  }
  auto r = Db("tick --json", "2026-09-12");
  EXPECT_EQ(r.code, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  ASSERT_EQ(out["fired"].size(), 4u) << out.dump(1);
  for (const auto& f : out["fired"]) EXPECT_NE(f["instance"], victim);
  EXPECT_TRUE(out["failed"].empty()) << out.dump(1);
  if (GetParam() == "postgresql" && !std::getenv("MENTORFLOW_TEST_PG_POOLED")) {  // no pipeline behind a pool
    EXPECT_NE(r.err.find("is undone and runs again"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("must change 1"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Json("history --as d1 " + victim, "2026-09-12").size(), 1u);
  EXPECT_EQ(Json("show --as d1 " + victim, "2026-09-12")["state"], "publishing");
  testing::ExecSql(db_->url(), std::string("DROP TRIGGER mf_keep") + (GetParam() == "sqlite" ? "" : " ON timers"));
  auto next = Json("tick", "2026-09-12");
  ASSERT_EQ(next["fired"].size(), 1u) << next.dump(1);
  EXPECT_EQ(next["fired"][0]["instance"], victim);
  ExpectExactlyOnce(ids, 1);
}

// Issue 28: an import is one transaction, and on PostgreSQL each line's
// writes wait in the pipeline until the line is done. A write the database
// refuses (a fault injected into the third line's history entry) is still
// that line's: the import names it, and keeps nothing.
TEST_P(Tick, AnImportWhoseWriteTheDatabaseRefusesNamesItsLineAndKeepsNothing) {
  const std::string before = Db("list --as d1 --json", "2026-09-01").out;
  if (GetParam() == "sqlite") {
    testing::ExecSql(db_->url(), "CREATE TRIGGER mf_fault BEFORE INSERT ON history WHEN NEW.seq = 3"
                                 " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
  } else {
    testing::ExecSql(db_->url(), "CREATE FUNCTION mf_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                                 " IF NEW.seq = 3 THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$");
    testing::ExecSql(db_->url(), "CREATE TRIGGER mf_fault BEFORE INSERT ON history FOR EACH ROW EXECUTE FUNCTION mf_fault()");
  }
  const std::string file = ::testing::TempDir() + "/mf_fault_" + std::to_string(getpid()) + ".jsonl";
  {
    std::ofstream out(file);
    out << R"({"start": "information_support", "ref": "a", "as": "c1"})" << "\n";
    for (int i = 0; i < 4; ++i)
      out << R"({"send": "@a", "event": "publish", "as": "c1", "set": {"last_url": "https://example.org/)" << i
          << R"("}})" << "\n";
  }
  auto r = Db("import " + file, "2026-09-01");
  std::filesystem::remove(file);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(".jsonl:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was imported"), std::string::npos) << r.err;
  EXPECT_EQ(Db("list --as d1 --json", "2026-09-01").out, before);
}

// An import applies its lines in one batch, which on PostgreSQL holds each
// instance's row and timers and writes them once, and queues a decision's
// reminder writes only when they differ from the previous decision's. What
// it leaves must be what the same commands leave one by one: the same
// history, state, version, deadlines and reminder rows. The lines repeat a
// publication on one day (the same reminder rows each time), move to another
// day (other rows), and come back after both deadlines have passed, so that
// they fire first inside the batch (week_missed, then still_missed).
TEST_P(Tick, AnImportLeavesWhatTheSameCommandsOneByOneLeave) {
  const auto by_hand = StartMany(1).front();
  std::vector<std::pair<std::string, std::string>> lines;  // (at, url)
  for (int i = 0; i < 4; ++i) lines.emplace_back("2026-09-01", "https://example.org/a" + std::to_string(i));
  lines.emplace_back("2026-09-03", "https://example.org/b");
  lines.emplace_back("2026-09-03", "https://example.org/c");
  for (int i = 0; i < 3; ++i) lines.emplace_back("2026-09-20T10:00", "https://example.org/d" + std::to_string(i));
  const std::string file = ::testing::TempDir() + "/mf_same_" + std::to_string(getpid()) + ".jsonl";
  {
    std::ofstream out(file);
    out << R"({"start": "information_support", "ref": "a", "as": "c1", "at": "2026-09-01"})" << "\n";
    for (const auto& [at, url] : lines)
      out << R"({"send": "@a", "event": "publish", "as": "c1", "at": ")" << at << R"(", "set": {"last_url": ")" << url
          << R"("}})" << "\n";
  }
  auto r = Db("import " + file, "2026-09-20T10:00");
  std::filesystem::remove(file);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string imported = r.out.substr(r.out.find("= ") + 2, r.out.find('\n') - r.out.find("= ") - 2);
  for (const auto& [at, url] : lines) {
    auto s = Db("send " + by_hand + " publish --as c1 --set last_url=" + url, at);
    ASSERT_EQ(s.code, 0) << s.err;
  }
  // Each other's number aside (in a reminder's text, "№ N").
  auto without_id = [](nlohmann::json j, const std::string& id) {
    for (auto& e : j) {
      e.erase("instance"), e.erase("id");
      for (const char* k : {"subject", "text"})
        if (e.contains(k))
          for (std::string t = e[k], from = "№ " + id; t.find(from) != std::string::npos;) {
            t.replace(t.find(from), from.size(), "№ N");
            e[k] = t;
          }
    }
    return j;
  };
  const auto history = Json("history --as d1 " + imported, "2026-09-20T10:00");
  EXPECT_EQ(history.size(), 1 + lines.size() + 2) << history.dump(1);  // the start, the lines, two deadlines
  EXPECT_EQ(without_id(history, imported), without_id(Json("history --as d1 " + by_hand, "2026-09-20T10:00"), by_hand));
  auto shown = Json("show --as d1 " + imported, "2026-09-20T10:00"), expected = Json("show --as d1 " + by_hand, "2026-09-20T10:00");
  shown.erase("id"), expected.erase("id");
  EXPECT_EQ(shown, expected);
  EXPECT_EQ(shown["revision"], history.size());
  for (const std::string status : {"scheduled", "pending", "cancelled"}) {
    auto mine = without_id(Json("reminders --as d1 --status " + status + " --instance " + imported, "2026-09-20T10:00"),
                           imported);
    EXPECT_EQ(mine, without_id(Json("reminders --as d1 --status " + status + " --instance " + by_hand, "2026-09-20T10:00"),
                               by_hand))
        << status;
    if (status != "pending") EXPECT_FALSE(mine.empty()) << status;
  }
  // The deadline the last publication set is the only one, and it fires once.
  auto fired = Json("tick", "2026-10-01");
  EXPECT_EQ(fired["fired"].size(), 2u) << fired.dump(1);  // each instance's week, missed on 27 September
}

// The pipeline sends a statement's text with libpq's numbered placeholders:
// a name used twice keeps its number, quoted text and casts are left alone.
TEST(PgPipelineText, NamesBecomeNumbersByFirstAppearance) {
  const auto n = storage::NumberPlaceholders(
      "INSERT INTO t VALUES (:inst, :a0, 'x:y', CAST(:b AS TEXT), :inst, now()::text, (:a0 || ''))");
  EXPECT_EQ(n.text, "INSERT INTO t VALUES ($1, $2, 'x:y', CAST($3 AS TEXT), $1, now()::text, ($2 || ''))");
  EXPECT_EQ(n.names, (std::vector<std::string>{"inst", "a0", "b"}));
}

// kill -9 in the middle of a batch: the firings it had applied are not
// committed (all of the batch or none), and the next tick fires them all,
// each once. The tick is stalled inside the batch's fourth firing (a trigger
// that does not return), after its log said the first three were applied.
TEST_P(Tick, AKilledTickCommitsNoneOfItsBatchAndTheNextFinishesIt) {
  auto ids = StartMany(5);
  std::sort(ids.begin(), ids.end());  // the order the batch takes them (due, then instance id as text)
  if (GetParam() == "sqlite") {
    testing::ExecSql(db_->url(), "CREATE TABLE mf_slow (x)");
    testing::ExecSql(db_->url(), "INSERT INTO mf_slow WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                                 " WHERE x < 3000) SELECT x FROM c");
  }
  SetTrigger("mf_stall", ids[3], "(SELECT COUNT(*) FROM mf_slow a, mf_slow b, mf_slow c)", "PERFORM pg_sleep(600)");
  const std::string log = ::testing::TempDir() + "/mf_tick_kill_" + GetParam() + ".log";
  // On PostgreSQL, no statement_timeout ends the stall before the kill.
  const std::string sep = db_->url().find('?') == std::string::npos ? "?" : "&";
  const std::string url = db_->url() + (GetParam() == "postgresql" ? sep + "statement_timeout=10min" : "");
  const std::string cmd = std::string("exec ") + MENTORFLOW_CLI + " --db '" + url +
                          "' --now 2026-09-12 --log-level info tick > /dev/null 2> '" + log + "'";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto applied = [&] {  // the log lines of firings applied so far (uncommitted)
    std::ifstream in(log);
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      for (int k = 0; k < 3; ++k)
        if (line.find("#" + ids[k] + " week_missed") != std::string::npos) ++n;
    return n;
  };
  for (int waited = 0; applied() < 3 && waited < 600; ++waited) usleep(50000);
  ASSERT_EQ(applied(), 3) << "the tick did not reach its batch's fourth firing: " << testing::ReadText(log);
  // Still inside the batch: nothing of it is visible to anyone else (read
  // beside the store, which would wait for the instances the batch holds).
  auto committed = [&] {
    soci::session raw = testing::OpenRaw(db_->url());
    int n = -1;
    raw << "SELECT COUNT(*) FROM history WHERE event = 'week_missed'", soci::into(n);
    return n;
  };
  EXPECT_EQ(committed(), 0);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  if (GetParam() == "postgresql")  // its server process, still asleep in the trigger, ends too
    testing::ExecSql(db_->url(), "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                                 " WHERE datname = current_database() AND wait_event = 'PgSleep'");
  EXPECT_EQ(committed(), 0) << "a killed batch left some of its firings";
  DropTrigger("mf_stall");
  auto next = Json("tick", "2026-09-12");
  EXPECT_EQ(next["fired"].size(), 5u) << next.dump(1);
  ExpectExactlyOnce(ids, 1);
  std::filesystem::remove(log);
}

INSTANTIATE_TEST_SUITE_P(Backends, Tick, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mentorflow
