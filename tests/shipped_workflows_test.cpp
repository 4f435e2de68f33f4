// The shipped workflows validate and say in Russian what a person sees.
#include <gtest/gtest.h>

#include <set>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

bool HasCyrillic(const std::string& s) { return s.find("\xd0") != std::string::npos || s.find("\xd1") != std::string::npos; }

TEST(ShippedWorkflows_Validate, AllLoadWithoutErrors) {
  const auto& c = testing::Shipped();
  for (const auto& e : c.errors()) ADD_FAILURE() << e.ToString();
  std::set<std::string> names;
  for (const auto& d : c.definitions()) names.insert(d->name);
  EXPECT_EQ(names, (std::set<std::string>{"programme", "mentoring_pair", "individual_plan", "monitoring",
                                          "annual_report", "information_support", "personal_data", "mentoring_group", "publication_consent",
                                          "it_region_season", "it_region_selection", "achievement"}));
  std::set<std::string> tables;
  for (const auto& t : c.tables()) tables.insert(t.name);
  EXPECT_EQ(tables, (std::set<std::string>{"it_region_quota"}));
}

TEST(ShippedWorkflows_Titles, EveryWorkflowStateAndDocumentHasARussianTitle) {
  for (const auto& d : testing::Shipped().definitions()) {
    EXPECT_TRUE(HasCyrillic(d->title)) << d->name;
    for (const auto& s : d->states) EXPECT_TRUE(HasCyrillic(s.title)) << d->name << "." << s.name;
    for (const auto& doc : d->documents) EXPECT_TRUE(HasCyrillic(doc.title)) << d->name << "." << doc.name;
    for (const auto& f : d->fields) EXPECT_TRUE(HasCyrillic(f.title)) << d->name << "." << f.name;
  }
}

TEST(ShippedWorkflows_Regulation, PairHasTheFiveFormsAndSixKinds) {
  const Definition* pair = testing::Shipped().Find("mentoring_pair");
  ASSERT_NE(pair, nullptr);
  const auto& form = pair->fields[pair->FieldIndex("form")];
  EXPECT_EQ(form.values, (std::vector<std::string>{"virtual", "short_term", "reverse", "situational", "speed"}));
  EXPECT_EQ(pair->fields[pair->FieldIndex("kind")].values.size(), 6u);
  for (const auto& t : form.value_titles) EXPECT_TRUE(HasCyrillic(t));
}

TEST(ShippedWorkflows_Regulation, MonitoringAndReportDates) {
  const Definition* mon = testing::Shipped().Find("monitoring");
  const auto& dl = *mon->states[mon->initial_state].deadline;
  ASSERT_EQ(dl.kind, DeadlineDef::Kind::kYearly);
  ASSERT_EQ(dl.yearly.size(), 2u);
  EXPECT_EQ(dl.yearly[0].month, 12u);
  EXPECT_EQ(dl.yearly[0].day, 20u);
  EXPECT_EQ(dl.yearly[1].month, 5u);
  EXPECT_EQ(dl.yearly[1].day, 20u);
  const Definition* rep = testing::Shipped().Find("annual_report");
  const auto& rdl = *rep->states[rep->initial_state].deadline;
  EXPECT_EQ(rdl.yearly[0].month, 12u);
  EXPECT_EQ(rdl.yearly[0].day, 30u);
}

TEST(ShippedWorkflows_Templates, EveryDeclaredDocumentHasItsTemplate) {
  for (const char* t : {"consent", "agreement", "order_assign_pairs", "individual_plan", "roadmap", "annual_report"}) {
    std::string text = testing::ReadText(testing::SourcePath(std::string("templates/") + t + ".mustache"));
    EXPECT_TRUE(HasCyrillic(text)) << t;
    EXPECT_NE(text.find("{{"), std::string::npos) << t << " uses no instance data";
  }
}

TEST(ShippedWorkflows_FederalForms, AnInstitutionChangesPairKindsInYamlOnly) {
  // The federal kinds (student–student, teacher–teacher, ...) are a YAML edit.
  std::string text = testing::ReadText(testing::SourcePath("workflows/mentoring_pair.yaml"));
  auto begin = text.find("  kind:");
  auto end = text.find("  months:");
  text.replace(begin, end - begin,
               "  kind: {type: enum, required: true, title: Вид пары, values: {student_student: ученик — ученик, "
               "teacher_teacher: учитель — учитель, student_pupil: студент — ученик, employer_pupil: работодатель — "
               "ученик, employer_student: работодатель — студент}}\n");
  auto r = LoadWorkflowText(text, "federal.yaml", testing::Options());
  for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.definition->fields[r.definition->FieldIndex("kind")].values.size(), 5u);
}

}  // namespace
}  // namespace mentorflow
