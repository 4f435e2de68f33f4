// The pure rules storage applies: recipients, signatures, consent, firing
// moments, and the iCalendar writer's folding and escaping.
#include "engine/rules.h"

#include <gtest/gtest.h>

#include "engine/ics.h"
#include "engine/rating.h"
#include "tests/fake_world.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

const Definition& Def(const char* name) { return *testing::Shipped().Find(name); }

std::vector<Value> PairFields(const char* mentor, const char* mentee) {
  const Definition& def = Def("mentoring_pair");
  std::vector<Value> f(def.fields.size());
  f[def.FieldIndex("mentor")] = std::string(mentor);
  f[def.FieldIndex("mentee")] = std::string(mentee);
  return f;
}

TEST(Rules_Recipients, BoundRolesGiveTheirPersonOthersEveryHolder) {
  testing::FakeWorld world;
  world.Add("c1", {"curator"});
  world.Add("c2", {"curator"});
  world.Add("m1", {"mentor"});
  world.Add("m2", {"mentor"});
  const Definition& def = Def("mentoring_pair");
  auto fields = PairFields("m1", "s1");
  EXPECT_EQ(Recipients(def, fields, {"mentor", "curator"}, world), (std::vector<std::string>{"m1", "c1", "c2"}));
  EXPECT_EQ(Recipients(def, fields, {"mentee"}, world), std::vector<std::string>{"s1"});  // a person field's role
  EXPECT_EQ(Recipients(def, fields, {"mentor", "mentor"}, world), std::vector<std::string>{"m1"});  // each once
  EXPECT_TRUE(Recipients(def, fields, {"guardian"}, world).empty());  // bound, and the field is unset
  // The programme names its curator: only that one.
  const Definition& prog = Def("programme");
  std::vector<Value> pf(prog.fields.size());
  pf[prog.FieldIndex("curator")] = std::string("c2");
  EXPECT_EQ(Recipients(prog, pf, {"curator"}, world), std::vector<std::string>{"c2"});
}

TEST(Rules_Recipients, AMinorsGuardianReceivesForThemEachPersonOnce) {
  testing::FakeWorld world;
  world.Add("c1", {"curator"});
  world.births["s1"] = *ParseDate("2012-05-10");
  world.guardians["s1"] = "g1";
  const Definition& def = Def("mentoring_pair");
  auto fields = PairFields("m1", "s1");
  using R = std::vector<std::pair<std::string, std::string>>;
  auto to = [&](const std::vector<Value>& f, const std::vector<std::string>& notify, Date today) {
    R out;
    for (const auto& r : ReminderRecipients(def, f, notify, world, today)) out.push_back({r.id, r.ward});
    return out;
  };
  EXPECT_EQ(to(fields, {"mentor", "mentee", "curator"}, *ParseDate("2027-07-24")),
            (R{{"m1", ""}, {"s1", ""}, {"g1", "s1"}, {"c1", ""}}));
  // Of age from their 18th birthday: then theirs alone.
  EXPECT_EQ(to(fields, {"mentee"}, *ParseDate("2030-05-09")), (R{{"s1", ""}, {"g1", "s1"}}));
  EXPECT_EQ(to(fields, {"mentee"}, *ParseDate("2030-05-10")), (R{{"s1", ""}}));
  // A guardian the instance names in their own right is not repeated.
  fields[def.FieldIndex("guardian")] = std::string("g1");
  EXPECT_EQ(to(fields, {"mentee", "guardian"}, *ParseDate("2027-07-24")), (R{{"s1", ""}, {"g1", ""}}));
  // No guardian registered, or no birth date: the person alone.
  world.guardians.clear();
  EXPECT_EQ(to(fields, {"mentee"}, *ParseDate("2027-07-24")), (R{{"s1", ""}}));
  world.guardians["m1"] = "g2";
  EXPECT_EQ(to(fields, {"mentor"}, *ParseDate("2027-07-24")), (R{{"m1", ""}}));
}

TEST(Rules_Signatures, EachSignerInTheirPlaceAndOnce) {
  const Definition& def = Def("mentoring_pair");
  const int kDocuments = def.StateIndex("documents");
  const DocumentDef& agreement = def.documents[def.DocumentIndex("agreement")];
  auto fields = PairFields("m1", "s1");
  const Date kToday = *ParseDate("2026-09-01");
  const std::map<std::string, ConsentSubject> adults = {{"m1", {"m1", ParseDate("1990-01-01"), ""}},
                                                        {"s1", {"s1", ParseDate("2000-01-01"), ""}}};
  std::vector<Signature> sigs;
  auto m1 = MaySign(def, agreement, kDocuments, fields, Actor{"m1", {"mentor"}}, sigs, adults, kToday);
  ASSERT_TRUE(m1.status.ok());
  EXPECT_EQ(m1.as, "mentor");
  EXPECT_EQ(m1.capacity, "self");  // the person the field names signs for themself
  auto other = MaySign(def, agreement, kDocuments, fields, Actor{"m2", {"mentor"}}, sigs, adults, kToday);  // another pair's mentor
  EXPECT_EQ(other.status.rule(), "signer");
  EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, Actor{"c1", {"curator"}}, sigs, adults, kToday).status.rule(), "signer");
  sigs.push_back({"m1", m1.as, m1.capacity, ""});
  EXPECT_FALSE(FullySigned(def, agreement, fields, sigs));
  EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, Actor{"m1", {"mentor"}}, sigs, adults, kToday).status.rule(), "signed");
  auto s1 = MaySign(def, agreement, kDocuments, fields, Actor{"s1", {"mentee"}}, sigs, adults, kToday);
  ASSERT_TRUE(s1.status.ok());
  sigs.push_back({"s1", s1.as, s1.capacity, ""});
  EXPECT_TRUE(FullySigned(def, agreement, fields, sigs));
  // The mentor replaced: the old mentor's signature no longer fills the place.
  EXPECT_FALSE(FullySigned(def, agreement, PairFields("m2", "s1"), sigs));
  // A role signer: any holder (the director signs the order).
  const DocumentDef& order = def.documents[def.DocumentIndex("order")];
  auto d = MaySign(def, order, kDocuments, fields, Actor{"d1", {"director"}}, {}, adults, kToday);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.capacity, "director");
  EXPECT_TRUE(FullySigned(def, order, fields, {{"d1", d.as, d.capacity, ""}}));
  // A finished pair's documents are closed, even to a signer who has not signed.
  auto late = MaySign(def, order, def.StateIndex("terminated"), fields, Actor{"d1", {"director"}}, {}, adults, kToday);
  EXPECT_EQ(late.status.rule(), "final");
  EXPECT_NE(late.status.message().find("finished (state 'terminated')"), std::string::npos) << late.status.message();
}

// Issue 26, finding 2: under 14 a child's place is signed by their guardian
// alone and the child's own signature is refused; from 14 to 17 the
// teenager signs and the guardian co-signs, both needed; from 18 the person
// alone. At 13, on the 14th birthday, at 17 and on the 18th birthday.
TEST(Rules_Signatures, AgeDecidesWhoSignsAMinorsPlace) {
  const Definition& def = Def("mentoring_pair");
  const int kDocuments = def.StateIndex("documents");
  const DocumentDef& agreement = def.documents[def.DocumentIndex("agreement")];
  auto fields = PairFields("m1", "s1");
  const std::map<std::string, ConsentSubject> people = {{"m1", {"m1", ParseDate("1990-01-01"), ""}},
                                                        {"s1", {"s1", ParseDate("2012-09-02"), "g1"}}};
  const Date at13 = *ParseDate("2026-09-01"), on14 = *ParseDate("2026-09-02"), at17 = *ParseDate("2030-09-01"),
             on18 = *ParseDate("2030-09-02");
  const Actor s1{"s1", {"mentee"}}, g1{"g1", {"guardian"}};
  const Signature mentor{"m1", "mentor", "self", ""};
  EXPECT_EQ(CapacityOn(ParseDate("2012-09-02"), at13), Capacity::kRepresented);
  EXPECT_EQ(CapacityOn(ParseDate("2012-09-02"), on14), Capacity::kWithConsent);
  EXPECT_EQ(CapacityOn(ParseDate("2012-09-02"), at17), Capacity::kWithConsent);
  EXPECT_EQ(CapacityOn(ParseDate("2012-09-02"), on18), Capacity::kFull);
  EXPECT_EQ(CapacityOn(std::nullopt, at13), Capacity::kFull);

  // 13: the guardian in the child's place.
  auto own = MaySign(def, agreement, kDocuments, fields, s1, {}, people, at13);
  EXPECT_EQ(own.status.rule(), "minor");
  EXPECT_NE(own.status.message().find("s1 is under 14 on 2026-09-01, so their guardian g1 signs 'agreement' in their place"),
            std::string::npos)
      << own.status.message();
  auto g = MaySign(def, agreement, kDocuments, fields, g1, {}, people, at13);
  ASSERT_TRUE(g.status.ok()) << g.status.message();
  EXPECT_EQ(g.as, "mentee");
  EXPECT_EQ(g.capacity, "guardian of s1");
  const Signature in_place{"g1", "mentee", g.capacity, ""};
  EXPECT_TRUE(FullySigned(def, agreement, fields, {mentor, in_place}));
  EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, g1, {mentor, in_place}, people, at13).status.rule(), "signed");
  // ...and that signature stays good after the 14th birthday.
  EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, s1, {mentor, in_place}, people, on14).status.rule(), "signed");

  // 14 (the birthday) and 17: the teenager and the guardian, each once, both needed.
  for (Date day : {on14, at17}) {
    auto teen = MaySign(def, agreement, kDocuments, fields, s1, {}, people, day);
    ASSERT_TRUE(teen.status.ok()) << teen.status.message();
    EXPECT_EQ(teen.capacity, "self, with the guardian's consent");
    auto co = MaySign(def, agreement, kDocuments, fields, g1, {}, people, day);
    ASSERT_TRUE(co.status.ok()) << co.status.message();
    EXPECT_EQ(co.capacity, "co-signing guardian of s1");
    const Signature t{"s1", "mentee", teen.capacity, ""}, c{"g1", "mentee", co.capacity, ""};
    EXPECT_FALSE(FullySigned(def, agreement, fields, {mentor, t}));
    EXPECT_FALSE(FullySigned(def, agreement, fields, {mentor, c}));
    EXPECT_TRUE(FullySigned(def, agreement, fields, {mentor, t, c}));
    EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, s1, {mentor, t}, people, day).status.rule(), "signed");
    EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, g1, {mentor, c}, people, day).status.rule(), "signed");
    EXPECT_TRUE(MaySign(def, agreement, kDocuments, fields, g1, {mentor, t}, people, day).status.ok());
    // Another child's guardian fills nothing.
    EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, Actor{"g2", {"guardian"}}, {}, people, day).status.rule(),
              "signer");
  }

  // 18: the person alone; the former guardian fills nothing. A teenager's
  // signature still waiting for its co-signature is given again.
  EXPECT_EQ(MaySign(def, agreement, kDocuments, fields, g1, {}, people, on18).status.rule(), "signer");
  auto adult = MaySign(def, agreement, kDocuments, fields, s1, {}, people, on18);
  ASSERT_TRUE(adult.status.ok());
  EXPECT_EQ(adult.capacity, "self");
  const Signature lone_teen{"s1", "mentee", "self, with the guardian's consent", ""};
  EXPECT_TRUE(MaySign(def, agreement, kDocuments, fields, s1, {mentor, lone_teen}, people, on18).status.ok());
  EXPECT_TRUE(FullySigned(def, agreement, fields, {mentor, lone_teen, {"s1", "mentee", "self", ""}}));
}

TEST(Rules_Consent, WhoMayGiveAndRevoke) {
  const Date today = *ParseDate("2026-09-01");
  ConsentSubject minor{"s1", ParseDate("2014-01-10"), "g1"}, orphan{"s2", ParseDate("2014-01-10"), ""},
      adult{"a1", ParseDate("2000-01-10"), ""};
  std::string cap;
  EXPECT_TRUE(MayChangeConsent(minor, Actor{"g1", {"guardian"}}, true, today, &cap).ok());
  EXPECT_EQ(cap, "guardian");
  EXPECT_TRUE(MayChangeConsent(minor, Actor{"c1", {"curator"}}, true, today, &cap).ok());
  EXPECT_EQ(cap, "curator");
  EXPECT_EQ(MayChangeConsent(minor, Actor{"s1", {"mentee"}}, true, today, &cap).rule(), "role");
  EXPECT_EQ(MayChangeConsent(minor, Actor{"m1", {"mentor"}}, true, today, &cap).rule(), "role");
  // Issue 23, finding 5: a minor revokes no more than they sign; their guardian does.
  EXPECT_EQ(MayChangeConsent(minor, Actor{"s1", {"mentee"}}, false, today, &cap).rule(), "role");
  EXPECT_TRUE(MayChangeConsent(minor, Actor{"g1", {"guardian"}}, false, today, &cap).ok());
  EXPECT_EQ(cap, "guardian");
  // From the 18th birthday the guardian neither signs nor revokes; the person does.
  for (bool given : {true, false}) {
    EXPECT_EQ(MayChangeConsent(minor, Actor{"g1", {"guardian"}}, given, *ParseDate("2032-01-10"), &cap).rule(), "role");
    EXPECT_TRUE(MayChangeConsent(minor, Actor{"g1", {"guardian"}}, given, *ParseDate("2032-01-09"), &cap).ok());
  }
  EXPECT_EQ(SubjectActors(minor, today), std::vector<std::string>{"g1"});
  EXPECT_EQ(SubjectActors(minor, *ParseDate("2032-01-10")), std::vector<std::string>{"s1"});
  EXPECT_TRUE(SubjectActors(orphan, today).empty());
  EXPECT_EQ(SubjectActors(adult, today), std::vector<std::string>{"a1"});
  EXPECT_EQ(MayChangeConsent(orphan, Actor{"c1", {"curator"}}, true, today, &cap).rule(), "consent");
  EXPECT_TRUE(MayChangeConsent(adult, Actor{"a1", {"mentee"}}, true, today, &cap).ok());
  // On the 18th birthday the person signs for themself.
  EXPECT_TRUE(MayChangeConsent(minor, Actor{"s1", {"mentee"}}, true, *ParseDate("2032-01-10"), &cap).ok());
  // Issue 26, finding 2: from the 14th birthday (2028-01-10) the teenager
  // signs and revokes too (the store waits for both signatures); the day
  // before, not yet.
  EXPECT_EQ(MayChangeConsent(minor, Actor{"s1", {"mentee"}}, true, *ParseDate("2028-01-09"), &cap).rule(), "role");
  for (const char* day : {"2028-01-10", "2032-01-09"}) {
    for (bool given : {true, false}) {
      EXPECT_TRUE(MayChangeConsent(minor, Actor{"s1", {"mentee"}}, given, *ParseDate(day), &cap).ok()) << day;
      EXPECT_EQ(cap, "self");
      EXPECT_TRUE(MayChangeConsent(minor, Actor{"g1", {"guardian"}}, given, *ParseDate(day), &cap).ok()) << day;
      EXPECT_EQ(cap, "guardian");
    }
    EXPECT_EQ(SubjectActors(minor, *ParseDate(day)), (std::vector<std::string>{"s1", "g1"})) << day;
  }
  EXPECT_EQ(SubjectActors(minor, *ParseDate("2028-01-09")), std::vector<std::string>{"g1"});
}

// Issue 23, findings 2 and 4: the offices and guardianship, as pure rules.
TEST(Rules_People, OfficesAreTheDirectorsAndNobodyChangesTheirOwnRoles) {
  const Actor curator{"c1", {"curator"}}, director{"d1", {"director"}};
  EXPECT_EQ(MayChangePerson(curator, "c1", {"curator"}, {"director"}, {}, false).rule(), "role");
  EXPECT_EQ(MayChangePerson(curator, "c2", {"curator"}, {"director"}, {}, false).rule(), "role");
  EXPECT_EQ(MayChangePerson(curator, "c2", {"curator"}, {}, {"curator"}, false).rule(), "role");
  EXPECT_EQ(MayChangePerson(curator, "d1", {"director"}, {}, {}, true).rule(), "role");
  EXPECT_EQ(MayChangePerson(director, "d1", {"director"}, {"curator"}, {}, false).rule(), "role");
  EXPECT_TRUE(MayChangePerson(director, "c2", {"curator"}, {"director"}, {}, false).ok());
  EXPECT_TRUE(MayChangePerson(curator, "m1", {"mentor"}, {"guardian"}, {}, true).ok());
  EXPECT_TRUE(MayChangePerson(director, "d1", {"director"}, {}, {}, true).ok());  // their own name, not their roles
  EXPECT_EQ(MayChangePerson(Actor{"m1", {"mentor"}}, "s1", {"mentee"}, {}, {}, true).rule(), "role");
}

TEST(Rules_People, AGuardianIsAnAdultHoldingTheRoleOutsideTheirWardsCare) {
  const Date today = *ParseDate("2026-09-01");
  const ConsentSubject adult{"g1", ParseDate("1985-01-01"), ""}, child{"k1", ParseDate("2013-05-05"), ""},
      unknown{"g2", std::nullopt, ""};
  EXPECT_TRUE(MayBeGuardian("s1", adult, {"guardian"}, {}, today).ok());
  EXPECT_TRUE(MayBeGuardian("s1", unknown, {"guardian"}, {}, today).ok());
  EXPECT_EQ(MayBeGuardian("s1", adult, {"mentor"}, {}, today).rule(), "guardian");
  EXPECT_EQ(MayBeGuardian("s1", child, {"guardian"}, {}, today).rule(), "guardian");
  EXPECT_EQ(MayBeGuardian("g1", adult, {"guardian"}, {}, today).rule(), "guardian");
  EXPECT_EQ(MayBeGuardian("s1", adult, {"guardian"}, {"x", "s1"}, today).rule(), "guardian");  // a cycle
}

TEST(Rules_Time, ADeadlineFiresAtTheStartOfTheNextDayInTheZone) {
  Now at = FiringMoment(*ParseDate("2026-12-20"), "Europe/Saratov");
  EXPECT_EQ(FormatDate(at.today), "2026-12-21");
  EXPECT_EQ(FormatInstant(at.instant), "2026-12-20T20:00:00Z");  // Saratov is UTC+4
  EXPECT_FALSE(IsOverdue(*ParseDate("2026-12-20"), *ParseDate("2026-12-20")));
  EXPECT_TRUE(IsOverdue(*ParseDate("2026-12-20"), *ParseDate("2026-12-21")));
}

TEST(Rules_Count, AnUnsetFieldMatchesNothing) {
  const Definition& def = Def("mentoring_pair");
  auto fields = PairFields("m1", "s1");
  EXPECT_TRUE(MatchesWhere(def, fields, {{"mentor", "m1"}}));
  EXPECT_FALSE(MatchesWhere(def, fields, {{"guardian", ""}}));
  EXPECT_FALSE(MatchesWhere(def, fields, {{"guardian", "null"}}));
  EXPECT_FALSE(MatchesWhere(def, fields, {{"no_such_field", "x"}}));
}

TEST(Ics_Writer, FoldsAt75OctetsWithoutSplittingCharactersAndEscapes) {
  EXPECT_EQ(IcsEscapeText("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
  std::string line = "SUMMARY:" + std::string(100, 'x');
  std::string folded = IcsFold(line);
  EXPECT_EQ(folded.substr(0, 77), line.substr(0, 75) + "\r\n");
  std::string cyr = "SUMMARY:";
  for (int i = 0; i < 60; ++i) cyr += "ж";  // two octets each
  std::string f = IcsFold(cyr);
  size_t start = 0;
  for (size_t end; (end = f.find("\r\n", start)) != std::string::npos; start = end + 2) {
    std::string l = f.substr(start, end - start);
    EXPECT_LE(l.size(), 75u);
    EXPECT_NE(static_cast<unsigned char>(l.back()) & 0xC0, 0xC0) << "a line ends inside a character";
  }
}

// Ranks: equal scores share a rank and are listed by id, the next rank
// skips (1, 2, 2, 4); 100 is the best score; nobody scoring gives all 0.
TEST(Rating_Rank, TiesShareARankAndTheBestIsAHundred) {
  auto ranked = Rank({{"b", "python", 6}, {"a", "python", 24}, {"c", "python", 20}, {"c", "python", 4},
                      {"d", "python", 6}, {"b", "python", 0}});
  std::string got;
  for (const auto& e : ranked)
    got += std::to_string(e.rank) + e.person + ":" + std::to_string(e.score) + "/" + std::to_string(e.records) + " ";
  EXPECT_EQ(got, "1a:24/1 1c:24/2 3b:6/2 3d:6/1 ");
  EXPECT_EQ(ranked[0].normalised, 100.0);
  EXPECT_EQ(ranked[2].normalised, 25.0);
  EXPECT_TRUE(Rank({}).empty());
  auto zero = Rank({{"a", "python", 0}, {"b", "python", 0}});
  EXPECT_EQ(zero[1].rank, 1);
  EXPECT_EQ(zero[1].normalised, 0.0);
}

}  // namespace
}  // namespace mentorflow
