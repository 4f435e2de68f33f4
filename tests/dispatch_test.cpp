// The pure dispatch core on the shipped mentoring_pair: the happy path, every
// termination reason, and every kind of refusal, each leaving the instance
// untouched.
#include "engine/dispatch.h"

#include <gtest/gtest.h>

#include "engine/memory_institution.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

Now At(const char* day) { return Now::At(*ParseLocalTime(day, ""), ""); }

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::Shipped().ok());
    inst_ = std::make_unique<MemoryInstitution>(testing::Shipped());
    inst_->AddPerson({"d1", "Директор", {"director"}, true});
    inst_->AddPerson({"c1", "Куратор", {"curator"}, true});
    inst_->AddPerson({"m1", "Наставник", {"mentor"}, true});
    inst_->AddPerson({"m2", "Другой наставник", {"mentor"}, true});
    inst_->AddPerson({"s1", "Наставляемый", {"mentee"}, true});
    auto r = inst_->Start("mentoring_pair", {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "virtual"},
                                             {"kind", "volunteer_pupil"}, {"months", "6"}},
                          "", "c1", At("2026-09-01"));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    id_ = r.id;
  }
  MemoryInstitution::Result Send(const char* ev, const char* who, Input in = {}, const char* day = "2026-09-02") {
    return inst_->Send(id_, ev, in, who, At(day));
  }
  std::string State() const {
    const auto* i = inst_->Find(id_);
    return i->def->states[i->snap.state].name;
  }
  void ToActive() {
    ASSERT_TRUE(Send("submit", "c1").status.ok());
    ASSERT_TRUE(inst_->Sign(id_, "agreement", "m1").status.ok());
    ASSERT_TRUE(inst_->Sign(id_, "agreement", "s1").status.ok());
    ASSERT_TRUE(Send("ready", "c1").status.ok());
    ASSERT_TRUE(inst_->Sign(id_, "order", "d1").status.ok());
    auto r = Send("approve", "d1", {}, "2026-09-10");
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    ASSERT_EQ(State(), "active");
  }
  // A refused event must leave the instance exactly as it was.
  void ExpectRefusedUnchanged(const char* ev, const char* who, Input in, Code code, const char* rule) {
    const auto before = *inst_->Find(id_);
    size_t timers = inst_->pending_timers(), docs = inst_->documents().size();
    auto r = Send(ev, who, in);
    EXPECT_EQ(r.status.code(), code) << ev << ": " << r.status.message();
    EXPECT_EQ(r.rule, rule) << r.status.message();
    const auto& after = *inst_->Find(id_);
    EXPECT_EQ(after.snap.state, before.snap.state);
    EXPECT_EQ(after.snap.fields, before.snap.fields);
    EXPECT_EQ(after.history.size(), before.history.size());
    EXPECT_EQ(inst_->pending_timers(), timers);
    EXPECT_EQ(inst_->documents().size(), docs);
  }
  std::unique_ptr<MemoryInstitution> inst_;
  std::string id_;
};

TEST_F(PairTest, Dispatch_HappyPathToCompletion) {
  ToActive();
  const auto* i = inst_->Find(id_);
  int ends = i->def->FieldIndex("ends_on");
  EXPECT_EQ(FormatDate(std::get<Date>(i->snap.fields[ends])), "2027-03-10");  // 6 months after approval
  auto plan = inst_->Start("individual_plan", {{"mentor", "m1"}, {"mentee", "s1"}}, id_, "m1", At("2026-09-11"));
  ASSERT_TRUE(plan.status.ok()) << plan.status.message();
  EXPECT_EQ(Send("complete", "c1").rule, "condition");  // the plan is not done
  ASSERT_TRUE(inst_->Send(plan.id, "add_item", {{"title", "Встреча"}, {"due", "2026-10-01"}}, "m1", At("2026-09-11")).status.ok());
  ASSERT_TRUE(inst_->Send(plan.id, "submit", {}, "m1", At("2026-09-11")).status.ok());
  ASSERT_TRUE(inst_->Sign(plan.id, "plan", "m1").status.ok());
  ASSERT_TRUE(inst_->Sign(plan.id, "plan", "c1").status.ok());
  ASSERT_TRUE(inst_->Send(plan.id, "agree", {}, "c1", At("2026-09-12")).status.ok());
  EXPECT_EQ(inst_->Send(plan.id, "finish", {}, "m1", At("2026-10-02")).rule, "condition");
  ASSERT_TRUE(inst_->Send(plan.id, "update_item", {{"id", "1"}, {"status", "done"}}, "m1", At("2026-10-02")).status.ok());
  ASSERT_TRUE(inst_->Send(plan.id, "finish", {}, "m1", At("2026-10-02")).status.ok());
  auto r = Send("complete", "c1", {}, "2026-10-03");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(State(), "completed");
  EXPECT_EQ(inst_->pending_timers(), 0u);  // the active deadline went with the state
  ExpectRefusedUnchanged("complete", "c1", {}, Code::kRefused, "final");
}

struct Termination {
  const char* event;
  const char* actor;
  const char* recorded;
};

class PairTermination : public PairTest, public ::testing::WithParamInterface<Termination> {};

TEST_P(PairTermination, Dispatch_EachReasonIsRecorded) {
  ToActive();
  ExpectRefusedUnchanged(GetParam().event, GetParam().actor, {}, Code::kBadInput, "input");  // reason required
  auto r = Send(GetParam().event, GetParam().actor, {{"termination_reason", "переезд"}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(State(), "terminated");
  const auto* i = inst_->Find(id_);
  EXPECT_EQ(std::get<std::string>(i->snap.fields[i->def->FieldIndex("termination")]), GetParam().recorded);
  EXPECT_EQ(std::get<std::string>(i->snap.fields[i->def->FieldIndex("termination_reason")]), "переезд");
  const auto& h = i->history.back();
  EXPECT_EQ(h.event, GetParam().event);
  EXPECT_EQ(h.actor, GetParam().actor);
  EXPECT_EQ(h.from, "active");
  EXPECT_EQ(h.to, "terminated");
  EXPECT_EQ(h.changes.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Reasons, PairTermination,
                         ::testing::Values(Termination{"terminate_by_mentor", "m1", "mentor_initiative"},
                                           Termination{"terminate_by_mentee", "s1", "mentee_initiative"},
                                           Termination{"terminate_mutual", "c1", "mutual"},
                                           Termination{"terminate_by_curator", "c1", "curator_initiative"}),
                         [](const auto& info) { return std::string(info.param.event); });

TEST_F(PairTest, Refusal_WrongRole) {
  ExpectRefusedUnchanged("submit", "m1", {}, Code::kRefused, "role");
  ExpectRefusedUnchanged("submit", "d1", {}, Code::kRefused, "role");
}

TEST_F(PairTest, Refusal_AnotherMentorsPair) {
  ToActive();
  ExpectRefusedUnchanged("terminate_by_mentor", "m2", {{"termination_reason", "x"}}, Code::kRefused, "person");
}

TEST_F(PairTest, Refusal_UnmetConditionNamesWhatIsMissing) {
  ASSERT_TRUE(Send("submit", "c1").status.ok());
  auto r = Send("ready", "c1");
  EXPECT_EQ(r.rule, "condition");
  EXPECT_NE(r.status.message().find("document 'agreement' signed"), std::string::npos) << r.status.message();
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
}

TEST_F(PairTest, Refusal_MissingConsent) {
  inst_->SetConsent("s1", false);
  ASSERT_TRUE(Send("submit", "c1").status.ok());
  ASSERT_TRUE(inst_->Sign(id_, "agreement", "m1").status.ok());
  ASSERT_TRUE(inst_->Sign(id_, "agreement", "s1").status.ok());
  auto r = Send("ready", "c1");
  EXPECT_NE(r.status.message().find("consent of mentee (s1)"), std::string::npos) << r.status.message();
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
}

TEST_F(PairTest, Refusal_EventNotAllowedInThisState) {
  ExpectRefusedUnchanged("approve", "d1", {}, Code::kRefused, "state");
}

TEST_F(PairTest, Refusal_UnknownEventSuggestsTheNearest) {
  auto r = Send("submt", "c1");
  EXPECT_EQ(r.status.code(), Code::kBadInput);
  ExpectRefusedUnchanged("submt", "c1", {}, Code::kBadInput, "unknown_event");
}

TEST_F(PairTest, Refusal_BadInputValues) {
  ToActive();
  ExpectRefusedUnchanged("propose_change", "m1", {{"change_note", "x"}, {"proposed_ends_on", "2027-02-30"}},
                         Code::kBadInput, "input");
  ExpectRefusedUnchanged("propose_change", "m1", {{"change_note", "x"}, {"proposed_form", "remote"}}, Code::kBadInput,
                         "input");
  ExpectRefusedUnchanged("propose_change", "m1", {{"change_note", "x"}, {"months", "3"}}, Code::kBadInput, "input");
}

TEST_F(PairTest, Dispatch_ExtensionNeedsBothSides) {
  ToActive();
  ASSERT_TRUE(Send("propose_change", "m1", {{"change_note", "продлить"}, {"proposed_ends_on", "2027-06-30"}}).status.ok());
  ASSERT_TRUE(Send("mentor_agrees", "m1").status.ok());
  ExpectRefusedUnchanged("apply_change", "c1", {}, Code::kRefused, "condition");
  ExpectRefusedUnchanged("mentee_agrees", "m1", {}, Code::kRefused, "role");
  ASSERT_TRUE(Send("mentee_agrees", "s1").status.ok());
  ASSERT_TRUE(Send("apply_change", "c1").status.ok());
  const auto* i = inst_->Find(id_);
  EXPECT_EQ(FormatDate(std::get<Date>(i->snap.fields[i->def->FieldIndex("ends_on")])), "2027-06-30");
  EXPECT_EQ(State(), "active");
}

TEST_F(PairTest, Dispatch_ReplacementIsDecidedByTheDirector) {
  ToActive();
  ASSERT_TRUE(Send("request_replacement", "s1", {{"replacement_reason", "нет контакта"}}).status.ok());
  ExpectRefusedUnchanged("replace_mentor", "c1", {{"mentor", "m2"}}, Code::kRefused, "role");
  ExpectRefusedUnchanged("replace_mentor", "d1", {{"mentor", "s1"}}, Code::kBadInput, "input");  // not a mentor
  ASSERT_TRUE(Send("replace_mentor", "d1", {{"mentor", "m2"}}).status.ok());
  EXPECT_EQ(State(), "documents");  // a new agreement is needed
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
}

TEST_F(PairTest, Dispatch_StartRefusals) {
  auto n = inst_->pending_timers();
  auto missing = inst_->Start("mentoring_pair", {{"mentor", "m1"}}, "", "c1", At("2026-09-01"));
  EXPECT_EQ(missing.status.code(), Code::kBadInput);
  auto unknown = inst_->Start("mentoring_pair", {{"mentor", "m1"}, {"colour", "red"}}, "", "c1", At("2026-09-01"));
  EXPECT_EQ(unknown.status.code(), Code::kBadInput);
  auto role = inst_->Start("mentoring_pair", {}, "", "s1", At("2026-09-01"));
  EXPECT_EQ(role.status.code(), Code::kRefused);
  auto nowf = inst_->Start("no_such_workflow", {}, "", "c1", At("2026-09-01"));
  EXPECT_EQ(nowf.status.code(), Code::kNotFound);
  EXPECT_EQ(inst_->instances().size(), 1u);
  EXPECT_EQ(inst_->pending_timers(), n);
}

TEST_F(PairTest, Dispatch_DeadlinesAndReminders) {
  ASSERT_TRUE(Send("submit", "c1", {}, "2026-09-01").status.ok());
  // Documents due 14 days later; reminders 7 days and 1 day before.
  auto early = inst_->Tick(At("2026-09-07"));
  EXPECT_TRUE(early.reminders.empty());
  auto week = inst_->Tick(At("2026-09-08"));
  ASSERT_EQ(week.reminders.size(), 1u);
  EXPECT_EQ(week.reminders[0].recipients, std::vector<std::string>{"c1"});
  EXPECT_EQ(FormatDate(*week.reminders[0].spec.due), "2026-09-15");
  auto due_day = inst_->Tick(At("2026-09-15"));
  EXPECT_TRUE(due_day.fired.empty());  // due *by* the 15th
  auto after = inst_->Tick(At("2026-09-16"));
  ASSERT_EQ(after.fired.size(), 1u);
  EXPECT_EQ(State(), "proposed");
  EXPECT_TRUE(inst_->Tick(At("2026-09-16")).fired.empty());  // repeating a tick does nothing
}

TEST(Dispatch_Pure, SameInputsGiveTheSameDecision) {
  const Definition& def = *testing::Shipped().Find("mentoring_pair");
  MemoryInstitution world(testing::Shipped());
  world.AddPerson({"c1", "", {"curator"}, true});
  world.AddPerson({"m1", "", {"mentor"}, true});
  world.AddPerson({"s1", "", {"mentee"}, true});
  Input in = {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "speed"}, {"kind", "counsellor_pupil"}};
  auto a = Start(def, in, "", world.ActorFor("c1"), At("2026-09-01"), world);
  auto b = Start(def, in, "", world.ActorFor("c1"), At("2026-09-01"), world);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.decision->fields, b.decision->fields);
  // mentor, mentee, form, kind as given; months and the four flags from their defaults.
  EXPECT_EQ(a.decision->history.changes.size(), 9u);
}

}  // namespace
}  // namespace mentorflow
