// docs/regulation.md maps every obligation of the regulation to the YAML or
// template that keeps it, and docs/it-region.md and docs/talent.md every
// fact of the neighbouring programmes' letters. Each place is cited as `FILE` → `TEXT`; this test
// reads the tables and checks that every cited text is in its file, so the
// mapping cannot drift from what ships.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

TEST(Regulation_Map, EveryCitedTextIsInItsFile) {
  const std::string regulation = testing::ReadText(testing::SourcePath("docs/regulation.md"));
  const std::string it_region = testing::ReadText(testing::SourcePath("docs/it-region.md"));
  const std::string talent = testing::ReadText(testing::SourcePath("docs/talent.md"));
  ASSERT_FALSE(regulation.empty());
  ASSERT_FALSE(it_region.empty());
  ASSERT_FALSE(talent.empty());
  const std::string doc = regulation + "\n" + it_region + "\n" + talent;
  const std::regex cite("`((?:workflows|templates|storage|calendar|engine)/[^`]+)` → `([^`]+)`");
  const std::set<std::string> kinds = {"enforced", "automatic", "reminded", "recorded", "generated", "manual"};
  std::istringstream lines(doc);
  std::string line;
  int rows = 0, cites = 0;
  std::set<std::string> shipped_seen;
  while (std::getline(lines, line)) {
    if (line.rfind("| ", 0) != 0 || line.rfind("| §", 0) == 0) continue;
    ++rows;
    // | § | obligation | how | where |
    std::vector<std::string> cells;
    std::string cell;
    for (char c : line.substr(1)) {
      if (c == '|') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    ASSERT_EQ(cells.size(), 4u) << line;
    std::istringstream how(cells[2]);
    std::string word;
    while (std::getline(how, word, ',')) {
      word.erase(0, word.find_first_not_of(' '));
      word.erase(word.find_last_not_of(' ') + 1);
      EXPECT_EQ(kinds.count(word), 1u) << "'" << word << "' in: " << line;
    }
    const bool manual = cells[2].find("manual") != std::string::npos;
    int here = 0;
    for (std::sregex_iterator it(line.begin(), line.end(), cite), end; it != end; ++it, ++here) {
      const std::string file = (*it)[1], text = (*it)[2];
      const std::string content = testing::ReadText(testing::SourcePath(file));
      EXPECT_FALSE(content.empty()) << file << " (cited in: " << cells[1] << ")";
      EXPECT_NE(content.find(text), std::string::npos) << file << " has no '" << text << "' (cited in: " << cells[1] << ")";
      if (file.rfind("workflows/", 0) == 0) shipped_seen.insert(file);
      ++cites;
    }
    if (!manual) {
      EXPECT_GT(here, 0) << "an obligation kept by mentorflow names where: " << line;
    }
  }
  EXPECT_GE(rows, 50);
  EXPECT_GE(cites, 75);
  // Every shipped workflow keeps at least one obligation of the table.
  for (const auto& f : testing::FilesIn("workflows"))
    EXPECT_EQ(shipped_seen.count("workflows/" + f.substr(f.find_last_of('/') + 1)), 1u) << f;
}

}  // namespace
}  // namespace mentorflow
