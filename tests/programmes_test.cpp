// The neighbouring programmes run from YAML and data alone: the regional
// selection's quota table as the curator edits it; the verified
// achievements and their rating. On both backends.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/store_fixture.h"

namespace mentorflow::testing {
namespace {

namespace fs = std::filesystem;

class Programmes : public CliDatabase {
 protected:
  // A copy of the shipped workflows (and their tables) the test may edit.
  void SetUp() override {
    CliDatabase::SetUp();
    if (IsSkipped() || HasFailure()) return;
    dir_ = fs::temp_directory_path() / ("mf_programmes_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::copy(SourcePath("workflows"), dir_, fs::copy_options::recursive);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string W() const { return "--workflows " + dir_.string() + " "; }
  void WriteTable(const std::string& text) { std::ofstream(dir_ / "tables" / "it_region_quota.csv") << text; }
  fs::path dir_;
};

// The quota is the curator's file: edited and stored again by `init`, it
// counts from then on, under the workflow version already running, and the
// earlier version is kept. A table that does not parse is refused by `init`
// with its line and column, and nothing changes.
TEST_P(Programmes, AnEditedQuotaTableCountsFromTheNextInit) {
  const std::string now = "2027-06-01";
  ItRegionCandidates(3, now);
  const std::string season = ItRegionSeason(now);
  ASSERT_EQ(ItRegionRegister(season, 0, "velizh", now, W()).code, 0);
  ASSERT_EQ(ItRegionRegister(season, 1, "velizh", now, W()).code, 0);
  auto over = ItRegionRegister(season, 2, "velizh", now, W());
  EXPECT_EQ(over.code, 3);
  EXPECT_NE(over.err.find("(register of velizh «Велижский район» in table it_region_quota) (it is 2)"), std::string::npos)
      << over.err;

  std::string text = ReadText((dir_ / "tables" / "it_region_quota.csv").string());
  const std::string line = "velizh,Велижский район,2,1";
  ASSERT_NE(text.find(line), std::string::npos);
  text.replace(text.find(line), line.size(), "velizh,Велижский район,3,1");
  WriteTable(text);
  auto init = Db(W() + "init", now);
  ASSERT_EQ(init.code, 0) << init.err;
  EXPECT_NE(init.out.find("registered table it_region_quota v2"), std::string::npos) << init.out;
  EXPECT_EQ(init.out.find("registered it_region"), std::string::npos) << "the workflows did not change: " << init.out;
  EXPECT_EQ(ItRegionRegister(season, 2, "velizh", now, W()).code, 0) << "the third place the edited table gives";

  auto list = Json("table list", now);
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[1]["version"], 2);
  EXPECT_NE(Db("table show it_region_quota --version 1", now).out.find(line), std::string::npos);
  auto latest = Json("table show it_region_quota", now);
  EXPECT_EQ(latest["rows"][0]["register"], "3") << latest.dump();

  WriteTable("municipality,title,register,admit\nvelizh,Велижский район,x\n");
  auto bad = Db(W() + "init", now);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("it_region_quota.csv:2:1: error: this row has 3 fields, the header 4"), std::string::npos)
      << bad.err;
  EXPECT_EQ(Json("table list", now).size(), 2u) << "nothing stored";
  EXPECT_EQ(Db("table show it_region_quota --version 3", now).code, 2);
}

// Achievements: submitted, verified or rejected with a reason; the rating of
// a direction from the verified ones, ties ranked equal, names for the
// curator and moderator only (the read in each listed person's history);
// new weights in the YAML (a new version, `init`) re-rank at once, with the
// instances still on their version.
TEST_P(Programmes, VerifiedAchievementsRankPerDirectionByTheWeightsInForce) {
  const std::string now = "2027-03-01";
  ASSERT_EQ(Db("person add mod1" MF_PAPERS " --as d1 --name 'Модератор' --role moderator --birth 1985-01-01", now).code, 0);
  PeopleWithConsent("p", "participant", "Участник", 1, 4, now, "portfolio");
  ASSERT_EQ(Db("person add p5" MF_PAPERS " --as d1 --name 'Участник 5' --role participant --birth 2008-01-01", now).code, 0);
  auto submit = [&](const std::string& who, const std::string& kind, const std::string& result,
                    const std::string& direction = "python", const std::string& on = "2027-02-10") {
    return Db("start achievement --as " + who + " --set participant=" + who + " --set event='Олимпиада КД НТИ'" +
                  " --set kind=" + kind + " --set result=" + result + " --set held_on=" + on +
                  " --set direction=" + direction + " --set evidence=https://example.org/" + who,
              now);
  };
  auto id = [](const CliRun& r) { return r.out.substr(0, r.out.find('\n')); };
  auto verify = [&](const CliRun& r) { EXPECT_EQ(Db("send " + id(r) + " verify --as mod1", now).code, 0) << r.err; };
  verify(submit("p1", "olympiad", "winner"));                       // 10 x 3 = 30
  verify(submit("p1", "hackathon", "winner", "robotics"));          // another direction
  verify(submit("p2", "hackathon", "winner"));                      // 8 x 3 = 24
  verify(submit("p3", "olympiad", "prize"));                        // 10 x 2 = 20
  verify(submit("p3", "testing", "participant"));                   // 4 x 1 = 4
  verify(submit("p4", "olympiad", "participant"));                  // 10
  auto rejected = submit("p4", "olympiad", "winner");
  auto own = Db("send " + id(rejected) + " verify --as p4", now);
  EXPECT_EQ(own.code, 3) << "a participant does not verify their own";
  EXPECT_EQ(Db("send " + id(rejected) + " reject --as mod1", now).code, 1) << "a rejection needs its reason";
  ASSERT_EQ(Db("send " + id(rejected) + " reject --as mod1 --set reject_reason='Нет диплома по ссылке'", now).code, 0);
  auto pending = submit("p4", "hackathon", "winner");               // not verified: not counted
  ASSERT_EQ(pending.code, 0);
  EXPECT_EQ(submit("p5", "olympiad", "winner").code, 3) << "no consent";
  auto future = submit("p4", "olympiad", "winner", "python", "2027-03-02");
  EXPECT_EQ(future.code, 3);
  EXPECT_NE(future.err.find("held_on <= today"), std::string::npos) << future.err;

  auto rating = Json("stats rating --direction python --as p1", now);
  auto ranks = [](const nlohmann::json& r) {
    std::string out;
    for (const auto& e : r["ranking"])
      out += std::to_string(e["rank"].get<int>()) + " " + e["person"].get<std::string>() + " " +
             std::to_string(e["score"].get<long long>()) + "; ";
    return out;
  };
  EXPECT_EQ(ranks(rating), "1 p1 30; 2 p2 24; 2 p3 24; 4 p4 10; ") << rating.dump();
  EXPECT_EQ(rating["ranking"][1]["normalised"], 80.0);
  EXPECT_EQ(rating["ranking"][3]["normalised"], 33.3);
  EXPECT_FALSE(rating["ranking"][0].contains("name")) << "a participant sees ids only";
  auto text = Db("stats rating --direction python --as mod1", now);
  EXPECT_NE(text.out.find("2. p3  Участник 3  80.0  (score 24, 2 counted)"), std::string::npos) << text.out;
  const std::string p3 = Json("person export p3 --as p3", now)["person_history"].dump();
  EXPECT_NE(p3.find("stats rating achievement python"), std::string::npos) << "the moderator's read: " << p3;
  auto unknown = Db("stats rating --direction pyton --as c1", now);
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("did you mean 'python'?"), std::string::npos) << unknown.err;

  // The rejected one, corrected and verified, counts.
  ASSERT_EQ(Db("send " + id(rejected) + " resubmit --as p4 --set evidence=https://example.org/p4-diploma", now).code, 0);
  ASSERT_EQ(Db("send " + id(rejected) + " verify --as mod1", now).code, 0);
  EXPECT_EQ(ranks(Json("stats rating --direction python", now)), "1 p4 40; 2 p1 30; 3 p2 24; 3 p3 24; ");

  // New weights: the olympiad worth 4. The instances stay on version 3.
  std::string yaml = ReadText((dir_ / "achievement.yaml").string());
  yaml.replace(yaml.find("version: 3"), 10, "version: 4");
  yaml.replace(yaml.find("olympiad: 10"), 12, "olympiad: 4");
  std::ofstream(dir_ / "achievement.yaml") << yaml;
  ASSERT_EQ(Db(W() + "init", now).code, 0);
  auto reweighted = Json("stats rating --direction python", now);
  EXPECT_EQ(reweighted["version"], 4);
  EXPECT_EQ(reweighted["weights"]["olympiad"], 4);
  EXPECT_EQ(ranks(reweighted), "1 p2 24; 2 p4 16; 3 p1 12; 3 p3 12; ") << reweighted.dump();
  EXPECT_EQ(Json("show --as d1 " + id(rejected), now)["version"], 3);
}

// Issue 23, finding 11: a person who is both participant and moderator (or
// the guardian of a participant, and a moderator) never verifies, rejects
// or revokes that achievement; another moderator does. Nothing changes on
// the refusal.
TEST_P(Programmes, NobodyJudgesTheirOwnAchievement) {
  const std::string now = "2027-03-01";
  ASSERT_EQ(Db("person add mod1" MF_PAPERS " --as d1 --name 'Модератор' --role moderator --birth 1985-01-01", now).code, 0);
  ASSERT_EQ(Db("person add both" MF_PAPERS " --as d1 --name 'Участник и модератор' --role participant --role moderator"
               " --role guardian --birth 2000-01-01", now).code, 0);
  ASSERT_EQ(Db("consent sign both --as both --purpose portfolio", now).code, 0);
  ASSERT_EQ(Db("person add kid" MF_PAPERS " --as d1 --name 'Ребёнок' --role participant --birth 2012-01-01 --guardian both", now).code, 0);
  ASSERT_EQ(Db("consent sign kid --as both --purpose portfolio", now).code, 0);
  ASSERT_EQ(Db("consent sign kid --as kid --purpose portfolio", now).code, 0);  // 15: beside the guardian
  auto submit = [&](const std::string& who, const std::string& as) {
    auto r = Db("start achievement --as " + as + " --set participant=" + who + " --set event='Хакатон'" +
                    " --set kind=hackathon --set result=winner --set held_on=2027-02-10 --set direction=python"
                    " --set evidence=https://example.org/" + who,
                now);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  for (const auto& [who, as] : std::vector<std::pair<std::string, std::string>>{{"both", "both"}, {"kid", "c1"}}) {
    const std::string id = submit(who, as);
    const auto history = Json("history " + id + " --as d1", now).size();
    for (const char* event : {"verify", "reject --set reject_reason=Нет"}) {
      auto own = Db("send " + id + " " + event + " --as both", now);
      EXPECT_EQ(own.code, 3) << who << " " << event;
      EXPECT_NE(own.err.find("may not send"), std::string::npos) << own.err;
    }
    EXPECT_EQ(Json("show " + id + " --as d1", now)["state"], "submitted");
    EXPECT_EQ(Json("history " + id + " --as d1", now).size(), history);
    ASSERT_EQ(Db("send " + id + " verify --as mod1", now).code, 0);
    EXPECT_EQ(Db("send " + id + " revoke --as both --set revoke_reason=Нет", now).code, 3);
  }
  EXPECT_EQ(Json("stats rating --direction python --as d1", now)["ranking"].size(), 2u);
}

// People's attributes (declared by the shipped programme): checked against
// the declaration (a refusal creates nothing), shown and exported; erasure
// keeps an enum's value (a kind of school, for the anonymous breakdowns)
// and removes any other (a municipality's name), from the history notes too.
TEST_P(Programmes, AttributesAreCheckedAndErasureKeepsOnlyTheEnumOnes) {
  const std::string now = "2026-09-01";
  auto add = Db("person add s1" MF_PAPERS " --as d1 --name 'Ученик' --role mentee --attr school_type=rural --attr municipality=Велиж",
                now);
  ASSERT_EQ(add.code, 0) << add.err;
  auto bad = Db("person add s2" MF_PAPERS " --as d1 --name 'Ученик 2' --role mentee --attr school_type=village", now);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("'village' is not one of: rural, urban, special"), std::string::npos) << bad.err;
  EXPECT_EQ(Db("person show s2 --as d1", now).code, 2) << "nothing was created";
  auto unknown = Db("person update s1 --as d1 --attr school_typ=urban", now);
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("did you mean 'school_type'?"), std::string::npos) << unknown.err;
  EXPECT_EQ(Db("person update s1 --as d1 --attr bad", now).code, 1);
  auto by = Db("stats annual --year 2026 --by schools", now);
  EXPECT_EQ(by.code, 1);
  EXPECT_NE(by.err.find("--by: no attribute 'schools' is declared (attributes: school_type, school, municipality)"),
            std::string::npos) << by.err;
  auto empty = Json("stats annual --year 2026 --by school_type --json", now);
  EXPECT_EQ(empty["parts"][0]["value"], "rural") << empty.dump();
  EXPECT_TRUE(empty["parts"][0]["mentees_share"].is_null()) << "no mentee in the year: nothing to measure";
  EXPECT_TRUE(empty["parts"][0]["share_met"].is_null()) << empty.dump();
  EXPECT_EQ(empty["parts"][0]["registered_mentees"], 1) << empty.dump();
  EXPECT_EQ(empty["parts"][0]["coverage"], 0.0) << "s1 is registered rural, in no pair";
  auto shown = Json("person show s1 --as d1", now);
  EXPECT_EQ(shown["attributes"], (nlohmann::json{{"municipality", "Велиж"}, {"school_type", "rural"}})) << shown.dump();

  // The history records that the municipality changed, not what it was.
  ASSERT_EQ(Db("person update s1 --as d1 --attr municipality=Вязьма --attr school_type=urban", now).code, 0);
  ASSERT_EQ(Db("person update s1 --as d1 --attr municipality=Ярцево", now).code, 0);
  const std::string notes = Json("person export s1 --as c1", now)["person_history"].dump();
  EXPECT_EQ(notes.find("Вязьма"), std::string::npos) << notes;
  EXPECT_NE(notes.find("school_type=urban"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("Велиж"), std::string::npos) << notes;
  // A note written before that kept the value (as person add did until
  // December 2026) loses it too.
  ExecSql(db_->url(), "UPDATE person_history SET note = 'roles: mentee; municipality=Велиж; school_type=rural'"
                      " WHERE person = 's1' AND event = 'registered'");
  ASSERT_NE(Json("person export s1 --as c1", now)["person_history"].dump().find("municipality=Велиж"),
            std::string::npos);

  ASSERT_EQ(Db("person erase s1 --as c1", now).code, 0);
  auto exported = Json("person export s1 --as c1", now);
  EXPECT_EQ(exported["person"]["attributes"], (nlohmann::json{{"school_type", "urban"}})) << exported.dump();
  for (const char* gone : {"Велиж", "Вязьма", "Ярцево"})
    EXPECT_EQ(exported.dump().find(gone), std::string::npos) << gone << ": the municipalities are gone, history notes included";
  EXPECT_NE(exported.dump().find("school_type=urban"), std::string::npos) << "the enum's notes stay";
}

INSTANTIATE_TEST_SUITE_P(Backends, Programmes, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace mentorflow::testing
