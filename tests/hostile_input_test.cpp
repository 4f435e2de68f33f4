// Hostile input through the command line, on both backends: each case of the
// adversarial run (text that is not UTF-8 or too long or full of control
// characters, look-alike ids, absurd dates, a hand-edited database,
// impersonation, starts that bind roles wrongly, bad import files). Each
// asserts the exit code, a message that repeats no personal data, and that
// every table is exactly as it was.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/store_fixture.h"

namespace mentorflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What the people below are: none of it may appear in a message.
const char* const kPersonalData[] = {"Мария Петрова", "Иван Сидоров", "c1@example.org", "Анна Смирнова",
                                     "Ольга Иванова", "Петя Иванов",   "2013-04-02",     "1990-03-01",
                                     "Маша Орлова",   "2012-06-07",    "Олег Без Даты"};

// A directory of the test's own, removed when the test ends, pass or fail.
struct ScratchDir {
  explicit ScratchDir(const std::string& prefix)
      : path(::testing::TempDir() + "/" + prefix + std::to_string(getpid())) {
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  std::string path;
};

class HostileInput : public CliDatabase {
 protected:
  void SetUp() override {
    CliDatabase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const char* p : {"m1 --name 'Анна Смирнова' --role mentor --birth 1990-03-01",
                          "m2 --name 'Илья Орлов' --role mentor --birth 1991-01-01",
                          "m3 --name 'Двойная Роль' --role mentor --role mentee --birth 2000-01-01",
                          "g1 --name 'Ольга Иванова' --role guardian --birth 1985-01-01",
                          "g2 --name 'Елена Орлова' --role guardian --birth 1986-01-01",
                          "s1 --name 'Петя Иванов' --role mentee --birth 2013-04-02 --guardian g1",
                          "s2 --name 'Маша Орлова' --role mentee --birth 2012-06-07 --guardian g2",
                          "n1 --name 'Олег Без Даты' --role mentor"})
      ASSERT_EQ(Db(std::string("person add ") + p + MF_PAPERS " --as c1", "2026-09-01").code, 0) << p;
    ProgrammeAtWork();
    pair1_ = Start("start mentoring_pair --as c1 --set mentor=m1 --set mentee=s1 --set guardian=g1 --set form=speed "
                   "--set kind=volunteer_pupil");
    pair2_ = Start("start mentoring_pair --as c1 --set mentor=m2 --set mentee=s2 --set form=speed "
                   "--set kind=volunteer_pupil");
    plan_ = Start("start individual_plan --as m1 --parent " + pair1_ + " --set mentor=m1 --set mentee=s1");
    before_ = Dump();
  }
  std::string Start(const std::string& args) {
    auto r = Db(args, "2026-09-01");
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
    std::string id = r.out;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }
  std::string Dump() { return DumpTables(db_->url()); }

  // Runs `args`, expects exit `code` and `fragment` in the message, no
  // personal data in anything printed, and the database unchanged (but for
  // the record of a read that was allowed: exit 0 on a read command).
  CliRun Refused(const std::string& args, int code, const std::string& fragment, const std::string& now = "2026-09-02") {
    auto r = Db(args, now);
    EXPECT_EQ(r.code, code) << args << "\n" << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(fragment), std::string::npos) << args << "\nmessage: " << r.err;
    // A refusal prints none of it; a read that was allowed shows the names
    // of the people it is about beside their ids, as it is meant to.
    if (code != 0) {
      for (const char* p : kPersonalData)
        EXPECT_EQ((r.out + r.err).find(p), std::string::npos) << args << " printed personal data: " << r.err;
      EXPECT_EQ(Dump(), before_) << args << " changed the database";
    }
    return r;
  }

  std::string pair1_, pair2_, plan_, before_;
};

// Finding 7: text that is not UTF-8, too long, or with control characters is
// bad input at the edge and never stored.
TEST_P(HostileInput, TextThatIsNotUtf8IsRefusedAtTheEdge) {
  Refused("person add x1 --name '\xff\xfe' --role mentor --as c1", 1, "--name is not valid UTF-8");
  Refused("person add 'x\xc3' --name X --role mentor --as c1", 1, "may contain only A-Z");
  Refused("send " + plan_ + " add_item --as m1 --set 'title=\xc0\xaf' --set due=2026-10-01", 1,
          "--set title is not valid UTF-8");
  Refused("person update s1 --name '\xed\xa0\x80' --as c1", 1, "not valid UTF-8");  // a surrogate
}

TEST_P(HostileInput, TextBeyondItsLengthIsRefused) {
  Refused("person add x1 --name '" + std::string(201, 'a') + "' --role mentor --as c1", 1, "longer than 200 bytes");
  Refused("person add " + std::string(65, 'x') + " --name X --role mentor --as c1", 1, "longer than 64 characters");
  Refused("send " + plan_ + " add_item --as m1 --set title=" + std::string(4001, 'a') + " --set due=2026-10-01", 1,
          "longer than 4000 bytes");
}

TEST_P(HostileInput, ControlCharactersAreRefusedInNamesAndIds) {
  Refused("person add x1 --name 'Имя\nm1 (mentor)  forged' --role mentor --as c1", 1, "contains a control character");
  Refused("person add 'x\n1' --name X --role mentor --as c1", 1, "may contain only");
  Refused("person update m1 --name '\x1b[2J' --as c1", 1, "contains a control character");
  // A multi-line string field keeps its line breaks, but not other controls.
  Refused("send " + plan_ + " add_item --as m1 --set 'title=a\x07' --set due=2026-10-01", 1, "control character");
  EXPECT_EQ(Db("send " + plan_ + " add_item --as m1 --set 'title=Первое\nвторое' --set due=2026-10-01", "2026-09-02")
                .code,
            0);
}

// A look-alike id (a Cyrillic 'с' for the Latin 'c') is not an id at all.
TEST_P(HostileInput, LookAlikeIdsAreRefused) {
  Refused("person add с9 --name X --role mentor --as c1", 1, "may contain only A-Z");
  Refused("send " + pair1_ + " submit --as с1", 1, "--as may contain only A-Z");
  Refused("consent sign m1 --as m１", 1, "may contain only");  // a full-width digit
}

// Finding 8: dates outside 1900-2200 are refused wherever they come in.
TEST_P(HostileInput, DatesOutsideTheRangeAreRefused) {
  Refused("send " + pair1_ + " submit --as c1", 1, "years 1900 to 2200", "9999-06-01");
  Refused("send " + pair1_ + " submit --as c1", 1, "years 1900 to 2200", "0000-01-01");
  Refused("person add x1 --name X --role mentee --birth 1800-01-01 --as c1", 1, "years 1900 to 2200");
  Refused("send " + plan_ + " add_item --as m1 --set title=x --set due=2301-01-01", 1, "years 1900 to 2200");
}

// Finding 8: a state or field the definition does not know is exit 5
// naming the instance, and the instance is not touched; reading still works.
TEST_P(HostileInput, AHandEditedStateIsAStorageErrorNamingTheInstance) {
  ExecSql(db_->url(), "UPDATE instances SET state = 'vanished' WHERE id = '" + pair1_ + "'");
  before_ = Dump();
  Refused("send " + pair1_ + " submit --as c1", 5, "instance '" + pair1_ + "'");
  Refused("send " + pair1_ + " submit --as c1", 5, "state 'vanished'");
  Refused("doc sign " + pair1_ + ":agreement --as m1", 5, "instance '" + pair1_ + "'");
  auto show = Refused("show --as d1 " + pair1_, 0, "state: vanished");
}

TEST_P(HostileInput, AHandEditedFieldIsAStorageErrorNamingTheInstance) {
  ExecSql(db_->url(), "UPDATE instances SET fields = REPLACE(fields, '\"speed\"', '\"teleport\"') WHERE id = '" +
                          pair1_ + "'");
  before_ = Dump();
  ASSERT_NE(before_.find("teleport"), std::string::npos);
  Refused("send " + pair1_ + " submit --as c1", 5, "instance '" + pair1_ + "'");
  ExecSql(db_->url(), "UPDATE instances SET fields = REPLACE(fields, '\"form\"', '\"shape\"') WHERE id = '" +
                          pair2_ + "'");
  before_ = Dump();
  Refused("send " + pair2_ + " submit --as c1", 5, "instance '" + pair2_ + "'");
}

// One hand-edited instance does not stop the institution's deadlines: the
// tick fires the others, names the instance, exits 5, and the edited
// instance's deadline waits until it is repaired.
TEST_P(HostileInput, AHandEditedInstanceDoesNotStopTheTick) {
  const std::string broken = Start("start information_support --as c1");
  const std::string sound = Start("start information_support --as c1");
  ExecSql(db_->url(), "UPDATE instances SET state = 'vanished' WHERE id = '" + broken + "'");
  auto tick = Db("tick --json", "2026-09-20");
  EXPECT_EQ(tick.code, 5) << tick.err;
  EXPECT_NE(tick.err.find("instance(s) " + broken + " did not fire"), std::string::npos) << tick.err;
  auto report = json::parse(tick.out);
  EXPECT_EQ(report["unreadable"], json::array({broken}));
  ASSERT_FALSE(report["fired"].empty());
  for (const auto& f : report["fired"]) EXPECT_EQ(f["instance"], sound);
  EXPECT_EQ(Json("show --as d1 " + sound, "2026-09-20")["state"], "lagging");
  EXPECT_EQ(Json("history --as d1 " + broken, "2026-09-20").size(), 1u);  // only its start
  ExecSql(db_->url(), "UPDATE instances SET state = 'publishing' WHERE id = '" + broken + "'");
  auto again = Db("tick --json", "2026-09-20");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["fired"][0]["instance"], broken);
  EXPECT_EQ(Json("show --as d1 " + broken, "2026-09-20")["state"], "lagging");
}

// Finding 7: what is stored cannot forge a line of text output.
TEST_P(HostileInput, StoredControlCharactersCannotForgeOutputLines) {
  ExecSql(db_->url(), "UPDATE instances SET fields = REPLACE(fields, '\"speed\"', '\"speed\\n2  forged: x\"') WHERE id = '" +
                          pair1_ + "'");
  ExecSql(db_->url(), "UPDATE history SET note = 'ok\n2  2026-09-01T00:00  d1 (director)  approve: x -> active' "
                      "WHERE instance = '" + pair1_ + "'");
  before_ = Dump();
  auto show = Refused("show --as d1 " + pair1_, 0, "speed\\n2  forged: x");
  EXPECT_EQ(show.out.find("\n2  forged"), std::string::npos) << show.out;
  auto history = Refused("history --as d1 " + pair1_, 0, "ok\\n2  2026-09-01T00:00  d1");
  EXPECT_EQ(history.out.find("\n2  2026-09-01T00:00  d1"), std::string::npos) << history.out;
  auto js = Refused("history --as d1 " + pair1_ + " --json", 0, "approve: x -> active");
  EXPECT_EQ(json::parse(js.out)[0]["note"], "ok\n2  2026-09-01T00:00  d1 (director)  approve: x -> active");
}

// Finding 6: people are registered and changed by a curator or the director;
// roles are those the workflows declare; `system` is nobody's.
TEST_P(HostileInput, NobodyRegistersThemselvesOrForgesARole) {
  Refused("person add x1 --name X --role curator", 1, "who acts?");
  Refused("person add x1 --name X --role director --as m1", 3, "may not register people");
  Refused("person add x1 --name X --role director --as system", 3, "'system' is reserved");
  Refused("person add x1 --name X --role director --as nobody9", 2, "no person 'nobody9'");
  Refused("person add x1 --name X --role system --as c1", 1, "role 'system' is reserved");
  Refused("person add system --name X --role curator --as c1", 1, "'system' is reserved");
  Refused("person add x1 --name X --role wizard --as c1", 1, "role 'wizard' is not declared");
  Refused("person update m1 --add-role director --as m1", 3, "may not register people or change them");
  Refused("person update m1 --add-role system --as c1", 1, "reserved");
  Refused("person update nobody9 --name X --as c1", 2, "no person 'nobody9'");
  Refused("person add x1 --name X --role mentee --guardian nobody9 --as c1", 2, "no person 'nobody9'");
}

TEST_P(HostileInput, ARepeatedRoleIsOneRole) {
  ASSERT_EQ(Db("person add x1" MF_PAPERS " --name X --role mentor --role mentor --as c1", "2026-09-02").code, 0);
  const std::string dump = Dump();
  EXPECT_NE(dump.find("x1|mentor|"), std::string::npos);
  EXPECT_EQ(dump.find("x1|mentor|"), dump.rfind("x1|mentor|"));
}

// Finding 6: `start` binds roles as `send` does and checks its parent.
TEST_P(HostileInput, AMentorCannotStartAPlanForAnotherMentorOrUnderAnothersPair) {
  Refused("start individual_plan --as m1 --parent " + pair1_ + " --set mentor=m2 --set mentee=s1", 3,
          "mentor");
  Refused("start individual_plan --as m1 --parent " + pair2_ + " --set mentor=m1 --set mentee=s2", 3,
          pair2_ + " is not theirs");
  Refused("start individual_plan --as m1 --parent 999 --set mentor=m1 --set mentee=s1", 2, "no instance '999'");
  // A finished parent takes no children.
  ASSERT_EQ(Db("send " + pair2_ + " cancel --as c1 --set termination_reason=x", "2026-09-02").code, 0);
  before_ = Dump();
  Refused("start individual_plan --as c1 --parent " + pair2_ + " --set mentor=m2 --set mentee=s2", 3, "finished");
}

TEST_P(HostileInput, PersonFieldsAreDistinctAndAGuardianIsTheChildsOwn) {
  Refused("start mentoring_pair --as c1 --set mentor=m3 --set mentee=m3 --set form=speed --set kind=volunteer_pupil", 3,
          "m3");
  Refused("start mentoring_pair --as c1 --set mentor=m1 --set mentee=s1 --set guardian=g2 --set form=speed "
          "--set kind=volunteer_pupil",
          3, "must be the registered guardian of mentee s1");
  Refused("send " + pair1_ + " submit --as c1 --set guardian=g2", 1, "");  // not an input of submit
}

// Finding 6: a person whose age is unknown is not taken for an adult.
TEST_P(HostileInput, ConsentWithoutABirthDateIsRefusedWithTheReason) {
  Refused("consent sign n1 --as n1", 3, "the birth date of n1 is not recorded");
  Refused("consent sign n1 --as c1", 3, "person update n1 --birth");
  Refused("consent sign s1 --as s1", 3, "a minor");
}

// Finding 9.
TEST_P(HostileInput, ADuplicateSetKeyIsRefused) {
  Refused("send " + plan_ + " add_item --as m1 --set title=a --set title=b --set due=2026-10-01", 1, "title");
  Refused("start information_support --as c1 --set last_url=a --set last_url=b", 1, "last_url");
}

TEST_P(HostileInput, ImportReadsOnlyABoundedRegularFileOfUniqueKeys) {
  const ScratchDir scratch("mf_hostile_");
  const std::string& dir = scratch.path;
  Refused("import " + dir + " --as c1", 1, "is not a regular file");
  Refused("import /dev/zero --as c1", 1, "is not a regular file");
  Refused("import " + dir + "/missing.jsonl --as c1", 2, "no such file");
  {
    std::ofstream(dir + "/huge.jsonl").close();
    fs::resize_file(dir + "/huge.jsonl", std::uintmax_t{65} << 20);  // sparse: no disk used
  }
  Refused("import " + dir + "/huge.jsonl --as c1", 1, "larger than 64 MiB");
  {
    std::ofstream out(dir + "/long.jsonl");
    out << R"({"start": "information_support", "as": "c1"})" << "\n";
    out << R"({"start": "information_support", "as": "c1", "set": {"last_url": ")" << std::string(50 << 20, 'a')
        << "\"}}\n";
  }
  Refused("import " + dir + "/long.jsonl", 1, "long.jsonl:2: the line is longer than 65536 bytes");
  {
    std::ofstream out(dir + "/dup.jsonl");
    out << R"({"start": "information_support", "as": "c1"})" << "\n";
    out << R"({"send": ")" << pair1_ << R"(", "event": "submit", "as": "c1", "as": "d1"})" << "\n";
  }
  Refused("import " + dir + "/dup.jsonl", 1, "dup.jsonl:2: the key \"as\" appears twice");
  {
    std::ofstream out(dir + "/badref.jsonl");
    out << R"({"start": "information_support", "as": "c1", "ref": "a\nb"})" << "\n";
  }
  Refused("import " + dir + "/badref.jsonl", 1, "\"ref\" may contain only");
}

TEST_P(HostileInput, AFinishedInstanceTakesNoSignature) {
  ASSERT_EQ(Db("send " + pair1_ + " submit --as c1", "2026-09-02").code, 0);
  ASSERT_EQ(Db("send " + pair1_ + " terminate_by_curator --as c1 --set termination_reason=x", "2026-09-02").code, 0);
  before_ = Dump();
  Refused("doc sign " + pair1_ + ":agreement --as m1", 3, "the instance is finished (state 'terminated')");
}

// Issue 23, finding 2: a curator does not make herself director. Only a
// director grants or removes the director and curator roles or changes a
// director; nobody changes their own roles. Each refusal is exit 3 and
// changes nothing (ASVS 5.0 V8.2: authorisation of changes to privileges).
TEST_P(HostileInput, OnlyADirectorGivesOrTakesTheOfficesAndNobodyTheirOwnRoles) {
  Refused("person update c1 --add-role director --as c1", 3, "may not change their own roles");
  Refused("person update c2 --add-role director --as c1", 3, "may not grant the director role");
  Refused("person update m1 --add-role curator --as c1", 3, "may not grant the curator role");
  Refused("person update c2 --remove-role curator --as c1", 3, "may not remove the curator role");
  Refused("person update d1 --remove-role director --as c1", 3, "may not remove the director role");
  Refused("person update d1 --name 'Кто-то' --as c1", 3, "a director (only a director does)");
  Refused("person update d1 --email x@example.org --as c1", 3, "a director (only a director does)");
  Refused("person add x1 --name X --role director --as c1", 3, "may not grant the director role");
  Refused("person add x1 --name X --role curator --as c1", 3, "may not grant the curator role");
  Refused("person update d1 --remove-role director --as d1", 3, "may not change their own roles");
  // The director may; a curator still registers and changes everyone else.
  EXPECT_EQ(Db("person update c2 --add-role director --as d1", "2026-09-02").code, 0);
  EXPECT_EQ(Db("person add x1" MF_PAPERS " --name X --role curator --as d1", "2026-09-02").code, 0);
  EXPECT_EQ(Db("person update m1 --email m1@example.org --as c1", "2026-09-02").code, 0);
}

// Issue 23, finding 4: a guardian is an adult holding the guardian role;
// nobody is their own guardian, and the links form no cycle.
TEST_P(HostileInput, AGuardianIsAnAdultWithTheRoleAndLinksFormNoCycle) {
  Refused("person add x1 --name X --role mentee --birth 2012-01-01 --guardian m1 --as c1", 3,
          "m1 does not hold the guardian role");
  Refused("person update s1 --guardian m2 --as c1", 3, "m2 does not hold the guardian role");
  Refused("person update s2 --guardian s2 --as c1", 1, "cannot be their own guardian");
  ASSERT_EQ(Db("person update m3 --add-role guardian --as c1", "2026-09-02").code, 0);  // an adult: allowed
  before_ = Dump();
  Refused("person update s1 --guardian s2 --as c1", 3, "guardian role");
  ASSERT_EQ(Db("person add k13" MF_PAPERS " --name 'Тринадцать Лет' --role guardian --birth 2013-05-05 --as c1", "2026-09-02").code, 0);
  before_ = Dump();
  Refused("person add x1 --name X --role mentee --birth 2012-01-01 --guardian k13 --as c1", 3, "k13 is under 18");
  Refused("person update s1 --guardian k13 --as c1", 3, "k13 is under 18");
  // A cycle: m3 in g1's care would make g1 their ward's ward.
  ASSERT_EQ(Db("person update g1 --guardian m3 --as c1", "2026-09-02").code, 0);
  before_ = Dump();
  Refused("person update m3 --guardian g1 --as c1", 3, "the links would form a cycle");
  // A guardian may not lose the role, nor become a minor, while they have a ward.
  ASSERT_EQ(Db("person update g1 --add-role mentor --as c1", "2026-09-02").code, 0);
  before_ = Dump();
  Refused("person update g1 --remove-role guardian --as c1", 3, "g1 does not hold the guardian role");
  Refused("person update g1 --birth 2015-01-01 --as c1", 3, "g1 is under 18");
  // The 13-year-old cannot sign anyone's consent as a guardian either.
  Refused("consent sign s1 --as k13", 3, "may not sign consent for s1");
}

// Issue 23, finding 5: the age rules of signing hold for revoking, reading
// and exporting too, on the day of the act: a minor acts through their
// guardian; the guardian's power ends when the ward turns 18.
TEST_P(HostileInput, ConsentPowersFollowAgeOnTheDayOfTheAct) {
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-01").code, 0);
  before_ = Dump();
  Refused("consent revoke s1 --as s1", 3, "a minor: their guardian or a curator does");
  Refused("person export s1 --as s1", 3, "may not read this personal data");
  Refused("person show s1 --as s1", 3, "may not read this personal data");
  Refused("doc render consent:s1 --as s1", 3, "may not read this personal data");
  EXPECT_EQ(Db("person show s1 --as g1 --json", "2026-09-02").code, 0);
  // s1 turns 18 on 2 April 2031: from that day their guardian acts no more.
  const std::string adult = "2031-04-02";
  before_ = Dump();
  Refused("consent revoke s1 --as g1", 3, "they are of age", adult);
  // No longer theirs: answered as if there were no such record (finding 7).
  Refused("person export s1 --as g1", 2, "no person 's1'", adult);
  Refused("person show s1 --as g1", 2, "no person 's1'", adult);
  Refused("doc render consent:s1 --as g1", 2, "no consent document of 's1'", adult);
  EXPECT_EQ(Db("consent revoke s1 --as g1", "2031-04-01").code, 0);  // the day before: still theirs
}

// Issue 23, finding 7: show, history, doc list, doc show, doc render,
// reminders and agenda follow the read rule of person show: a curator, the
// director, the instance's people and a minor's guardian read; someone else
// (a mentor of another pair) is answered exactly as for an id that does not
// exist, and the database is unchanged; nobody reads without --as; every
// read is recorded in the history of each person it shows.
TEST_P(HostileInput, ReadsFollowTheReadRuleAndAreRecorded) {
  ASSERT_EQ(Db("send " + pair1_ + " submit --as c1", "2026-09-01").code, 0);  // issues the agreement
  const std::string missing = "999";
  before_ = Dump();
  for (const std::string& cmd : {std::string("show "), std::string("history "), std::string("doc list ")}) {
    Refused(cmd + pair1_, 1, "who acts? give --as");
    auto stranger = Refused(cmd + pair1_ + " --as m2", 2, "no instance '" + pair1_ + "'");
    auto unknown = Refused(cmd + missing + " --as m2", 2, "no instance '999'");
    std::string same = stranger.err;
    same.replace(same.find("'" + pair1_ + "'"), pair1_.size() + 2, "'999'");
    EXPECT_EQ(same, unknown.err) << cmd << ": not theirs must read as not found";
  }
  for (const std::string& doc : {pair1_ + ":agreement", pair1_ + ":nosuchdoc"}) {
    Refused("doc show " + doc + " --as m2", 2, "no instance '" + pair1_ + "'");
    Refused("doc render " + doc + " --as m2", 2, "no instance '" + pair1_ + "'");
  }
  Refused("reminders --as m2", 3, "may read only what is theirs");
  Refused("reminders --for m1 --as m2", 3, "may read only what is theirs");
  Refused("reminders --instance " + pair1_ + " --as m2", 2, "no instance '" + pair1_ + "'");
  Refused("agenda --as m2", 3, "may read only what is theirs");
  Refused("agenda --for m1 --as m2", 3, "may read only what is theirs");
  Refused("show " + plan_ + " --as m2", 2, "no instance '" + plan_ + "'");  // the plan names m1 and s1
  // The mentee is 13: their guardian reads for them; they are told why not.
  Refused("show " + pair1_ + " --as s1", 3, "while a minor");
  // Those it concerns read, and each read is in the history of the people shown.
  for (const char* who : {"m1", "g1", "c1", "d1"}) {
    auto r = Db("show " + pair1_ + " --as " + who, "2026-09-02");
    EXPECT_EQ(r.code, 0) << who << ": " << r.err;
    EXPECT_NE(r.out.find("state: documents"), std::string::npos) << r.out;
  }
  EXPECT_EQ(Db("history " + plan_ + " --as m1", "2026-09-02").code, 0);
  EXPECT_EQ(Db("doc show " + pair1_ + ":agreement --as g1", "2026-09-02").code, 0);
  EXPECT_EQ(Db("reminders --for m2 --as m2", "2026-09-02").code, 0);
  EXPECT_EQ(Db("agenda --for s1 --as g1", "2026-09-02").code, 0);
  const auto reads = [&](const std::string& person) {
    std::vector<std::string> out;
    const auto exported = Json("person export " + person + " --as d1", "2026-09-03");
    for (const auto& h : exported["person_history"])
      if (h["event"] == "read")
        out.push_back(h["actor"].get<std::string>() + " " + h["role"].get<std::string>() + " " +
                      h["note"].get<std::string>());
    return out;
  };
  const auto s1_reads = reads("s1");
  for (const std::string& expected :
       {"m1 self show " + pair1_, "g1 self show " + pair1_, "c1 curator show " + pair1_, "d1 director show " + pair1_,
        "m1 self history " + plan_, "g1 self doc show " + pair1_ + ":agreement:1", std::string("g1 self agenda")})
    EXPECT_NE(std::find(s1_reads.begin(), s1_reads.end(), expected), s1_reads.end())
        << expected << " not among s1's reads: " << ::testing::PrintToString(s1_reads);
  // m2's refused reads left no trace; their own reminders did.
  EXPECT_EQ(reads("m2"), std::vector<std::string>{"m2 self reminders"});
}

// Issue 23, finding 13: the small ones.
TEST_P(HostileInput, SmallRefusalsSayWhatIsWrong) {
  Refused("person add x1 --name X --role mentor --as ghost", 2, "no person 'ghost'");
  Refused("send " + pair1_ + " submit --as ghost", 2, "no person 'ghost'");
  Refused("person add SYSTEM --name X --role curator --as c1", 1, "'SYSTEM' is reserved");
  Refused("person add System --name X --role curator --as c1", 1, "reserved");
  Refused("settings mail_from 'a@b.c> BODY=8BITMIME <x@y' --as c1", 1, "is not an e-mail address");
  Refused("person update m1 --email 'a@b.c> BODY=8BITMIME' --as c1", 1, "--email is not an e-mail address");
  Refused("consent sign s1 --as c1 --paper 2013-04-01", 1, "before s1 was born");
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileInput, ::testing::Values("sqlite", "postgresql"));

// SQLite only (PostgreSQL refuses such bytes itself): a database that holds
// text that is not UTF-8 (an older mentorflow stored it) still prints, as
// valid JSON with U+FFFD, instead of failing every `history --json` after.
class HostileInputSqlite : public HostileInput {};

TEST_P(HostileInputSqlite, StoredBytesThatAreNotUtf8StillPrint) {
  ExecSql(db_->url(), "UPDATE history SET note = CAST(X'6F6BFF' AS TEXT) WHERE instance = '" + pair1_ + "'");
  before_ = Dump();
  auto js = Refused("history --as d1 " + pair1_ + " --json", 0, "ok");
  EXPECT_EQ(json::parse(js.out)[0]["note"], "ok\xEF\xBF\xBD");
  Refused("history --as d1 " + pair1_, 0, "(ok\\xFF)");
}

// Finding 9: the read commands work on a file the user may read but not
// write (run as `nobody` when the tests run as root, who may write anything).
TEST_P(HostileInputSqlite, ReadCommandsWorkOnAReadOnlyFile) {
  const ScratchDir scratch("mf_readonly_");
  const std::string& dir = scratch.path;
  const std::string copy = dir + "/copy.db";
  ExecSql("sqlite:" + db_->path(), "PRAGMA wal_checkpoint(TRUNCATE)");
  fs::copy_file(db_->path(), copy);
  fs::permissions(copy, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir, fs::perms::all);  // SQLite makes its -shm beside the file
  const std::string as_reader =
      geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " MENTORFLOW_CLI " " : MENTORFLOW_CLI " ";
  auto run = [&](const std::string& args) {
    const std::string out = dir + "/out.txt";
    int status = std::system((as_reader + "--db 'sqlite:" + copy + "' " + args + " >" + out + " 2>&1").c_str());
    return std::make_pair(WEXITSTATUS(status), ReadText(out));
  };
  auto [show_code, show] = run("show --as d1 " + pair1_);
  EXPECT_EQ(show_code, 0) << show;
  EXPECT_NE(show.find("state: proposed"), std::string::npos) << show;
  EXPECT_EQ(run("list").first, 0);
  EXPECT_EQ(run("history --as d1 " + pair1_).first, 0);
  EXPECT_EQ(run("reminders --as d1").first, 0);
  EXPECT_EQ(run("settings").first, 0);
  auto [send_code, send] = run("send " + pair1_ + " submit --as c1");
  EXPECT_EQ(send_code, 5) << send;  // a writer is told it cannot write
}

// Finding of the documents issue (file safety): the database files are made
// readable by their owner only, and a file someone made readable to others
// is named with a warning every time it is opened.
TEST_P(HostileInputSqlite, TheDatabaseFileIsTheOwnersAndAWiderModeIsWarnedAbout) {
  auto mode = [](const std::string& path) {
    return fs::status(path).permissions() & (fs::perms::group_all | fs::perms::others_all);
  };
  EXPECT_EQ(mode(db_->path()), fs::perms::none);
  auto quiet = Db("list", "2026-09-02");
  EXPECT_EQ(quiet.code, 0);
  EXPECT_EQ(quiet.err.find("readable by other users"), std::string::npos) << quiet.err;
  fs::permissions(db_->path(), fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto warned = Db("list", "2026-09-02");
  EXPECT_EQ(warned.code, 0);
  EXPECT_NE(warned.err.find(db_->path() + " is readable by other users (mode 0644)"), std::string::npos)
      << warned.err;
  EXPECT_NE(warned.err.find("chmod 600"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileInputSqlite, ::testing::Values("sqlite"));

}  // namespace
}  // namespace mentorflow::testing
