// The director's order for every pending pair, on both backends through the
// command line: one order lists the pairs awaiting approval, numbered per
// year; the director's signature approves them all in one transaction, or
// none when a listed pair changed since the order was issued.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/store_fixture.h"

namespace mentorflow::testing {
namespace {

using nlohmann::json;

class Orders : public CliDatabase {
 protected:
  void SetUp() override {
    CliDatabase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(Db("person add g1" MF_PAPERS " --name 'Ольга Иванова' --role guardian --birth 1985-01-01 --as c1", "2026-09-01").code, 0);
    ProgrammeAtWork();
    for (int k = 1; k <= 3; ++k) {
      const std::string n = std::to_string(k);
      ASSERT_EQ(Db("person add m" + n + MF_PAPERS " --name 'Наставник Номер" + n + "' --role mentor --birth 1990-01-0" + n +
                       " --as c1",
                   "2026-09-01")
                    .code,
                0);
      // s1 is a minor with a guardian; the others are adults.
      ASSERT_EQ(Db("person add s" + n + MF_PAPERS " --name 'Ученик <b>Номер" + n + "</b>' --role mentee --birth " +
                       (k == 1 ? "2012-05-05 --guardian g1" : "2004-01-0" + n) + " --as c1",
                   "2026-09-01")
                    .code,
                0);
      ASSERT_EQ(Db("consent sign m" + n + " --as m" + n, "2026-09-01").code, 0);
      ASSERT_EQ(Db("consent sign s" + n + " --as " + (k == 1 ? std::string("g1") : "s" + n), "2026-09-01").code, 0);
      if (k == 1) ASSERT_EQ(Db("consent sign s1 --as s1", "2026-09-01").code, 0);  // 14: beside the guardian
      auto r = Db("start mentoring_pair --as c1 --set mentor=m" + n + " --set mentee=s" + n +
                      (k == 1 ? " --set guardian=g1" : "") + " --set form=virtual --set kind=volunteer_pupil",
                  "2026-09-01");
      ASSERT_EQ(r.code, 0) << r.err;
      const std::string id = r.out.substr(0, r.out.find('\n'));
      pairs_.push_back(id);
      ASSERT_EQ(Db("send " + id + " submit --as c1", "2026-09-01").code, 0);
      ASSERT_EQ(Db("doc sign " + id + ":agreement --as m" + n, "2026-09-02").code, 0);
      ASSERT_EQ(Db("doc sign " + id + ":duties_consent --as m" + n, "2026-09-02").code, 0);
      ASSERT_EQ(Db("doc sign " + id + ":agreement --as " + (k == 1 ? std::string("g1") : "s" + n), "2026-09-02").code, 0);
      AgreedPlan(id, "m" + n, "s" + n, "2026-09-02");
      // s1 is 14: the guardian's signature is consent to theirs, and both are needed.
      if (k == 1) {
        ASSERT_EQ(Db("send " + id + " ready --as c1", "2026-09-02").code, 3);
        ASSERT_EQ(Db("doc sign " + id + ":agreement --as s1", "2026-09-02").code, 0);
      }
      ASSERT_EQ(Db("send " + id + " ready --as c1", "2026-09-02").code, 0);
    }
  }
  std::string State(const std::string& id) { return Json("show --as d1 " + id, "2026-09-03")["state"]; }
  std::vector<std::string> pairs_;
};

TEST_P(Orders, OneOrderListsEveryPendingPairAndItsSignatureApprovesThemAll) {
  auto order = Json("doc issue order_assign_pairs --as c1", "2026-09-03");
  EXPECT_EQ(order["id"], "1/2026");
  EXPECT_EQ(order["items"], json(pairs_));
  EXPECT_EQ(order["status"], "issued");
  EXPECT_EQ(order["issued_by"], "c1");
  EXPECT_TRUE(order["instance"].is_null());
  EXPECT_EQ(order["sha256"].get<std::string>().size(), 64u);
  // Its text lists every pair, names escaped, with the curator responsible.
  auto html = Db("doc render 1/2026 --as c1", "2026-09-03");
  ASSERT_EQ(html.code, 0) << html.err;
  for (const char* text : {"Приказ № 1/2026 от 03.09.2026", "Наставник Номер1", "Ученик &lt;b&gt;Номер3&lt;/b&gt;",
                           "Ольга Иванова", "Виртуальное (дистанционное) наставничество", "волонтёр — воспитанник",
                           "Мария Петрова", "Ольга Карпова"})
    EXPECT_NE(html.out.find(text), std::string::npos) << text;
  EXPECT_EQ(html.out.find("<b>Номер"), std::string::npos);
  // Each pair shows the order among its documents.
  bool listed = false;
  for (const auto& d : Json("doc list --as d1 " + pairs_[1], "2026-09-03")) listed = listed || d["id"] == "1/2026";
  EXPECT_TRUE(listed);
  for (const auto& id : pairs_) EXPECT_EQ(State(id), "approval");

  auto signed_ = Db("doc sign 1/2026 --as d1 --json", "2026-09-04");
  ASSERT_EQ(signed_.code, 0) << signed_.err;
  auto out = json::parse(signed_.out);
  EXPECT_EQ(out["status"], "signed");
  EXPECT_EQ(out["sent"], json(pairs_));
  for (const auto& id : pairs_) {
    EXPECT_EQ(State(id), "active") << id;
    auto h = Json("history --as d1 " + id, "2026-09-04");
    EXPECT_EQ(h.back()["event"], "approve");
    EXPECT_EQ(h.back()["actor"], "d1");
    const auto shown = Json("show --as d1 " + id, "2026-09-04");
    EXPECT_EQ(shown["fields"]["ends_on"], "2027-06-04");  // 9 months from approval
    // The pair's row is written at the version its history reached (on
    // PostgreSQL the approval holds each pair and writes it once).
    EXPECT_EQ(shown["revision"], h.size()) << id;
    // Its term's reminders: 30 and 7 days before the end, to the mentor and the curator.
    auto rs = Json("reminders --as d1 --status scheduled --instance " + id, "2026-09-04");
    std::set<std::string> when;
    for (const auto& r : rs) when.insert(r["on"].get<std::string>() + " " + r["to"].get<std::string>());
    for (const char* on : {"2027-05-05", "2027-05-28"})
      for (const std::string to : {std::string("c1"), "m" + std::to_string(&id - &pairs_[0] + 1)})
        EXPECT_TRUE(when.count(on + std::string(" ") + to)) << id << ": " << on << " " << to << " in " << rs.dump(1);
  }
  // The term's end fires once for each pair, and the next change of a pair
  // finds it where the approval left it.
  int ended = 0;
  const auto ticked = Json("tick", "2027-06-05");
  for (const auto& f : ticked["fired"]) ended += f["event"] == "term_ended";
  EXPECT_EQ(ended, 3) << ticked.dump(1);
  EXPECT_NE(State(pairs_[0]), "active");
  EXPECT_EQ(Json("doc show --as d1 1/2026", "2026-09-04")["signers"][0]["person"], "d1");
  // Signed once: a second signature is refused.
  EXPECT_EQ(Db("doc sign 1/2026 --as d1", "2026-09-04").code, 3);
  // Nothing left to order.
  auto empty = Db("doc issue order_assign_pairs --as c1", "2026-09-05");
  EXPECT_EQ(empty.code, 3);
  EXPECT_NE(empty.err.find("no mentoring_pair is in state 'approval'"), std::string::npos) << empty.err;
}

TEST_P(Orders, APairChangedAfterIssueRefusesTheSignatureAndNothingIsApproved) {
  ASSERT_EQ(Db("doc issue order_assign_pairs --as c1", "2026-09-03").code, 0);
  ASSERT_EQ(Db("send " + pairs_[1] + " terminate_by_mentor --set termination_reason=Переезд --as m2", "2026-09-03").code,
            0);
  const std::string before = DumpTables(db_->url());
  auto r = Db("doc sign 1/2026 --as d1", "2026-09-04");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("mentoring_pair " + pairs_[1] + " has changed since order 1/2026 was issued"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("now in state 'terminated'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was approved"), std::string::npos) << r.err;
  EXPECT_EQ(DumpTables(db_->url()), before);
  EXPECT_EQ(State(pairs_[0]), "approval");
  EXPECT_EQ(State(pairs_[2]), "approval");
  // The curator re-issues: the new order lists the two left, the old one is
  // superseded and cannot be signed.
  auto again = Json("doc issue order_assign_pairs --as c1", "2026-09-04");
  EXPECT_EQ(again["id"], "2/2026");
  EXPECT_EQ(again["items"], json({pairs_[0], pairs_[2]}));
  EXPECT_EQ(Json("doc show --as d1 1/2026", "2026-09-04")["status"], "superseded");
  auto old = Db("doc sign 1/2026 --as d1", "2026-09-04");
  EXPECT_EQ(old.code, 3);
  EXPECT_NE(old.err.find("superseded"), std::string::npos) << old.err;
  ASSERT_EQ(Db("doc sign 2/2026 --as d1", "2026-09-04").code, 0);
  EXPECT_EQ(State(pairs_[0]), "active");
  EXPECT_EQ(State(pairs_[2]), "active");
  // A new year starts the numbering again.
  EXPECT_EQ(Db("doc issue order_assign_pairs --as c1", "2027-01-10").code, 3);  // nothing pending
}

// A pair that left approval and came back (documents again, a new consent)
// is not the pair the order listed.
TEST_P(Orders, AConsentRevokedAfterIssueRefusesTheSignature) {
  ASSERT_EQ(Db("doc issue order_assign_pairs --as c1", "2026-09-03").code, 0);
  ASSERT_EQ(Db("consent revoke s3 --as s3", "2026-09-03").code, 0);
  const std::string before = DumpTables(db_->url());
  auto r = Db("doc sign 1/2026 --as d1", "2026-09-04");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("mentoring_pair " + pairs_[2]), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was approved"), std::string::npos) << r.err;
  EXPECT_EQ(DumpTables(db_->url()), before);
}

TEST_P(Orders, OnlyTheIssuingRoleIssuesAndOnlyTheDirectorSigns) {
  const std::string before = DumpTables(db_->url());
  for (const char* who : {"m1", "d1", "g1"}) {
    auto r = Db(std::string("doc issue order_assign_pairs --as ") + who, "2026-09-03");
    EXPECT_EQ(r.code, 3) << who << r.err;
    EXPECT_NE(r.err.find("may not issue 'order' (it is issued by curator)"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Db("doc issue no_such_order --as c1", "2026-09-03").code, 2);
  EXPECT_EQ(Db("doc issue order_assign_pairs", "2026-09-03").code, 1);
  EXPECT_EQ(Db("doc sign 9/2026 --as d1", "2026-09-03").code, 2);
  EXPECT_EQ(Db("doc show --as d1 9/2026", "2026-09-03").code, 2);
  EXPECT_EQ(DumpTables(db_->url()), before);
  ASSERT_EQ(Db("doc issue order --as c1", "2026-09-03").code, 0);  // by the document's own name too
  const std::string issued = DumpTables(db_->url());
  for (const char* who : {"c1", "m1", "s2"}) {
    auto r = Db(std::string("doc sign 1/2026 --as ") + who, "2026-09-04");
    EXPECT_EQ(r.code, 3) << who;
    EXPECT_NE(r.err.find("is not a signer of 'order'"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Db("doc render 1/2026 --as m1", "2026-09-04").code, 3);  // names other pairs' people
  EXPECT_EQ(DumpTables(db_->url()), issued);
}

TEST_P(Orders, AnAlteredOrderIsNotSigned) {
  ASSERT_EQ(Db("doc issue order_assign_pairs --as c1", "2026-09-03").code, 0);
  ExecSql(db_->url(), "UPDATE orders SET content = REPLACE(content, 'Номер2', 'Номер9')");
  const std::string before = DumpTables(db_->url());
  auto r = Db("doc sign 1/2026 --as d1", "2026-09-04");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no longer matches the SHA-256"), std::string::npos) << r.err;
  EXPECT_EQ(DumpTables(db_->url()), before);
  for (const auto& id : pairs_) EXPECT_EQ(State(id), "approval");
}

// 152-FZ art. 9: a revoked consent stops processing in the same transaction:
// the running pair naming the person is suspended, takes nothing but
// termination or a renewed consent, and resumes when consent is given again.
TEST_P(Orders, RevokingConsentSuspendsThePairAtOnceAndRenewingResumesIt) {
  ASSERT_EQ(Db("doc issue order_assign_pairs --as c1", "2026-09-03").code, 0);
  ASSERT_EQ(Db("doc sign 1/2026 --as d1", "2026-09-04").code, 0);
  auto revoke = Db("consent revoke s2 --as s2", "2026-10-01");
  ASSERT_EQ(revoke.code, 0) << revoke.err;
  EXPECT_EQ(State(pairs_[1]), "suspended");
  EXPECT_EQ(State(pairs_[0]), "active");
  auto h = Json("history --as d1 " + pairs_[1], "2026-10-01");
  EXPECT_EQ(h.back()["event"], "consent_revoked");
  EXPECT_EQ(h.back()["actor"], "system");
  EXPECT_EQ(Json("doc show --as d1 consent:s2", "2026-10-01")["status"], "revoked");
  // One transaction: the person's entry and the pair's carry the same instant.
  auto person = Json("person export s2 --as c1", "2026-10-01");
  std::string revoked_at;
  for (const auto& e : person["person_history"])
    if (e["event"] == "consent_revoked") {
      revoked_at = e["at"];
      EXPECT_NE(e["note"].get<std::string>().find("; stopped: " + pairs_[1]), std::string::npos) << e["note"];
    }
  EXPECT_EQ(revoked_at, h.back()["at"]);
  // While suspended: no event but termination or renewal.
  const std::string before = DumpTables(db_->url());
  auto change = Db("send " + pairs_[1] + " propose_change --set change_note=x --as m2", "2026-10-02");
  EXPECT_EQ(change.code, 3);
  EXPECT_NE(change.err.find("not allowed in state 'suspended'"), std::string::npos) << change.err;
  EXPECT_EQ(Db("send " + pairs_[1] + " consent_renewed --as c1", "2026-10-02").code, 3);
  EXPECT_EQ(Db("send " + pairs_[1] + " consent_renewed --as system", "2026-10-02").code, 3);  // nobody forges system
  EXPECT_EQ(Db("consent revoke s2 --as s2", "2026-10-02").code, 3);  // nothing left to revoke
  EXPECT_EQ(DumpTables(db_->url()), before);
  // Renewed: a new consent document, the approved pair back at work.
  ASSERT_EQ(Db("consent sign s2 --as s2", "2026-10-05").code, 0);
  EXPECT_EQ(State(pairs_[1]), "active");
  EXPECT_EQ(Json("doc show --as d1 consent:s2", "2026-10-05")["id"], "consent:s2:2");
  EXPECT_EQ(Json("doc show --as d1 consent:s2:1", "2026-10-05")["status"], "revoked");
  EXPECT_EQ(Db("consent sign s2 --as s2", "2026-10-05").code, 3);  // already valid
  // Suspended again, then terminated: termination is always allowed.
  ASSERT_EQ(Db("consent revoke m3 --as m3", "2026-10-06").code, 0);
  EXPECT_EQ(State(pairs_[2]), "suspended");
  ASSERT_EQ(Db("send " + pairs_[2] + " terminate_by_curator --set termination_reason=Отзыв --as c1", "2026-10-06").code,
            0);
  EXPECT_EQ(State(pairs_[2]), "terminated");
}

// Before approval a pair suspended by a revocation returns to its documents.
TEST_P(Orders, APairNotYetApprovedGoesBackToItsDocumentsWhenConsentIsRenewed) {
  ASSERT_EQ(Db("consent revoke s1 --as g1", "2026-09-03").code, 0);
  EXPECT_EQ(State(pairs_[0]), "suspended");
  // Issue 26, finding 2: s1 is 14, so the teenager signs and the guardian
  // co-signs; one signature leaves the consent partly signed and the pair
  // suspended, and nobody signs twice.
  ASSERT_EQ(Db("consent sign s1 --as s1", "2026-09-04").code, 0);
  EXPECT_EQ(State(pairs_[0]), "suspended");
  EXPECT_EQ(Json("doc show --as d1 consent:s1", "2026-09-04")["status"], "partly_signed");
  const std::string before = DumpTables(db_->url());
  EXPECT_EQ(Db("consent sign s1 --as s1", "2026-09-04").code, 3);
  EXPECT_EQ(DumpTables(db_->url()), before);
  ASSERT_EQ(Db("consent sign s1 --as g1", "2026-09-04").code, 0);
  auto consent = Json("doc show --as d1 consent:s1", "2026-09-04");
  EXPECT_EQ(consent["status"], "signed");
  ASSERT_EQ(consent["signers"].size(), 2u);
  EXPECT_EQ(consent["signers"][0]["capacity"], "self, with the guardian's consent");
  EXPECT_EQ(consent["signers"][1]["capacity"], "co-signing guardian of s1");
  EXPECT_EQ(State(pairs_[0]), "documents");
  EXPECT_EQ(Json("doc show --as d1 " + pairs_[0] + ":agreement", "2026-09-04")["id"], pairs_[0] + ":agreement:2");
}

// Issue 26, finding 1 (152-FZ art. 9 and 21): a consent is given for one
// purpose. The consent to mentoring opens no achievement; the portfolio's own
// consent does, and revoking it withdraws the achievements from the rating at
// once while the pair and its plan go on; the destruction duty names the
// purpose and what the consent to mentoring keeps.
TEST_P(Orders, AConsentIsForOnePurposeAndRevokingItStopsThatPurposeOnly) {
  ASSERT_EQ(Db("person update s2 --add-role participant --as c1", "2026-09-03").code, 0);
  ASSERT_EQ(Db("person add mod" MF_PAPERS " --name 'Модератор Портфолио' --role moderator --birth 1980-01-01 --as c1", "2026-09-03").code,
            0);
  const std::string achievement =
      "start achievement --as s2 --set participant=s2 --set event=Олимпиада --set kind=olympiad --set result=winner"
      " --set held_on=2026-08-01 --set direction=python --set evidence=https://example.org/1";
  std::string before = DumpTables(db_->url());
  auto refused = Db(achievement, "2026-09-03");
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("consent of participant (s2) for portfolio"), std::string::npos) << refused.err;
  auto unknown = Db("consent sign s2 --as s2 --purpose rating", "2026-09-03");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("no purpose 'rating' (the workflows declare: mentoring, portfolio, selection)"),
            std::string::npos)
      << unknown.err;
  EXPECT_EQ(Db("consent revoke s2 --as s2 --purpose portfolio", "2026-09-03").code, 3);  // none given
  EXPECT_EQ(DumpTables(db_->url()), before);

  ASSERT_EQ(Db("consent sign s2 --as s2 --purpose portfolio", "2026-09-03").code, 0);
  auto doc = Json("doc show --as d1 consent:s2:2", "2026-09-03");
  EXPECT_EQ(doc["purpose"], "portfolio");
  auto text = Db("doc render consent:s2:2 --as c1", "2026-09-03");
  EXPECT_NE(text.out.find("для портфолио достижений"), std::string::npos) << text.out;
  EXPECT_EQ(Db("consent sign s2 --as s2 --purpose portfolio", "2026-09-03").code, 3);  // in force already
  auto started = Db(achievement, "2026-09-03");
  ASSERT_EQ(started.code, 0) << started.err;
  const std::string a = started.out.substr(0, started.out.find('\n'));
  ASSERT_EQ(Db("send " + a + " verify --as mod", "2026-09-04").code, 0);
  EXPECT_EQ(Json("stats rating --direction python --as mod", "2026-09-04")["ranking"].size(), 1u);
  const std::string pair = State(pairs_[1]);
  auto plans = Json("list --workflow individual_plan", "2026-09-04");
  ASSERT_EQ(plans.size(), 3u);

  auto revoke = Db("consent revoke s2 --as s2 --purpose portfolio", "2026-09-05");
  ASSERT_EQ(revoke.code, 0) << revoke.err;
  EXPECT_EQ(State(a), "consent_withdrawn");
  EXPECT_EQ(Json("stats rating --direction python --as mod", "2026-09-05")["ranking"].size(), 0u);
  EXPECT_EQ(State(pairs_[1]), pair) << "the consent to mentoring still stands";
  for (const auto& p : Json("list --workflow individual_plan", "2026-09-05")) EXPECT_EQ(p["state"], "in_progress");
  EXPECT_EQ(Json("doc show --as d1 consent:s2:1", "2026-09-05")["status"], "signed");
  EXPECT_EQ(Json("doc show --as d1 consent:s2:2", "2026-09-05")["status"], "revoked");
  // The duty: destroy the portfolio's data; the rest is kept for mentoring.
  auto duties = Json("list --workflow personal_data", "2026-09-05");
  ASSERT_EQ(duties.size(), 1u) << duties.dump(1);
  const std::string duty = duties[0]["id"];
  auto fields = Json("show --as d1 " + duty, "2026-09-05")["fields"];
  EXPECT_EQ(fields["purpose"], "portfolio");
  EXPECT_EQ(fields["kept_for"], "mentoring");
  EXPECT_EQ(fields["due"], "2026-10-05");
  // The person is not erased for it: the consent to mentoring stands.
  before = DumpTables(db_->url());
  auto erase = Db("person erase s2 --as c1", "2026-09-06");
  EXPECT_EQ(erase.code, 3);
  EXPECT_NE(erase.err.find("their consent is valid"), std::string::npos) << erase.err;
  EXPECT_EQ(DumpTables(db_->url()), before);
  // The curator records what was destroyed, which closes the duty.
  EXPECT_EQ(Db("send " + duty + " purpose_data_destroyed --as c1", "2026-09-06").code, 1);  // what?
  ASSERT_EQ(Db("send " + duty + " purpose_data_destroyed --as c1 --set 'answer=Портфолио уничтожено'", "2026-09-06").code,
            0);
  EXPECT_EQ(Json("show --as d1 " + duty, "2026-09-06")["state"], "done");
  // Given again, the portfolio opens again; the mentoring consent untouched.
  ASSERT_EQ(Db("consent sign s2 --as s2 --purpose portfolio", "2026-09-07").code, 0);
  EXPECT_EQ(Db(achievement, "2026-09-07").code, 0);
}

// Revoking the consent to mentoring suspends the pair and its plan, and the
// plan's item reminders stop; renewed, the agreed plan is in progress again
// with its reminders back (issue 26, finding 1: "plans, reminders").
TEST_P(Orders, RevokingTheConsentToMentoringSuspendsThePlanAndItsReminders) {
  std::string plan;
  for (const auto& p : Json("list --workflow individual_plan", "2026-09-03"))
    if (p["parent"] == pairs_[1]) plan = p["id"];
  ASSERT_FALSE(plan.empty());
  auto items = [&](const std::string& now) {
    int n = 0;
    const auto agenda = Json("agenda --as d1 --for m2 --from 2029-12-01 --to 2030-01-31", now);
    for (const auto& r : agenda["reminders"]) n += r["instance"] == plan;
    return n;
  };
  ASSERT_EQ(items("2026-09-03"), 2) << "a week and a day before the item's date";
  ASSERT_EQ(Db("consent revoke m2 --as m2", "2026-09-04").code, 0);
  EXPECT_EQ(State(plan), "suspended");
  EXPECT_EQ(State(pairs_[1]), "suspended");
  EXPECT_EQ(items("2026-09-04"), 0);
  EXPECT_EQ(Db("send " + plan + " add_item --as m2 --set title=x --set due=2030-02-01", "2026-09-04").code, 3);
  ASSERT_EQ(Db("consent sign m2 --as m2", "2026-09-05").code, 0);
  EXPECT_EQ(State(plan), "in_progress");
  EXPECT_EQ(items("2026-09-05"), 2);
}

// A curator records a paper form, with the date written on it.
TEST_P(Orders, ACuratorRecordsAPaperConsentWithItsDate) {
  ASSERT_EQ(Db("consent revoke s3 --as s3", "2026-09-03").code, 0);
  const std::string before = DumpTables(db_->url());
  EXPECT_EQ(Db("consent sign s3 --as c1", "2026-09-04").code, 1);  // which paper?
  EXPECT_EQ(Db("consent sign s3 --as c1 --paper 2026-09-05", "2026-09-04").code, 1);  // after today
  EXPECT_EQ(Db("consent sign s3 --as s3 --paper 2026-09-01", "2026-09-04").code, 1);  // not the curator
  EXPECT_EQ(Db("consent sign s3 --as m1 --paper 2026-09-01", "2026-09-04").code, 3);
  EXPECT_EQ(DumpTables(db_->url()), before);
  ASSERT_EQ(Db("consent sign s3 --as c1 --paper 2026-09-02", "2026-09-04").code, 0);
  auto doc = Json("doc show --as d1 consent:s3", "2026-09-04");
  // Issue 26, finding 5: the person signed the paper; the curator entered it.
  ASSERT_EQ(doc["signers"].size(), 1u);
  EXPECT_EQ(doc["signers"][0]["person"], "s3");
  EXPECT_EQ(doc["signers"][0]["entered_by"], "c1");
  EXPECT_EQ(doc["signers"][0]["capacity"], "curator (paper form of 2026-09-02)");
  auto html = Db("doc render consent:s3 --as c1", "2026-09-04");
  EXPECT_NE(html.out.find("бумажный бланк от 02.09.2026"), std::string::npos);
  EXPECT_NE(html.out.find("подписано на бумажном бланке 02.09.2026; внесено в систему куратором: "), std::string::npos)
      << html.out;
  EXPECT_EQ(html.out.find("простой электронной подписью"), std::string::npos);
}

// An iCalendar text read by Debian's python3-icalendar (tests/parse_ics.py).
json ParseIcs(const std::string& text) {
  const std::string path = ::testing::TempDir() + "/mf_plan_" + std::to_string(getpid()) + ".ics";
  std::ofstream(path, std::ios::binary) << text;
  std::string out;
  if (FILE* p = popen(("/usr/bin/python3 " + SourcePath("tests/parse_ics.py") + " " + path).c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
  }
  std::filesystem::remove(path);
  return json::parse(out.empty() ? "null" : out);
}

// Issue 26, build 11: a plan's items stand on their own dates in the
// calendar of the mentor and the mentee's representative (the teenager
// too), not of anyone else; a done item or a suspended plan leaves it. A
// date the mentor moves after the curator agreed the plan is marked, the
// calendar moves the same event, and the curator is offered to take note of
// it — until they have, for each moved item.
TEST_P(Orders, APlansItemsAreInTheCalendarOnTheirDatesAndAMovedDateIsMarkedForTheCurator) {
  const std::string day = "2026-09-03";
  std::string plan;
  for (const auto& p : Json("list --workflow individual_plan", day))
    if (p["parent"] == pairs_[0]) plan = p["id"];
  ASSERT_FALSE(plan.empty());
  ASSERT_EQ(Db("send " + plan + " add_item --as m1 --set 'title=Проект к фестивалю' --set due=2026-12-15", day).code, 0);
  auto items = [&](const std::string& who, const std::string& now) {
    std::vector<std::string> out;
    const json agenda = Json("agenda --as d1 --for " + who + " --from " + now + " --to 2030-12-31", now);
    for (const auto& d : agenda["deadlines"])
      if (d["instance"] == plan && !d["item"].is_null())
        out.push_back(d["due"].get<std::string>() + " " + d["item"]["title"].get<std::string>());
    return out;
  };
  const std::vector<std::string> both = {"2026-12-15 Проект к фестивалю", "2030-01-01 Знакомство, цели"};
  EXPECT_EQ(items("m1", day), both);
  EXPECT_EQ(items("g1", day), both) << "the representative of a minor mentee";
  EXPECT_EQ(items("m2", day), std::vector<std::string>{}) << "another pair's mentor";
  EXPECT_EQ(items("c1", day), std::vector<std::string>{});
  // The calendar: the item on its day with its reminders a week and a day before.
  auto ics = Db("agenda --as m1 --for m1 --from " + day + " --to 2026-12-31 --format ics", day);
  ASSERT_EQ(ics.code, 0) << ics.err;
  const json events = ParseIcs(ics.out);
  ASSERT_TRUE(events.is_array()) << ics.out;
  json event;
  for (const auto& e : events)
    if (e["summary"].get<std::string>().find("«Проект к фестивалю» — Индивидуальный план") != std::string::npos) event = e;
  ASSERT_FALSE(event.is_null()) << events.dump();
  EXPECT_EQ(event["date"], "2026-12-15");
  ASSERT_EQ(event["alarms"].size(), 2u);
  EXPECT_EQ(event["alarms"][0]["trigger_days"], -7);
  EXPECT_EQ(event["alarms"][1]["trigger_days"], -1);
  // A change of its status alone marks nothing; the curator has nothing to take note of.
  ASSERT_EQ(Db("send " + plan + " update_item --as m1 --set id=2 --set status=in_progress", day).code, 0);
  EXPECT_EQ(Json("show --as c1 " + plan, day)["fields"]["items"][1]["rescheduled"], false);
  const std::string quiet = DumpTables(db_->url());
  EXPECT_EQ(Db("send " + plan + " acknowledge_reschedule --as c1 --set id=2", day).code, 3);
  EXPECT_TRUE(DumpTables(db_->url()) == quiet) << "a refused acknowledgement changed the database";
  // Moved: marked, the same calendar event on its new day.
  ASSERT_EQ(Db("send " + plan + " update_item --as m1 --set id=2 --set due=2026-12-22", day).code, 0);
  EXPECT_EQ(Json("show --as c1 " + plan, day)["fields"]["items"][1]["rescheduled"], true);
  EXPECT_EQ(items("m1", day), (std::vector<std::string>{"2026-12-22 Проект к фестивалю", "2030-01-01 Знакомство, цели"}));
  const json moved = ParseIcs(Db("agenda --as m1 --for m1 --from " + day + " --to 2026-12-31 --format ics", day).out);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0]["uid"], event["uid"]);
  EXPECT_EQ(moved[0]["date"], "2026-12-22");
  // The curator sees it among their tasks until they take note.
  EXPECT_EQ(Db("send " + plan + " acknowledge_reschedule --as m1 --set id=2", day).code, 3);  // not the mentor's
  ASSERT_EQ(Db("send " + plan + " acknowledge_reschedule --as c1 --set id=2", day).code, 0);
  EXPECT_EQ(Json("show --as c1 " + plan, day)["fields"]["items"][1]["rescheduled"], false);
  EXPECT_EQ(Db("send " + plan + " acknowledge_reschedule --as c1 --set id=2", day).code, 3);
  // Done, the item leaves the calendar; suspended, the whole plan does.
  ASSERT_EQ(Db("send " + plan + " update_item --as m1 --set id=2 --set status=done", day).code, 0);
  EXPECT_EQ(items("m1", day), std::vector<std::string>{"2030-01-01 Знакомство, цели"});
  ASSERT_EQ(Db("consent revoke m1 --as m1", day).code, 0);
  EXPECT_EQ(items("m1", day), std::vector<std::string>{});
  EXPECT_EQ(items("g1", day), std::vector<std::string>{});
}

// Issue 26, build 3 (152-FZ art. 9 part 4): a consent signed here states the
// operator's name and address, the subject's address and identity document,
// and for a minor the guardian's and the document of their authority. Until
// they are recorded it is refused, naming each — and nothing else, nothing
// of the data itself — and nothing is written. The person, or whoever acts
// for them, records their own; nobody else, and nothing else of theirs.
TEST_P(Orders, AConsentSignedHereStatesWhatTheLawListsOrIsRefusedNamingWhatIsMissing) {
  const std::string day = "2026-09-03";
  for (const char* p : {"g5 --name 'Вера Лесная' --role guardian --birth 1984-03-03",
                        "k5 --name 'Миша Лесной' --role mentee --birth 2014-02-02 --guardian g5",
                        "a5 --name 'Пётр Лесной' --role mentor --birth 1992-07-07",
                        "b5 --name 'Борис Бумажный' --role mentor --birth 1991-01-01"})
    ASSERT_EQ(Db(std::string("person add ") + p + " --as c1", day).code, 0) << p;
  ASSERT_EQ(Db("settings institution_address '' --as d1", day).code, 0);
  const std::string before = DumpTables(db_->url());
  auto child = Db("consent sign k5 --as g5", day);
  EXPECT_EQ(child.code, 3);
  for (const char* missing :
       {"the operator's address (settings institution_address", "k5's address (person update k5 --address)",
        "k5's identity document: its kind, number, date and issuer", "g5's address", "g5's identity document",
        "the document of g5's authority as k5's representative (person update k5 --authority)"})
    EXPECT_NE(child.err.find(missing), std::string::npos) << child.err;
  EXPECT_EQ(child.err.find("operator's name"), std::string::npos) << "the institution's name is recorded";
  EXPECT_EQ(child.err.find("Лесн"), std::string::npos) << "a refusal names no one's data: " << child.err;
  auto adult = Db("consent sign a5 --as a5", day);
  EXPECT_EQ(adult.code, 3);
  EXPECT_NE(adult.err.find("a5's address"), std::string::npos) << adult.err;
  EXPECT_EQ(adult.err.find("authority"), std::string::npos) << "an adult acts for themself: " << adult.err;
  // Nobody but the person or whoever acts for them records them, and they
  // record nothing else: each refused with nothing changed.
  EXPECT_EQ(Db("person update a5 --as a5 --name 'Другое Имя'", day).code, 3);
  EXPECT_EQ(Db("person update a5 --as a5 --address 'x' --email a5@example.org", day).code, 3);
  EXPECT_EQ(Db("person update k5 --as a5 --address 'г. Саратов'", day).code, 3);  // a stranger
  EXPECT_EQ(Db("person update k5 --as k5 --address 'г. Саратов'", day).code, 3);  // 12: the mother acts
  EXPECT_EQ(Db("person update a5 --as a5 --document-issued 2026-09-04", day).code, 1);  // after today
  EXPECT_EQ(Db("person update a5 --as a5 --document-issued 2020-02-30", day).code, 1);
  EXPECT_EQ(DumpTables(db_->url()), before);
  ASSERT_EQ(Db("person update a5 --as a5 --address 'г. Саратов, ул. Лесная, д. 9' --document-kind паспорт"
               " --document-number '6312 777888' --document-issued 2012-08-01 --document-issuer 'УФМС по Саратовской обл.'",
               day).code,
            0);
  ASSERT_EQ(Db("person update g5 --as g5 --address 'г. Саратов, ул. Лесная, д. 9' --document-kind паспорт"
               " --document-number '6304 121212' --document-issued 2004-04-04 --document-issuer 'ОВД Заводского р-на'",
               day).code,
            0);
  ASSERT_EQ(Db("person update k5 --as g5 --address 'г. Саратов, ул. Лесная, д. 9' --document-kind"
               " 'свидетельство о рождении' --document-number 'I-РУ 343434' --document-issued 2014-02-20"
               " --document-issuer 'ЗАГС Заводского р-на' --authority 'свидетельство о рождении I-РУ 343434'",
               day).code,
            0);
  // The history says which were recorded, and by whom, never what.
  const json history = Json("person export k5 --as g5", day)["person_history"];
  EXPECT_EQ(history.back()["event"], "updated");
  EXPECT_EQ(history.back()["role"], "guardian");
  EXPECT_EQ(history.back()["note"], "address,document_kind,document_number,document_issued,document_issuer,authority");
  auto operator_only = Db("consent sign k5 --as g5", day);
  EXPECT_EQ(operator_only.code, 3);
  EXPECT_NE(operator_only.err.find("this is not recorded: the operator's address"), std::string::npos) << operator_only.err;
  EXPECT_EQ(operator_only.err.find("k5's"), std::string::npos) << operator_only.err;
  ASSERT_EQ(Db("settings institution_address 'г. Саратов, ул. Школьная, д. 5' --as d1", day).code, 0);
  ASSERT_EQ(Db("consent sign k5 --as g5", day).code, 0);
  ASSERT_EQ(Db("consent sign a5 --as a5", day).code, 0);
  const std::string text = Db("doc render consent:k5 --as g5", day).out;
  for (const char* stated :
       {"адрес Учреждения: г. Саратов, ул. Школьная, д. 5", "Вера Лесная, адрес: г. Саратов, ул. Лесная, д. 9",
        "паспорт, серия и номер 6304 121212, дата выдачи 04.04.2004, выдавший орган: ОВД Заводского р-на",
        "подтверждает документ: свидетельство о рождении I-РУ 343434",
        "участника: свидетельство о рождении, серия и номер I-РУ 343434, дата выдачи 20.02.2014"})
    EXPECT_NE(text.find(stated), std::string::npos) << stated << "\n" << text;
  EXPECT_EQ(text.find("________________, серия"), std::string::npos) << "no blank left";
  // A paper form states them on paper: the curator records it as it is.
  EXPECT_EQ(Db("consent sign b5 --as c1 --paper 2026-09-02", day).code, 0);
  // Erasure destroys them, and the text that stated them.
  ASSERT_EQ(Db("consent revoke a5 --as a5", day).code, 0);
  ASSERT_EQ(Db("person erase a5 --as c1", day).code, 0);
  const std::string after = DumpTables(db_->url());
  EXPECT_EQ(after.find("6312 777888"), std::string::npos);
  EXPECT_EQ(after.find("УФМС по Саратовской обл."), std::string::npos);
  EXPECT_NE(after.find("6304 121212"), std::string::npos) << "the mother's stay";
}

// The law's clocks, through the outbox. Reminders pending for `instance`,
// as "TO KIND ON".
std::set<std::string> RemindersOf(const json& rs, const std::string& instance) {
  std::set<std::string> out;
  for (const auto& r : rs)
    if (r["instance"] == instance) out.insert(r["to"].get<std::string>() + " " + r["kind"].get<std::string>() + " " +
                                              r["on"].get<std::string>());
  return out;
}

int FiredFor(const json& tick, const std::string& instance) {
  int n = 0;
  for (const auto& f : tick["fired"]) n += f["instance"] == instance;
  return n;
}

// 152-FZ art. 21 part 5: a revoked consent's data is destroyed within 30
// days: the curators are reminded before, and told (with the director) after.
TEST_P(Orders, ARevokedConsentStartsTheThirtyDayDestructionClock) {
  ASSERT_EQ(Db("consent revoke s2 --as s2", "2026-10-01").code, 0);
  auto duties = Json("list --workflow personal_data", "2026-10-01");
  ASSERT_EQ(duties.size(), 1u) << duties.dump(1);
  const std::string duty = duties[0]["id"];
  auto shown = Json("show --as d1 " + duty, "2026-10-01");
  EXPECT_EQ(shown["fields"]["person"], "s2");
  EXPECT_EQ(shown["fields"]["kind"], "destruction");
  EXPECT_EQ(shown["fields"]["due"], "2026-10-31");
  EXPECT_EQ(FiredFor(Json("tick", "2026-10-31"), duty), 0);
  EXPECT_EQ(RemindersOf(Json("reminders --as d1 --status pending", "2026-10-31"), duty),
            (std::set<std::string>{"c1 upcoming 2026-10-24", "c2 upcoming 2026-10-24", "c1 upcoming 2026-10-28",
                                   "c2 upcoming 2026-10-28", "c1 upcoming 2026-10-30", "c2 upcoming 2026-10-30"}));
  EXPECT_EQ(FiredFor(Json("tick", "2026-11-01"), duty), 1);
  EXPECT_EQ(Json("show --as d1 " + duty, "2026-11-01")["state"], "overdue");
  auto rs = RemindersOf(Json("reminders --as d1 --status pending", "2026-11-01"), duty);
  for (const char* who : {"c1", "c2", "d1"}) EXPECT_EQ(rs.count(std::string(who) + " overdue 2026-11-01"), 1u) << who;
  // Erasing the data is what the clock waits for.
  auto erase = Db("person erase s2 --as c1", "2026-11-02");
  ASSERT_EQ(erase.code, 0) << erase.err;
  EXPECT_EQ(Json("show --as d1 " + duty, "2026-11-02")["state"], "done");
}

// A renewed consent stops the destruction clock.
TEST_P(Orders, ARenewedConsentStopsTheDestructionClock) {
  ASSERT_EQ(Db("consent revoke s2 --as s2", "2026-10-01").code, 0);
  ASSERT_EQ(Db("consent sign s2 --as s2", "2026-10-03").code, 0);
  auto duties = Json("list --workflow personal_data", "2026-10-03");
  ASSERT_EQ(duties.size(), 1u);
  EXPECT_EQ(duties[0]["state"], "done");
  EXPECT_EQ(FiredFor(Json("tick", "2026-11-05"), duties[0]["id"]), 0);
}

// 152-FZ art. 14 and 20: a request is answered within 10 working days. Made
// on Friday 8 May 2026, before the 9 May holiday moved to Monday 11 May: the
// answer is due on Monday 25 May (not Friday 22 May), overdue from the 26th.
TEST_P(Orders, ARequestForInformationIsDueInTenWorkingDays) {
  const std::string before = DumpTables(db_->url());
  EXPECT_EQ(Db("person request s2 --kind information --as m1", "2026-05-08").code, 2);  // not theirs: as if there were no s2
  EXPECT_EQ(Db("person request s2 --kind erasure --as s2", "2026-05-08").code, 1);
  EXPECT_EQ(Db("person request nobody9 --as c1", "2026-05-08").code, 2);
  EXPECT_EQ(DumpTables(db_->url()), before);
  auto r = Db("person request s1 --kind information --as g1", "2026-05-08");  // a guardian asks for the child
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string duty = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(Json("show --as d1 " + duty, "2026-05-08")["fields"]["due"], "2026-05-25");
  EXPECT_EQ(FiredFor(Json("tick", "2026-05-25"), duty), 0);
  EXPECT_EQ(FiredFor(Json("tick", "2026-05-26"), duty), 1);
  EXPECT_EQ(Json("show --as d1 " + duty, "2026-05-26")["state"], "overdue");
  EXPECT_EQ(Db("send " + duty + " answered --as g1 --set answer=x", "2026-05-26").code, 3);
  ASSERT_EQ(Db("send " + duty + " answered --as c1 --set 'answer=Сведения направлены письмом'", "2026-05-27").code, 0);
  EXPECT_EQ(Json("show --as d1 " + duty, "2026-05-27")["state"], "done");
  bool recorded = false;
  const json exported = Json("person export s1 --as c1", "2026-05-27");
  for (const auto& e : exported["person_history"])
    recorded = recorded || (e["event"] == "request" && e["actor"] == "g1");
  EXPECT_TRUE(recorded) << exported["person_history"].dump(1);
}

INSTANTIATE_TEST_SUITE_P(Backends, Orders, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace mentorflow::testing
