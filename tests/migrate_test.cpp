// Moving an instance onto another version of its workflow (engine/migrate.h):
// what moves, what blocks, and what happens to its fields and its deadline.
#include "engine/migrate.h"

#include <gtest/gtest.h>

#include "engine/loader.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

Now At(const char* day) { return Now::At(*ParseLocalTime(day, ""), ""); }

std::shared_ptr<const Definition> Load(const std::string& text) {
  auto r = LoadWorkflowText(text, "test.yaml", testing::Options());
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().ToString());
  return r.definition;
}

// Version 1: a plan with a title, a count, a kind and a list of steps; a
// deadline while it is being written. Each test changes one part for version 2.
const char* kFieldsSame = R"(  title: {type: string}
  count: {type: int, default: 0}
  kind: {type: enum, values: [short, long]}
  note: {type: string}
  steps:
    type: list
    item: {text: {type: string}, done: {type: bool, default: false}}
)";
const char* kStatesSame = R"(  draft: {initial: true, deadline: {after: 14 days, event: late, remind: [3 days], notify: curator}}
  review: {}
  done: {final: true}
)";
const char* kTransitionsSame = R"(  - {on: late, from: draft, to: review, by: system}
  - {on: send, from: draft, to: review, by: curator}
  - {on: finish, from: review, to: done, by: curator}
)";

std::string Version(int v, const std::string& fields, const std::string& states, const std::string& transitions) {
  return "workflow: plan\nversion: " + std::to_string(v) + "\nroles: [curator]\nfields:\n" + fields + "states:\n" +
         states + "transitions:\n" + transitions;
}
std::string V2(const std::string& fields, const std::string& states, const std::string& transitions) {
  return Version(2, fields, states, transitions);
}

const std::string kV1 = Version(1, kFieldsSame, kStatesSame,
                                std::string("  - {on: write, from: draft, by: curator, input: {title: {}, count: {},"
                                            " kind: {}, note: {}}}\n"
                                            "  - {on: add_step, from: draft, by: curator, append: steps}\n") +
                                    kTransitionsSame);

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = Load(kV1);
    ASSERT_TRUE(v1_);
    snap_.id = "7";
    snap_.state = v1_->StateIndex("draft");
    snap_.fields = {Value{std::string("План")}, Value{std::int64_t{3}}, Value{std::string("long")}, Value{},
                    Value{List{Item{"1", {Value{std::string("шаг")}, Value{true}}}}}};
  }
  Outcome Run(const Definition& to, const StateMap& map = {}, std::vector<std::string>* blocks = nullptr) {
    return Migrate(*v1_, to, snap_, map, Actor{"c1", {"curator"}}, "curator", At("2026-10-01"), blocks);
  }
  std::shared_ptr<const Definition> v1_;
  Snapshot snap_;
};

TEST_F(MigrateTest, SameStateAndDeadline_KeepsTheTimerAndTheValues) {
  auto v2 = Load(V2(kFieldsSame, kStatesSame, kTransitionsSame));
  auto o = Run(*v2);
  ASSERT_TRUE(o.ok()) << o.refusal.message;
  EXPECT_EQ(v2->states[o.decision->to].name, "draft");
  EXPECT_EQ(o.decision->fields, snap_.fields);
  EXPECT_TRUE(o.decision->changes.empty());
  EXPECT_TRUE(o.decision->cancel_timers.empty()) << "an unchanged deadline keeps its due date";
  EXPECT_TRUE(o.decision->timers.empty());
  EXPECT_TRUE(o.decision->documents.empty()) << "entry actions do not run again";
  EXPECT_EQ(o.decision->history.event, "migrate");
  EXPECT_EQ(o.decision->history.from, "draft");
  EXPECT_EQ(o.decision->history.to, "draft");
  EXPECT_EQ(o.decision->history.role, "curator");
}

TEST_F(MigrateTest, MappedState_MovesAndRearmsTheDeadlineFromToday) {
  auto v2 = Load(V2(kFieldsSame, R"(  writing: {initial: true, deadline: {after: 14 days, event: late, notify: curator}}
  review: {}
  done: {final: true}
)", R"(  - {on: late, from: writing, to: review, by: system}
  - {on: finish, from: review, to: done, by: curator}
)"));
  std::vector<std::string> blocks;
  auto refused = Run(*v2, {}, &blocks);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.refusal.rule, "migrate");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], "state 'draft' does not exist in version 2 (map it: --map draft=NEW)");

  auto o = Run(*v2, {{"draft", "writing"}});
  ASSERT_TRUE(o.ok()) << o.refusal.message;
  EXPECT_EQ(v2->states[o.decision->to].name, "writing");
  EXPECT_EQ(o.decision->cancel_timers, std::vector<std::string>{"deadline:draft"});
  ASSERT_EQ(o.decision->timers.size(), 1u);
  EXPECT_EQ(o.decision->timers[0].key, "deadline:writing");
  EXPECT_EQ(FormatDate(o.decision->timers[0].due), "2026-10-15");
}

TEST_F(MigrateTest, IntoAFinalState_IsBlocked) {
  auto v2 = Load(V2(kFieldsSame, kStatesSame, kTransitionsSame));
  std::vector<std::string> blocks;
  EXPECT_FALSE(Run(*v2, {{"draft", "done"}}, &blocks).ok());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], "state 'done' is final in version 2; a migration does not end an instance");
}

TEST_F(MigrateTest, DroppedFieldWithAValue_IsBlocked_WithoutAValue_Goes) {
  const std::string no_title = R"(  count: {type: int, default: 0}
  kind: {type: enum, values: [short, long]}
  steps:
    type: list
    item: {text: {type: string}, done: {type: bool, default: false}}
)";  // title (set) and note (unset) are gone
  auto v2 = Load(V2(no_title, kStatesSame, kTransitionsSame));
  std::vector<std::string> blocks;
  EXPECT_FALSE(Run(*v2, {}, &blocks).ok());
  EXPECT_EQ(blocks, std::vector<std::string>{"field 'title' holds a value and version 2 has no such field"});
  snap_.fields[0] = Value{};
  auto o = Run(*v2);
  ASSERT_TRUE(o.ok()) << o.refusal.message;
  EXPECT_EQ(o.decision->fields.size(), 3u);
}

TEST_F(MigrateTest, ValuesTheNewVersionDoesNotAllow_AreEachListed) {
  const std::string changed = R"(  title: {type: int}
  count: {type: int, default: 0, max: 2}
  kind: {type: enum, values: [short]}
  note: {type: string}
  steps:
    type: list
    item: {text: {type: date}, done: {type: bool, default: false}}
)";
  auto v2 = Load(V2(changed, kStatesSame, kTransitionsSame));
  std::vector<std::string> blocks;
  EXPECT_FALSE(Run(*v2, {}, &blocks).ok());
  EXPECT_EQ(blocks, (std::vector<std::string>{
                        "field 'title' changes type from string to int and holds a value",
                        "field 'count' holds 3, out of the new version's range",
                        "field 'kind' holds 'long', which the new version does not allow",
                        "field 'steps[1].text' changes type from string to date and holds a value",
                    }));
}

TEST_F(MigrateTest, NewFields_TakeTheirDefaults_ARequiredOneWithoutDefaultBlocks) {
  auto with_default = Load(V2(std::string(kFieldsSame) + "  school: {type: string, default: Лицей}\n" +
                                  "  steps2:\n    type: list\n    item: {text: {type: string}}\n",
                              kStatesSame, kTransitionsSame));
  auto o = Run(*with_default);
  ASSERT_TRUE(o.ok()) << o.refusal.message;
  EXPECT_EQ(o.decision->fields[5], Value{std::string("Лицей")});
  EXPECT_EQ(o.decision->fields[6], Value{List{}});
  ASSERT_EQ(o.decision->changes.size(), 1u) << "an empty new list is not a change";
  EXPECT_EQ(o.decision->changes[0].field, 5);
  EXPECT_EQ(o.decision->history.changes.size(), 1u);

  auto required = Load(V2(std::string(kFieldsSame) + "  school: {type: string, required: true}\n", kStatesSame,
                          kTransitionsSame));
  std::vector<std::string> blocks;
  EXPECT_FALSE(Run(*required, {}, &blocks).ok());
  EXPECT_EQ(blocks, std::vector<std::string>{"field 'school' is required in version 2 and has no value"});
}

TEST_F(MigrateTest, ListItems_KeepTheirIdsAndGainNewItemFields) {
  const std::string more = R"(  title: {type: string}
  count: {type: int, default: 0}
  kind: {type: enum, values: [short, long]}
  note: {type: string}
  steps:
    type: list
    item: {text: {type: string}, done: {type: bool, default: false}, due: {type: string, default: "-"}}
)";
  auto v2 = Load(V2(more, kStatesSame, kTransitionsSame));
  auto o = Run(*v2);
  ASSERT_TRUE(o.ok()) << o.refusal.message;
  const auto& steps = std::get<List>(o.decision->fields[4]);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].id, "1");
  EXPECT_EQ(steps[0].values, (std::vector<Value>{Value{std::string("шаг")}, Value{true}, Value{std::string("-")}}));
}

}  // namespace
}  // namespace mentorflow
