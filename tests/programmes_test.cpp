// The neighbouring programmes run from YAML and data alone: the regional
// selection's quota table as the curator edits it. On both backends.
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

INSTANTIATE_TEST_SUITE_P(Backends, Programmes, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace mentorflow::testing
