#include "engine/memory_institution.h"

#include <algorithm>

namespace mentorflow {

MemoryInstitution::MemoryInstitution(const Catalog& catalog, std::string zone)
    : catalog_(catalog), zone_(std::move(zone)) {}

void MemoryInstitution::AddPerson(Person p) { people_[p.id] = std::move(p); }

Status MemoryInstitution::SetConsent(const std::string& person_id, bool given) {
  auto it = people_.find(person_id);
  if (it == people_.end()) return Status::NotFound("no person '" + person_id + "'");
  it->second.consent = given;
  return Status::Ok();
}

Actor MemoryInstitution::ActorFor(const std::string& person_id) const {
  if (person_id == "system") return Actor::System();
  auto it = people_.find(person_id);
  if (it == people_.end()) return Actor{person_id, {}};
  return Actor{person_id, it->second.roles};
}

const MemoryInstitution::Instance* MemoryInstitution::Find(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}

bool MemoryInstitution::HasConsent(std::string_view person_id) const {
  auto it = people_.find(std::string(person_id));
  return it != people_.end() && it->second.consent;
}

bool MemoryInstitution::PersonHasRole(std::string_view person_id, std::string_view role) const {
  auto it = people_.find(std::string(person_id));
  if (it == people_.end()) return false;
  const auto& r = it->second.roles;
  return std::find(r.begin(), r.end(), role) != r.end();
}

World::ChildCount MemoryInstitution::CountChildren(std::string_view parent_id, std::string_view workflow,
                                                  const std::vector<std::string>& states) const {
  ChildCount n;
  for (const auto& [id, inst] : instances_) {
    if (inst.snap.parent != parent_id || inst.def->name != workflow) continue;
    ++n.total;
    const std::string& s = inst.def->states[inst.snap.state].name;
    if (std::find(states.begin(), states.end(), s) != states.end()) ++n.in_states;
  }
  return n;
}

std::int64_t MemoryInstitution::CountInstances(const Condition& c) const {
  std::int64_t n = 0;
  for (const auto& [id, inst] : instances_) {
    if (inst.def->name != c.workflow) continue;
    const std::string& s = inst.def->states[inst.snap.state].name;
    if (!c.states.empty() && std::find(c.states.begin(), c.states.end(), s) == c.states.end()) continue;
    bool match = true;
    for (const auto& [field, value] : c.where) {
      int fi = inst.def->FieldIndex(field);
      if (fi < 0 || ValueToString(inst.snap.fields[fi]) != value) match = false;
    }
    if (match) ++n;
  }
  return n;
}

std::vector<std::string> MemoryInstitution::Recipients(const Instance& inst,
                                                       const std::vector<std::string>& roles) const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& id) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  for (const auto& role : roles) {
    bool bound = false;
    for (size_t i = 0; i < inst.def->fields.size(); ++i) {
      const FieldDef& f = inst.def->fields[i];
      if (f.type != FieldType::kPerson || f.role != role) continue;
      bound = true;
      if (auto* id = std::get_if<std::string>(&inst.snap.fields[i])) add(*id);
    }
    if (bound) continue;
    for (const auto& [id, p] : people_)
      if (std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end()) add(id);
  }
  return out;
}

bool MemoryInstitution::DocumentSigned(const Definition& def, const Instance& inst,
                                       const IssuedDocument& doc) const {
  for (const auto& signer : def.documents[doc.document].signers) {
    int fi = def.FieldIndex(signer);
    bool ok = false;
    if (fi >= 0 && def.fields[fi].type == FieldType::kPerson) {
      auto* id = std::get_if<std::string>(&inst.snap.fields[fi]);
      ok = id && doc.signatures.count(*id);
    } else {
      for (const auto& who : doc.signatures)
        if (PersonHasRole(who, signer)) ok = true;
    }
    if (!ok) return false;
  }
  return true;
}

void MemoryInstitution::RefreshSigned(Instance& inst) {
  auto& sig = inst.snap.signed_documents;
  sig.assign(inst.def->documents.size(), 0);
  // Only the latest issue of each document counts.
  std::vector<const IssuedDocument*> latest(inst.def->documents.size(), nullptr);
  for (const auto& d : documents_)
    if (d.instance == inst.id) latest[d.document] = &d;
  for (size_t i = 0; i < latest.size(); ++i)
    if (latest[i]) sig[i] = DocumentSigned(*inst.def, inst, *latest[i]) ? 1 : 0;
}

void MemoryInstitution::ApplyDecision(Instance& inst, const Decision& d) {
  Apply(d, inst.snap);
  inst.history.push_back(d.history);
  for (const auto& key : d.cancel_timers) {
    timers_.erase(std::remove_if(timers_.begin(), timers_.end(),
                                 [&](const Timer& t) { return t.instance == inst.id && t.spec.key == key; }),
                  timers_.end());
    outbox_.erase(std::remove_if(outbox_.begin(), outbox_.end(),
                                 [&](const Pending& p) {
                                   return p.instance == inst.id && p.spec.key.compare(0, key.size() + 1, key + ":") == 0;
                                 }),
                  outbox_.end());
  }
  for (const auto& t : d.timers) timers_.push_back({inst.id, t});
  for (const auto& r : d.reminders) outbox_.push_back({inst.id, r});
  for (int doc : d.documents) documents_.push_back({inst.id, doc, {}, Date{}});
  RefreshSigned(inst);
}

MemoryInstitution::Result MemoryInstitution::Start(const std::string& workflow, const Input& input,
                                                   const std::string& parent, const std::string& actor_id,
                                                   const Now& now) {
  Result r;
  const Definition* def = catalog_.Find(workflow);
  if (!def) {
    r.status = Status::NotFound("no workflow '" + workflow + "'");
    return r;
  }
  if (!parent.empty() && !Find(parent)) {
    r.status = Status::NotFound("no instance '" + parent + "'");
    return r;
  }
  Outcome o = mentorflow::Start(*def, input, parent, ActorFor(actor_id), now, *this);
  if (!o.ok()) {
    r.status = Status(o.refusal.code, o.refusal.message);
    r.rule = o.refusal.rule;
    return r;
  }
  Instance inst;
  inst.id = std::to_string(next_id_++);
  inst.def = def;
  inst.snap.id = inst.id;
  inst.snap.parent = parent;
  inst.snap.fields.resize(def->fields.size());
  auto& stored = instances_[inst.id] = std::move(inst);
  ApplyDecision(stored, *o.decision);
  r.id = stored.id;
  r.state = def->states[stored.snap.state].name;
  return r;
}

MemoryInstitution::Result MemoryInstitution::Send(const std::string& instance_id, const std::string& event,
                                                  const Input& input, const std::string& actor_id, const Now& now) {
  Result r;
  r.id = instance_id;
  auto it = instances_.find(instance_id);
  if (it == instances_.end()) {
    r.status = Status::NotFound("no instance '" + instance_id + "'");
    return r;
  }
  Instance& inst = it->second;
  Outcome o = Dispatch(*inst.def, inst.snap, event, input, ActorFor(actor_id), now, *this);
  if (o.ok()) ApplyDecision(inst, *o.decision);
  else {
    r.status = Status(o.refusal.code, o.refusal.message);
    r.rule = o.refusal.rule;
  }
  r.state = inst.def->states[inst.snap.state].name;
  return r;
}

MemoryInstitution::Result MemoryInstitution::Sign(const std::string& instance_id, const std::string& doc,
                                                  const std::string& actor_id) {
  Result r;
  r.id = instance_id;
  auto it = instances_.find(instance_id);
  if (it == instances_.end()) {
    r.status = Status::NotFound("no instance '" + instance_id + "'");
    return r;
  }
  Instance& inst = it->second;
  r.state = inst.def->states[inst.snap.state].name;
  int di = inst.def->DocumentIndex(doc);
  IssuedDocument* latest = nullptr;
  for (auto& d : documents_)
    if (d.instance == instance_id && d.document == di) latest = &d;
  if (di < 0 || !latest) {
    r.status = Status::NotFound("document '" + doc + "' has not been issued for instance " + instance_id);
    return r;
  }
  // The signer must be one the document names: a person field's person or a holder of a listed role.
  bool may = false;
  for (const auto& signer : inst.def->documents[di].signers) {
    int fi = inst.def->FieldIndex(signer);
    if (fi >= 0 && inst.def->fields[fi].type == FieldType::kPerson) {
      auto* id = std::get_if<std::string>(&inst.snap.fields[fi]);
      if (id && *id == actor_id) may = true;
    } else if (PersonHasRole(actor_id, signer)) {
      may = true;
    }
  }
  if (!may) {
    r.status = Status::Refused("role: " + actor_id + " is not a signer of '" + doc + "'");
    r.rule = "role";
    return r;
  }
  latest->signatures.insert(actor_id);
  RefreshSigned(inst);
  return r;
}

MemoryInstitution::TickReport MemoryInstitution::Tick(const Now& now) {
  TickReport report;
  // Sends the reminders due on or before `until`, in date order.
  auto flush = [&](Date until) {
    std::stable_sort(outbox_.begin(), outbox_.end(),
                     [](const Pending& a, const Pending& b) { return a.spec.on < b.spec.on; });
    auto keep = std::stable_partition(outbox_.begin(), outbox_.end(),
                                      [&](const Pending& p) { return until < p.spec.on; });
    for (auto p = keep; p != outbox_.end(); ++p) {
      auto it = instances_.find(p->instance);
      std::vector<std::string> to;
      if (it != instances_.end()) to = Recipients(it->second, p->spec.notify);
      report.reminders.push_back({p->instance, p->spec, to});
    }
    outbox_.erase(keep, outbox_.end());
  };
  for (;;) {
    // The earliest overdue timer first; a fired transition may set new ones.
    auto due = std::min_element(timers_.begin(), timers_.end(), [](const Timer& a, const Timer& b) {
      return a.spec.due != b.spec.due ? a.spec.due < b.spec.due : a.instance < b.instance;
    });
    if (due == timers_.end() || !(due->spec.due < now.today)) break;
    Timer t = *due;
    timers_.erase(due);
    // Reminders that fell due before this deadline passed go out first:
    // leaving the state would otherwise cancel them unsent.
    flush(t.spec.due);
    FiredTimer f{t.instance, t.spec.event, t.spec.due, {}};
    auto it = instances_.find(t.instance);
    if (it != instances_.end() && it->second.snap.state == t.spec.state)
      f.result = Send(t.instance, t.spec.event, {}, "system", now);
    else
      f.result.status = Status::Refused("the instance left the state");
    report.fired.push_back(std::move(f));
  }
  flush(now.today);
  return report;
}

}  // namespace mentorflow
