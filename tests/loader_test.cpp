// What the loader makes of valid YAML: types, indices, the transition table.
#include <gtest/gtest.h>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

TEST(Loader_Table, LookupIsByStateAndEvent) {
  const Definition& def = *testing::Shipped().Find("mentoring_pair");
  int active = def.StateIndex("active");
  int ev = def.EventId("terminate_by_mentor");
  ASSERT_GE(active, 0);
  ASSERT_GE(ev, 0);
  auto [b, e] = def.Candidates(active, ev);
  ASSERT_EQ(e - b, 1);
  EXPECT_EQ(def.transitions[*b].event, "terminate_by_mentor");
  auto [b2, e2] = def.Candidates(def.StateIndex("proposed"), def.EventId("approve"));
  EXPECT_EQ(b2, e2);
  EXPECT_EQ(def.EventId("no_such_event"), -1);
}

TEST(Loader_Fields, InputsDeclareFieldsAndKeepTheirTypes) {
  const Definition& def = *testing::Shipped().Find("mentoring_pair");
  int reason = def.FieldIndex("termination_reason");
  ASSERT_GE(reason, 0);
  EXPECT_EQ(def.fields[reason].type, FieldType::kString);
  EXPECT_FALSE(def.fields[reason].required);  // required only as the event's input
  int months = def.FieldIndex("months");
  EXPECT_EQ(std::get<std::int64_t>(def.fields[months].default_value), 9);
  EXPECT_EQ(*def.fields[months].max, 36);
}

TEST(Loader_Lists, ItemFieldsAreTyped) {
  const Definition& def = *testing::Shipped().Find("individual_plan");
  const FieldDef& items = def.fields[def.FieldIndex("items")];
  ASSERT_EQ(items.type, FieldType::kList);
  ASSERT_EQ(items.item_fields.size(), 6u);
  EXPECT_EQ(items.item_fields[items.ItemFieldIndex("due")].type, FieldType::kDate);
  EXPECT_EQ(items.item_fields[items.ItemFieldIndex("cancel_agreed")].type, FieldType::kBool);
  EXPECT_EQ(items.item_fields[items.ItemFieldIndex("rescheduled")].type, FieldType::kBool);
  EXPECT_EQ(std::get<std::string>(items.item_fields[items.ItemFieldIndex("status")].default_value), "planned");
}

TEST(Loader_Marks, DefinitionKeepsPositionsForLaterMessages) {
  const Definition& def = *testing::Shipped().Find("monitoring");
  EXPECT_GT(def.states[def.StateIndex("collecting")].mark.line, 1);
  EXPECT_EQ(def.states[def.StateIndex("collecting")].mark.column, 3);
}

TEST(Loader_ParseValue, ChecksTypesRangesAndEnumValues) {
  const Definition& def = *testing::Shipped().Find("mentoring_pair");
  std::string err;
  EXPECT_FALSE(ParseValue(def.fields[def.FieldIndex("months")], "40", &err));
  EXPECT_NE(err.find("above the maximum 36"), std::string::npos);
  EXPECT_FALSE(ParseValue(def.fields[def.FieldIndex("months")], "9x", &err));
  EXPECT_FALSE(ParseValue(def.fields[def.FieldIndex("form")], "remote", &err));
  EXPECT_NE(err.find("not one of: virtual"), std::string::npos);
  EXPECT_TRUE(ParseValue(def.fields[def.FieldIndex("ends_on")], "2027-05-31", &err));
}

}  // namespace
}  // namespace mentorflow
