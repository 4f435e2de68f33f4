// The pure dispatch core on the shipped mentoring_pair: the happy path, every
// termination reason, and every kind of refusal, each leaving the instance
// untouched. Driven through a fake World (tests/fake_world.h); what storage
// does with a decision is tested on the store.
#include "engine/dispatch.h"

#include <gtest/gtest.h>

#include "tests/fake_world.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

Now At(const char* day) { return Now::At(*ParseLocalTime(day, ""), ""); }

std::vector<std::string> Days(const std::vector<ReminderSpec>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(FormatDate(r.on));
  std::sort(out.begin(), out.end());
  return out;
}

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::Shipped().ok());
    world_.Add("d1", {"director"});
    world_.Add("c1", {"curator"});
    world_.Add("m1", {"mentor"});
    world_.Add("m2", {"mentor"});
    world_.Add("s1", {"mentee"});
    auto st = pair_.Start(*testing::Shipped().Find("mentoring_pair"),
                          {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "virtual"}, {"kind", "volunteer_pupil"},
                           {"months", "6"}},
                          world_.ActorFor("c1"), At("2026-09-01"), world_);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  Status Send(const char* ev, const char* who, Input in = {}, const char* day = "2026-09-02") {
    return pair_.Send(ev, in, world_.ActorFor(who), At(day), world_);
  }
  std::string State() const { return pair_.State(); }
  void ToActive() {
    ASSERT_TRUE(Send("submit", "c1").ok());
    pair_.MarkSigned("agreement");
    pair_.MarkSigned("duties_consent");
    const auto children = world_.children;
    world_.children = {1, 1};  // its individual plan, agreed
    ASSERT_TRUE(Send("ready", "c1").ok());
    world_.children = children;
    pair_.MarkSigned("order");
    auto r = Send("approve", "d1", {}, "2026-09-10");
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_EQ(State(), "active");
  }
  // A refused event must leave the instance exactly as it was.
  void ExpectRefusedUnchanged(const char* ev, const char* who, Input in, Code code, const char* rule) {
    const auto before = pair_.snap;
    const size_t history = pair_.history.size();
    auto r = Send(ev, who, in);
    EXPECT_EQ(r.code(), code) << ev << ": " << r.message();
    EXPECT_EQ(r.rule(), rule) << r.message();
    EXPECT_EQ(pair_.snap.state, before.state);
    EXPECT_EQ(pair_.snap.fields, before.fields);
    EXPECT_EQ(pair_.history.size(), history);
  }
  testing::FakeWorld world_;
  testing::PureInstance pair_;
};

TEST_F(PairTest, Dispatch_HappyPathToCompletion) {
  ToActive();
  EXPECT_EQ(FormatDate(std::get<Date>(pair_.Field("ends_on"))), "2027-03-10");  // 6 months after approval
  // Entering `active` armed its deadline at ends_on, reminders 30 and 7 days before, to mentor and curator.
  ASSERT_EQ(pair_.last.timers.size(), 1u);
  EXPECT_EQ(FormatDate(pair_.last.timers[0].due), "2027-03-10");
  ASSERT_EQ(pair_.last.reminders.size(), 2u);
  EXPECT_EQ(Days(pair_.last.reminders), (std::vector<std::string>{"2027-02-08", "2027-03-03"}));
  EXPECT_EQ(pair_.last.reminders[0].kind, ReminderKind::kUpcoming);
  EXPECT_EQ(Recipients(*pair_.def, pair_.snap.fields, pair_.last.reminders[0].notify, world_),
            (std::vector<std::string>{"m1", "c1"}));
  world_.children = {1, 0};  // the plan is not done
  EXPECT_EQ(Send("complete", "c1").rule(), "condition");
  world_.children = {1, 1};
  auto r = Send("complete", "c1", {}, "2026-10-03");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(State(), "completed");
  EXPECT_EQ(pair_.last.cancel_timers, std::vector<std::string>{"deadline:active"});  // the deadline goes with the state
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
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(State(), "terminated");
  EXPECT_EQ(std::get<std::string>(pair_.Field("termination")), GetParam().recorded);
  EXPECT_EQ(std::get<std::string>(pair_.Field("termination_reason")), "переезд");
  const auto& h = pair_.history.back();
  EXPECT_EQ(h.event, GetParam().event);
  EXPECT_EQ(h.actor, GetParam().actor);
  EXPECT_EQ(h.from, "active");
  EXPECT_EQ(h.to, "terminated");
  EXPECT_EQ(h.changes.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Reasons, PairTermination,
                         ::testing::Values(Termination{"terminate_by_mentor", "m1", "mentor_initiative"},
                                           Termination{"terminate_by_mentee", "s1", "mentee_initiative"},
                                           Termination{"terminate_by_curator", "c1", "curator_initiative"}),
                         [](const auto& info) { return std::string(info.param.event); });

// Section 7, by mutual decision: proposed with its reason, then recorded only
// once both parties have signed the termination agreement.
TEST_F(PairTest, Dispatch_MutualTerminationNeedsBothSignatures) {
  ToActive();
  ExpectRefusedUnchanged("terminate_mutual", "c1", {}, Code::kRefused, "state");  // not without a proposal
  ExpectRefusedUnchanged("propose_ending", "m1", {}, Code::kBadInput, "input");    // the reason is required
  ASSERT_TRUE(Send("propose_ending", "m1", {{"termination_reason", "переезд"}}).ok());
  EXPECT_EQ(State(), "ending");
  EXPECT_EQ(pair_.last.documents, std::vector<int>{pair_.def->DocumentIndex("termination")});
  ExpectRefusedUnchanged("terminate_mutual", "c1", {}, Code::kRefused, "condition");
  ExpectRefusedUnchanged("terminate_mutual", "m1", {}, Code::kRefused, "role");
  pair_.MarkSigned("termination");
  ASSERT_TRUE(Send("terminate_mutual", "c1").ok());
  EXPECT_EQ(State(), "terminated");
  EXPECT_EQ(std::get<std::string>(pair_.Field("termination")), "mutual");
  EXPECT_EQ(std::get<std::string>(pair_.Field("termination_reason")), "переезд");
}

TEST_F(PairTest, Refusal_WrongRole) {
  ExpectRefusedUnchanged("submit", "m1", {}, Code::kRefused, "role");
  ExpectRefusedUnchanged("submit", "d1", {}, Code::kRefused, "role");
}

TEST_F(PairTest, Refusal_AnotherMentorsPair) {
  ToActive();
  ExpectRefusedUnchanged("terminate_by_mentor", "m2", {{"termination_reason", "x"}}, Code::kRefused, "person");
}

TEST_F(PairTest, Refusal_UnmetConditionNamesWhatIsMissing) {
  ASSERT_TRUE(Send("submit", "c1").ok());
  auto r = Send("ready", "c1");
  EXPECT_EQ(r.rule(), "condition");
  EXPECT_NE(r.message().find("document 'agreement' signed"), std::string::npos) << r.message();
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
}

TEST_F(PairTest, Refusal_MissingConsent) {
  world_.people["s1"].consent = false;
  ASSERT_TRUE(Send("submit", "c1").ok());
  pair_.MarkSigned("agreement");
  pair_.MarkSigned("duties_consent");
  auto r = Send("ready", "c1");
  EXPECT_NE(r.message().find("consent of mentee (s1)"), std::string::npos) << r.message();
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
}

// Issue 26, finding 9: the pair goes to the director only with an
// individual plan agreed (a draft one is not enough).
TEST_F(PairTest, Refusal_NoAgreedPlan) {
  ASSERT_TRUE(Send("submit", "c1").ok());
  pair_.MarkSigned("agreement");
  pair_.MarkSigned("duties_consent");
  world_.children = {1, 0};  // a plan, still a draft
  auto r = Send("ready", "c1");
  EXPECT_NE(r.message().find("at least 1 individual_plan of this instance in [in_progress, done]"), std::string::npos)
      << r.message();
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
  world_.children = {2, 1};
  ASSERT_TRUE(Send("ready", "c1").ok());
  EXPECT_EQ(State(), "approval");
}

// Issue 26, finding 9: a plan is done in full only when each item is done,
// or was a proposal declined, or was cancelled with the mentee's agreement.
TEST(PlanTest, Dispatch_ACancelledItemNeedsTheMenteesAgreement) {
  testing::FakeWorld world;
  world.Add("m1", {"mentor"});
  world.Add("s1", {"mentee"});
  world.Add("c1", {"curator"});
  const Definition& def = *testing::Shipped().Find("individual_plan");
  testing::PureInstance plan;
  auto send = [&](const char* ev, const char* who, Input in = {}) {
    return plan.Send(ev, in, world.ActorFor(who), At("2026-09-10"), world);
  };
  ASSERT_TRUE(plan.Start(def, {{"mentor", "m1"}, {"mentee", "s1"}}, world.ActorFor("m1"), At("2026-09-01"), world).ok());
  ASSERT_TRUE(send("add_item", "m1", {{"title", "Проект"}, {"due", "2026-12-01"}}).ok());
  ASSERT_TRUE(send("add_item", "m1", {{"title", "Экскурсия"}, {"due", "2026-12-10"}}).ok());
  ASSERT_TRUE(send("submit", "m1").ok());
  plan.MarkSigned("plan");
  ASSERT_TRUE(send("agree", "c1").ok());
  ASSERT_TRUE(send("update_item", "m1", {{"id", "1"}, {"status", "done"}}).ok());
  ASSERT_TRUE(send("update_item", "m1", {{"id", "2"}, {"status", "cancelled"}}).ok());
  // The mentor cannot give the mentee's agreement.
  EXPECT_EQ(send("update_item", "m1", {{"id", "2"}, {"cancel_agreed", "true"}}).rule(), "input");
  const size_t before = plan.history.size();
  EXPECT_EQ(send("finish", "m1").rule(), "condition");
  EXPECT_EQ(send("agree_cancel_item", "m1", {{"id", "2"}}).rule(), "role");
  EXPECT_EQ(plan.history.size(), before);
  ASSERT_TRUE(send("agree_cancel_item", "s1", {{"id", "2"}}).ok());
  ASSERT_TRUE(send("finish", "m1").ok());
  EXPECT_EQ(plan.State(), "done");
}

TEST_F(PairTest, Refusal_EventNotAllowedInThisState) {
  ExpectRefusedUnchanged("approve", "d1", {}, Code::kRefused, "state");
}

TEST_F(PairTest, Refusal_UnknownEventSuggestsTheNearest) {
  auto r = Send("submt", "c1");
  EXPECT_EQ(r.code(), Code::kBadInput);
  EXPECT_NE(r.message().find("did you mean 'submit'"), std::string::npos) << r.message();
  // Letters swapped early on (no common prefix to go by): still found.
  auto swapped = Send("sbumit", "c1");
  EXPECT_NE(swapped.message().find("did you mean 'submit'"), std::string::npos) << swapped.message();
  // Nothing near: no suggestion.
  auto far = Send("xyzzy", "c1");
  EXPECT_EQ(far.message().find("did you mean"), std::string::npos) << far.message();
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
  ASSERT_TRUE(Send("propose_change", "m1",
                   {{"change_kind", "extension"}, {"change_note", "продлить"}, {"proposed_ends_on", "2027-06-30"}})
                  .ok());
  ASSERT_TRUE(Send("mentor_agrees", "m1").ok());
  ExpectRefusedUnchanged("apply_change", "c1", {}, Code::kRefused, "condition");
  ExpectRefusedUnchanged("mentee_agrees", "m1", {}, Code::kRefused, "role");
  ASSERT_TRUE(Send("mentee_agrees", "s1").ok());
  ASSERT_TRUE(Send("apply_change", "c1").ok());
  EXPECT_EQ(FormatDate(std::get<Date>(pair_.Field("ends_on"))), "2027-06-30");
  EXPECT_EQ(State(), "change_signing");  // the agreement is issued again, to be signed again
  EXPECT_EQ(pair_.last.documents, std::vector<int>{pair_.def->DocumentIndex("agreement")});
  ExpectRefusedUnchanged("change_signed", "c1", {}, Code::kRefused, "condition");  // not signed again yet
  pair_.MarkSigned("agreement");
  ASSERT_TRUE(Send("change_signed", "c1").ok());
  EXPECT_EQ(State(), "active");
}

// While the mentee is a minor, their registered guardian acts in their place
// on every event the mentee may send; the child's own is refused (rule minor).
TEST_F(PairTest, Dispatch_AMinorsRepresentativeActsAndTheChildIsRefused) {
  world_.births["s1"] = *ParseDate("2013-04-02");
  world_.guardians["s1"] = "g1";
  world_.Add("g1", {"guardian"});
  world_.Add("g2", {"guardian"});
  ToActive();
  Input change = {{"change_kind", "extension"}, {"change_note", "продлить"}, {"proposed_ends_on", "2027-06-30"}};
  auto own = Send("propose_change", "s1", change);
  EXPECT_EQ(own.rule(), "minor");
  EXPECT_NE(own.message().find("s1 is under 14 on 2026-09-02, so their legal representative g1 sends 'propose_change'"),
            std::string::npos)
      << own.message();
  ExpectRefusedUnchanged("propose_change", "s1", change, Code::kRefused, "minor");
  ExpectRefusedUnchanged("propose_change", "g2", change, Code::kRefused, "role");  // another child's guardian
  ASSERT_TRUE(Send("propose_change", "g1", change).ok());
  EXPECT_EQ(pair_.history.back().role, "mentee");
  EXPECT_EQ(pair_.history.back().note, "as guardian of s1");
  ExpectRefusedUnchanged("mentee_agrees", "s1", {}, Code::kRefused, "minor");
  ASSERT_TRUE(Send("mentee_agrees", "g1").ok());
  // Of age, the mentee acts for themself, and the guardian no longer does.
  ASSERT_TRUE(pair_.Send("withdraw_change", {}, world_.ActorFor("c1"), At("2031-04-02"), world_).ok());
  EXPECT_EQ(pair_.Send("request_replacement", {{"replacement_reason", "x"}}, world_.ActorFor("g1"), At("2031-04-02"), world_)
                .rule(),
            "role");
  ASSERT_TRUE(
      pair_.Send("request_replacement", {{"replacement_reason", "x"}}, world_.ActorFor("s1"), At("2031-04-02"), world_)
          .ok());
}

// Issue 26, finding 2: from their 14th birthday a mentee acts themself (the
// agreement lets them ask for another mentor), and their guardian still may;
// the day before, the guardian alone.
TEST_F(PairTest, Dispatch_FromFourteenTheTeenagerActsThemself) {
  world_.births["s1"] = *ParseDate("2012-09-03");  // 14 on 2026-09-03
  world_.guardians["s1"] = "g1";
  world_.Add("g1", {"guardian"});
  ToActive();
  const Input why = {{"replacement_reason", "нет контакта"}};
  auto at13 = pair_.Send("request_replacement", why, world_.ActorFor("s1"), At("2026-09-02"), world_);
  EXPECT_EQ(at13.rule(), "minor");
  EXPECT_EQ(pair_.history.back().event, "approve");  // nothing recorded
  ASSERT_TRUE(pair_.Send("request_replacement", why, world_.ActorFor("s1"), At("2026-09-03"), world_).ok());
  EXPECT_EQ(pair_.history.back().role, "mentee");
  EXPECT_EQ(pair_.history.back().note, "");
  ASSERT_TRUE(pair_.Send("keep_mentor", {}, world_.ActorFor("d1"), At("2026-09-03"), world_).ok());
  // At 17 the guardian may still act for them, noted as such.
  ASSERT_TRUE(pair_.Send("request_replacement", why, world_.ActorFor("g1"), At("2030-09-02"), world_).ok());
  EXPECT_EQ(pair_.history.back().note, "as guardian of s1");
}

TEST_F(PairTest, Dispatch_ReplacementIsDecidedByTheDirector) {
  ToActive();
  ASSERT_TRUE(Send("request_replacement", "s1", {{"replacement_reason", "нет контакта"}}).ok());
  ExpectRefusedUnchanged("replace_mentor", "c1", {{"mentor", "m2"}}, Code::kRefused, "role");
  ExpectRefusedUnchanged("replace_mentor", "d1", {{"mentor", "s1"}}, Code::kBadInput, "input");  // not a mentor
  ASSERT_TRUE(Send("replace_mentor", "d1", {{"mentor", "m2"}}).ok());
  EXPECT_EQ(State(), "documents");  // a new agreement is needed
  ExpectRefusedUnchanged("ready", "c1", {}, Code::kRefused, "condition");
}

TEST_F(PairTest, Dispatch_StartRefusals) {
  const Definition& def = *testing::Shipped().Find("mentoring_pair");
  testing::PureInstance other;
  EXPECT_EQ(other.Start(def, {{"mentor", "m1"}}, world_.ActorFor("c1"), At("2026-09-01"), world_).code(), Code::kBadInput);
  EXPECT_EQ(other.Start(def, {{"mentor", "m1"}, {"colour", "red"}}, world_.ActorFor("c1"), At("2026-09-01"), world_).code(),
            Code::kBadInput);
  EXPECT_EQ(other.Start(def, {}, world_.ActorFor("s1"), At("2026-09-01"), world_).code(), Code::kRefused);
  EXPECT_TRUE(other.history.empty());
}

TEST_F(PairTest, Dispatch_DeadlinesAndReminders) {
  ASSERT_TRUE(Send("submit", "c1", {}, "2026-09-01").ok());
  // Documents due 14 days later; reminders 7 days and 1 day before, to the curator.
  ASSERT_EQ(pair_.last.timers.size(), 1u);
  EXPECT_EQ(pair_.last.timers[0].key, "deadline:documents");
  EXPECT_EQ(FormatDate(pair_.last.timers[0].due), "2026-09-15");
  EXPECT_EQ(Days(pair_.last.reminders), (std::vector<std::string>{"2026-09-08", "2026-09-14"}));
  EXPECT_EQ(FormatDate(*pair_.last.reminders[0].due), "2026-09-15");
  EXPECT_EQ(Recipients(*pair_.def, pair_.snap.fields, pair_.last.reminders[0].notify, world_),
            std::vector<std::string>{"c1"});
  // The deadline's event is the system's: nobody else may send it.
  ExpectRefusedUnchanged("documents_overdue", "c1", {}, Code::kRefused, "role");
  auto r = pair_.Send("documents_overdue", {}, Actor::System(), FiringMoment(*ParseDate("2026-09-15"), ""), world_);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(State(), "proposed");
  EXPECT_EQ(pair_.history.back().at, *ParseLocalTime("2026-09-16", ""));
}

TEST(Dispatch_Pure, SameInputsGiveTheSameDecision) {
  const Definition& def = *testing::Shipped().Find("mentoring_pair");
  testing::FakeWorld world;
  world.Add("c1", {"curator"});
  world.Add("m1", {"mentor"});
  world.Add("s1", {"mentee"});
  Input in = {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "speed"}, {"kind", "counsellor_pupil"}};
  auto a = Start(def, in, "", world.ActorFor("c1"), At("2026-09-01"), world);
  auto b = Start(def, in, "", world.ActorFor("c1"), At("2026-09-01"), world);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.decision->fields, b.decision->fields);
  // mentor, mentee, form, kind as given; months and the five flags from their defaults.
  EXPECT_EQ(a.decision->history.changes.size(), 10u);
}

TEST(Dispatch_Pure, AnOverdueDeadlineNotifiesAtOnceAndEscalatesLater) {
  const Definition& def = *testing::Shipped().Find("monitoring");
  testing::FakeWorld world;
  world.Add("c1", {"curator"});
  world.Add("d1", {"director"});
  testing::PureInstance mon;
  ASSERT_TRUE(mon.Start(def, {}, world.ActorFor("c1"), At("2026-12-01"), world).ok());
  ASSERT_EQ(mon.last.timers.size(), 1u);
  EXPECT_EQ(FormatDate(mon.last.timers[0].due), "2026-12-20");
  ASSERT_TRUE(mon.Send("overdue", {}, Actor::System(), FiringMoment(*ParseDate("2026-12-20"), ""), world).ok());
  ASSERT_EQ(mon.last.reminders.size(), 1u);
  EXPECT_EQ(mon.last.reminders[0].kind, ReminderKind::kOverdue);
  EXPECT_EQ(FormatDate(mon.last.reminders[0].on), "2026-12-21");  // the curator, at once
  EXPECT_EQ(Recipients(def, mon.snap.fields, mon.last.reminders[0].notify, world), std::vector<std::string>{"c1"});
  ASSERT_EQ(mon.last.timers.size(), 1u);  // the escalation, a week later
  EXPECT_EQ(mon.last.timers[0].event, "escalate");
  EXPECT_EQ(FormatDate(mon.last.timers[0].due), "2026-12-28");
  ASSERT_TRUE(mon.Send("escalate", {}, Actor::System(), FiringMoment(*ParseDate("2026-12-28"), ""), world).ok());
  ASSERT_EQ(mon.last.reminders.size(), 1u);
  EXPECT_EQ(FormatDate(mon.last.reminders[0].on), "2026-12-29");
  EXPECT_EQ(Recipients(def, mon.snap.fields, mon.last.reminders[0].notify, world), (std::vector<std::string>{"d1", "c1"}));
  // Escalated, it comes back every week (its deadline re-enters the state).
  ASSERT_EQ(mon.last.timers.size(), 1u);
  EXPECT_EQ(FormatDate(mon.last.timers[0].due), "2027-01-04");
  ASSERT_TRUE(mon.Send("still_overdue", {}, Actor::System(), FiringMoment(*ParseDate("2027-01-04"), ""), world).ok());
  EXPECT_TRUE(mon.last.reentered);
  ASSERT_EQ(mon.last.reminders.size(), 1u);
  EXPECT_EQ(FormatDate(mon.last.reminders[0].on), "2027-01-05");
  EXPECT_EQ(mon.last.cancel_timers, std::vector<std::string>{"deadline:escalated"});
  // The late report covers December; the next period is 20 May.
  ASSERT_TRUE(mon.Send("submit",
                       {{"report_url", "x"}, {"respondents", "18"}, {"quality_score", "4"}, {"pairs_total", "6"},
                        {"pairs_met_plan", "5"}},
                       world.ActorFor("c1"), At("2027-01-06"), world).ok());
  EXPECT_EQ(mon.snap.fields[def.FieldIndex("reported_period")], Value{*ParseDate("2026-12-20")});
  EXPECT_EQ(mon.snap.fields[def.FieldIndex("period")], Value{*ParseDate("2027-05-20")});
}

}  // namespace
}  // namespace mentorflow
