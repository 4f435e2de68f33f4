#include "engine/graph.h"

#include <gtest/gtest.h>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

TEST(Graph_Mermaid, DrawsStatesEdgesAndDeadlines) {
  const Definition* pair = testing::Shipped().Find("mentoring_pair");
  std::string g = ToMermaid(*pair);
  EXPECT_NE(g.find("stateDiagram-v2"), std::string::npos);
  EXPECT_NE(g.find("[*] --> proposed"), std::string::npos);
  EXPECT_NE(g.find("approval --> active : approve [director] *"), std::string::npos);
  EXPECT_NE(g.find("documents --> proposed : documents_overdue [system] (after 14 days)"), std::string::npos);
  EXPECT_NE(g.find("completed --> [*]"), std::string::npos);
  EXPECT_NE(g.find("active : Работает"), std::string::npos);
}

TEST(Graph_Dot, IsAWellFormedDigraph) {
  for (const auto& d : testing::Shipped().definitions()) {
    std::string g = ToDot(*d);
    EXPECT_EQ(g.rfind("digraph \"" + d->name + "\" {", 0), 0u);
    EXPECT_EQ(g.back(), '\n');
    EXPECT_EQ(std::count(g.begin(), g.end(), '{'), std::count(g.begin(), g.end(), '}'));
    EXPECT_EQ(std::count(g.begin(), g.end(), '"') % 2, 0);
  }
}

}  // namespace
}  // namespace mentorflow
