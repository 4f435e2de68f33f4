// Thousands of random event sequences from random actors against every
// shipped workflow, through the pure core and a fake World: no decision may break the definition (a state that does
// not exist, a final state left, a field of the wrong type), and a refused
// event must change nothing.
#include <gtest/gtest.h>

#include <random>

#include "tests/fake_world.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

const std::vector<std::string> kPeople = {"d1", "c1", "c2", "m1", "m2", "s1", "s2", "g1", "system"};

void AddPeople(testing::FakeWorld& world) {
  world.Add("d1", {"director"});
  world.Add("c1", {"curator"});
  world.Add("c2", {"curator", "mentor"});
  world.Add("m1", {"mentor"});
  world.Add("m2", {"mentor"}, false);
  world.Add("s1", {"mentee"});
  world.Add("s2", {"mentee"}, false);
  world.Add("g1", {"guardian"});
}

std::string PersonHolding(const std::string& role, std::mt19937& rng) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> holders = {
      {"director", {"d1"}}, {"curator", {"c1", "c2"}}, {"mentor", {"m1", "m2", "c2"}},
      {"mentee", {"s1", "s2"}}, {"guardian", {"g1"}}, {"system", {"system"}}};
  for (const auto& [r, people] : holders)
    if (r == role) return people[rng() % people.size()];
  return "nobody";
}

std::string RandomValue(const FieldDef& f, std::mt19937& rng, bool garbage = true) {
  std::uniform_int_distribution<int> p(0, 9);
  if (garbage && p(rng) == 0) return "garbage";  // sometimes wrong on purpose
  switch (f.type) {
    case FieldType::kPerson: return PersonHolding(f.role, rng);
    case FieldType::kEnum: return f.values[rng() % f.values.size()];
    case FieldType::kInt: return std::to_string((f.min ? *f.min : 0) + static_cast<int>(rng() % 5));
    case FieldType::kBool: return rng() % 2 ? "true" : "false";
    case FieldType::kDate: return "2027-0" + std::to_string(1 + rng() % 9) + "-1" + std::to_string(rng() % 9);
    case FieldType::kString: return "text";
    case FieldType::kList: return "";
    case FieldType::kDateTime: return "2027-07-2" + std::to_string(rng() % 9) + "T1" + std::to_string(rng() % 9) + ":00";
  }
  return "";
}

bool TypeFits(const FieldDef& f, const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return !f.required;
  switch (f.type) {
    case FieldType::kString:
    case FieldType::kPerson: return std::holds_alternative<std::string>(v);
    case FieldType::kDateTime: {
      auto* s = std::get_if<std::string>(&v);
      return s && ParseDateTime(*s) == *s;
    }
    case FieldType::kEnum: {
      auto* s = std::get_if<std::string>(&v);
      return s && std::find(f.values.begin(), f.values.end(), *s) != f.values.end();
    }
    case FieldType::kInt: {
      auto* n = std::get_if<std::int64_t>(&v);
      return n && (!f.min || *n >= *f.min) && (!f.max || *n <= *f.max);
    }
    case FieldType::kBool: return std::holds_alternative<bool>(v);
    case FieldType::kDate: return std::holds_alternative<Date>(v);
    case FieldType::kList: {
      auto* l = std::get_if<List>(&v);
      if (!l) return false;
      for (const auto& item : *l)
        for (size_t k = 0; k < f.item_fields.size(); ++k)
          if (!TypeFits(f.item_fields[k], item.values[k])) return false;
      return true;
    }
  }
  return false;
}

Input RandomInput(const Definition& def, std::mt19937& rng) {
  Input in;
  int n = static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) {
    // Either a transition input, a list item field, an id, or nonsense.
    const auto& t = def.transitions[rng() % def.transitions.size()];
    if (!t.input.empty()) {
      const FieldDef& f = def.fields[t.input[rng() % t.input.size()].field];
      in.push_back({f.name, RandomValue(f, rng)});
    } else if (t.append_list >= 0 || t.update_list >= 0) {
      const FieldDef& l = def.fields[t.append_list >= 0 ? t.append_list : t.update_list];
      for (const auto& f : l.item_fields)
        if (rng() % 2) in.push_back({f.name, RandomValue(f, rng)});
      if (rng() % 2) in.push_back({"id", std::to_string(1 + rng() % 3)});
    } else if (rng() % 3 == 0) {
      in.push_back({"nonsense", "1"});
    }
  }
  return in;
}

class RandomWalk : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomWalk, NoDecisionBreaksTheDefinition) {
  const Catalog& catalog = testing::Shipped();
  const Definition& def = *catalog.Find(GetParam());
  std::mt19937 rng(20261123u);
  int accepted = 0, refused = 0;
  const int kSequences = 2000, kSteps = 40;
  for (int seq = 0; seq < kSequences; ++seq) {
    testing::FakeWorld world;
    AddPeople(world);
    Date day = *ParseDate("2026-09-01");
    auto now = [&] { return Now{Instant{day.time_since_epoch()}, day, FormatDate(day) + "T00:00"}; };
    Input start;
    for (const auto& f : def.fields) {
      if (f.type != FieldType::kList && (f.required || rng() % 3 == 0))
        start.push_back({f.name, RandomValue(f, rng, seq % 10 == 0)});
    }
    // Mostly someone allowed to start it; sometimes anyone.
    std::string starter = kPeople[rng() % kPeople.size()];
    if (seq % 10 != 0) starter = PersonHolding(def.started_by.empty() ? def.roles[0] : def.started_by[0], rng);
    testing::PureInstance inst;
    if (!inst.Start(def, start, world.ActorFor(starter), now(), world).ok()) {
      ++refused;
      continue;
    }
    for (int step = 0; step < kSteps; ++step) {
      const Snapshot before = inst.snap;
      const size_t history = inst.history.size();
      const bool was_final = def.states[before.state].final;
      int action = static_cast<int>(rng() % 10);
      if (action == 0) {
        day += date::days{static_cast<int>(1 + rng() % 40)};
        continue;
      } else if (action == 1 && !def.documents.empty()) {
        inst.MarkSigned(def.documents[rng() % def.documents.size()].name);
        continue;
      } else if (action == 2) {
        auto& p = world.people[kPeople[rng() % (kPeople.size() - 1)]];
        p.consent = rng() % 2;
        world.children = {static_cast<std::int64_t>(rng() % 3), static_cast<std::int64_t>(rng() % 3)};
        continue;
      }
      std::string event = rng() % 15 == 0 ? "no_such_event" : def.events[rng() % def.events.size()];
      // Half the time an actor holding a role the event names, else anyone.
      std::string actor = kPeople[rng() % kPeople.size()];
      int ev = def.EventId(event);
      if (ev >= 0 && rng() % 2) {
        for (const auto& t : def.transitions)
          if (t.event_id == ev) actor = PersonHolding(t.by[rng() % t.by.size()], rng);
      }
      Status res = inst.Send(event, RandomInput(def, rng), world.ActorFor(actor), now(), world);
      if (!res.ok()) {
        ++refused;
        ASSERT_EQ(inst.snap.state, before.state) << event;
        ASSERT_EQ(inst.snap.fields, before.fields) << event;
        ASSERT_EQ(inst.history.size(), history) << event;
      } else {
        ++accepted;
        ASSERT_EQ(inst.history.size(), history + 1);
        const auto& h = inst.history.back();
        ASSERT_EQ(h.to, def.states[inst.snap.state].name);
        ASSERT_EQ(h.from, def.states[before.state].name);
        // The move is one the definition allows.
        auto [b, e] = def.Candidates(before.state, def.EventId(event));
        ASSERT_NE(b, e) << "accepted an event with no transition: " << event;
        // Every timer it arms is in the state it enters, every reminder has a day.
        for (const auto& t : inst.last.timers) ASSERT_EQ(t.state, inst.snap.state);
      }
      ASSERT_GE(inst.snap.state, 0);
      ASSERT_LT(inst.snap.state, static_cast<int>(def.states.size()));
      if (was_final) {
        ASSERT_EQ(inst.snap.state, before.state) << "a final state was left";
      }
      ASSERT_EQ(inst.snap.fields.size(), def.fields.size());
      for (size_t f = 0; f < def.fields.size(); ++f)
        ASSERT_TRUE(TypeFits(def.fields[f], inst.snap.fields[f])) << def.fields[f].name;
    }
  }
  RecordProperty("accepted", accepted);
  RecordProperty("refused", refused);
  // The walk must have exercised both outcomes, or it proves nothing.
  EXPECT_GT(accepted, 100) << def.name;
  EXPECT_GT(refused, 100) << def.name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, RandomWalk,
                         ::testing::Values("programme", "mentoring_pair", "individual_plan", "monitoring",
                                           "annual_report", "information_support"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mentorflow
