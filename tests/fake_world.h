// A small fake of the one interface the pure core asks for (World), and a
// harness that drives one instance through Start/Dispatch/Apply. It stores
// nothing and fires nothing: what storage does with a Decision is tested on
// the store itself (storage_test, the scenario files).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "engine/rules.h"

namespace mentorflow::testing {

class FakeWorld : public World {
 public:
  struct Person {
    std::vector<std::string> roles;
    bool consent = false;
  };
  std::map<std::string, Person> people;
  ChildCount children;            // what CountChildren answers
  std::int64_t instances = 1;     // what CountInstances answers (a programme at its pairs stage)

  void Add(const std::string& id, std::vector<std::string> roles, bool consent = true) {
    people[id] = {std::move(roles), consent};
  }
  Actor ActorFor(const std::string& id) const {
    if (id == "system") return Actor::System();
    auto it = people.find(id);
    return it == people.end() ? Actor{id, {}} : Actor{id, it->second.roles};
  }

  // Consents by purpose: `consent` in Add is the default purpose's; others
  // are given in `purposes` (person -> purposes).
  std::map<std::string, std::set<std::string>> purposes;
  bool HasConsent(std::string_view id, std::string_view purpose) const override {
    if (purpose != kDefaultPurpose) {
      auto p = purposes.find(std::string(id));
      return p != purposes.end() && p->second.count(std::string(purpose)) > 0;
    }
    auto it = people.find(std::string(id));
    return it != people.end() && it->second.consent;
  }
  bool PersonHasRole(std::string_view id, std::string_view role) const override {
    auto it = people.find(std::string(id));
    return it != people.end() && (role == "any" || std::find(it->second.roles.begin(), it->second.roles.end(),
                                                             role) != it->second.roles.end());
  }
  std::vector<std::string> PeopleWithRole(std::string_view role) const override {
    std::vector<std::string> out;
    for (const auto& [id, p] : people)
      if (std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end()) out.push_back(id);
    return out;
  }
  ChildCount CountChildren(std::string_view, std::string_view, const std::vector<std::string>&) const override {
    return children;
  }
  std::int64_t CountInstances(const Condition&) const override { return instances; }
  std::map<std::string, DataTable, std::less<>> tables;
  const DataTable* Table(std::string_view name) const override {
    auto it = tables.find(name);
    return it == tables.end() ? nullptr : &it->second;
  }
  std::map<std::string, std::string> guardians;  // child -> guardian
  std::map<std::string, ParentView> parents;     // id -> what a child sees of it
  std::map<std::string, Date> births;  // person -> birth date (the rest: not recorded)
  std::optional<Date> BirthOf(std::string_view id) const override {
    auto it = births.find(std::string(id));
    return it == births.end() ? std::nullopt : std::optional<Date>(it->second);
  }
  std::string GuardianOf(std::string_view id) const override {
    auto it = guardians.find(std::string(id));
    return it == guardians.end() ? std::string() : it->second;
  }
  std::optional<ParentView> Parent(std::string_view id) const override {
    auto it = parents.find(std::string(id));
    if (it == parents.end()) return std::nullopt;
    return it->second;
  }
};

// One instance driven through the pure core.
struct PureInstance {
  const Definition* def = nullptr;
  Snapshot snap;
  std::vector<HistoryEntry> history;
  Decision last;  // the last accepted decision

  Status Start(const Definition& d, const Input& in, const Actor& actor, const Now& now, const World& world) {
    def = &d;
    Outcome o = mentorflow::Start(d, in, "", actor, now, world);
    if (!o.ok()) return Status(o.refusal.code, o.refusal.message, o.refusal.rule);
    snap = Snapshot{"1", "", -1, std::vector<Value>(d.fields.size()), std::vector<char>(d.documents.size(), 0)};
    Accept(*o.decision);
    return Status::Ok();
  }
  Status Send(const std::string& event, const Input& in, const Actor& actor, const Now& now, const World& world) {
    Outcome o = Dispatch(*def, snap, event, in, actor, now, world);
    if (!o.ok()) return Status(o.refusal.code, o.refusal.message, o.refusal.rule);
    Accept(*o.decision);
    return Status::Ok();
  }
  void Accept(const Decision& d) {
    Apply(d, snap);
    // A document issued again must be signed again.
    for (int doc : d.documents) snap.signed_documents[doc] = 0;
    history.push_back(d.history);
    last = d;
  }
  void MarkSigned(const std::string& doc) { snap.signed_documents[def->DocumentIndex(doc)] = 1; }
  std::string State() const { return def->states[snap.state].name; }
  const Value& Field(const std::string& name) const { return snap.fields[def->FieldIndex(name)]; }
};

}  // namespace mentorflow::testing
