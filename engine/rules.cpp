#include "engine/rules.h"

#include "engine/messages.h"

#include <algorithm>

namespace mentorflow {
namespace {

void AddOnce(std::vector<std::string>& out, const std::string& id) {
  if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
}

const std::string* PersonIn(const Definition& def, const std::vector<Value>& fields, const std::string& name) {
  int fi = def.FieldIndex(name);
  if (fi < 0 || def.fields[fi].type != FieldType::kPerson) return nullptr;
  return std::get_if<std::string>(&fields[fi]);
}

bool IsPersonField(const Definition& def, const std::string& name) {
  int fi = def.FieldIndex(name);
  return fi >= 0 && def.fields[fi].type == FieldType::kPerson;
}

// Whether `person` fills signer entry `as` on this instance.
bool Fills(const Definition& def, const std::vector<Value>& fields, const std::string& as, const Actor& who) {
  if (IsPersonField(def, as)) {
    const std::string* p = PersonIn(def, fields, as);
    return p && *p == who.id;
  }
  if (!who.Holds(as)) return false;
  // A role bound to a person field: only the person the instance names.
  bool bound = false;
  for (size_t i = 0; i < def.fields.size(); ++i) {
    if (def.fields[i].type != FieldType::kPerson || def.fields[i].role != as) continue;
    bound = true;
    if (const auto* p = std::get_if<std::string>(&fields[i]); p && *p == who.id) return true;
  }
  return !bound;
}

}  // namespace

std::vector<std::string> Recipients(const Definition& def, const std::vector<Value>& fields,
                                    const std::vector<std::string>& notify, const World& world) {
  std::vector<std::string> out;
  for (const auto& name : notify) {
    if (IsPersonField(def, name)) {
      if (const std::string* p = PersonIn(def, fields, name)) AddOnce(out, *p);
      continue;
    }
    bool bound = false;
    for (size_t i = 0; i < def.fields.size(); ++i) {
      const FieldDef& f = def.fields[i];
      if (f.type != FieldType::kPerson || f.role != name) continue;
      bound = true;
      if (const auto* p = std::get_if<std::string>(&fields[i])) AddOnce(out, *p);
    }
    if (bound) continue;
    for (const auto& id : world.PeopleWithRole(name)) AddOnce(out, id);
  }
  return out;
}

std::vector<Recipient> ReminderRecipients(const Definition& def, const std::vector<Value>& fields,
                                          const std::vector<std::string>& notify, const World& world, Date today) {
  const auto named = Recipients(def, fields, notify, world);
  std::vector<Recipient> out;
  auto listed = [&](const std::string& id) {
    return std::any_of(out.begin(), out.end(), [&](const Recipient& r) { return r.id == id; }) ||
           std::find(named.begin(), named.end(), id) != named.end();
  };
  for (const auto& id : named) {
    out.push_back({id, ""});
    if (!IsMinor(world.BirthOf(id), today)) continue;
    const std::string guardian = world.GuardianOf(id);
    if (!guardian.empty() && !listed(guardian)) out.push_back({guardian, id});
  }
  return out;
}

SignRuling MaySign(const Definition& def, const DocumentDef& doc, int state, const std::vector<Value>& fields,
                   const Actor& actor, const std::vector<Signature>& existing,
                   const std::map<std::string, ConsentSubject>& people, Date today) {
  SignRuling r;
  if (state >= 0 && def.states[state].final) {
    r.status = Status(Code::kRefused, "final: '" + doc.name + "' is not signed any more: " +
                                          msg::FinalState(def.states[state].name), "final");
    return r;
  }
  auto minor = [&](const std::string& id) -> const ConsentSubject* {
    auto it = people.find(id);
    return it != people.end() && IsMinor(it->second.birth, today) ? &it->second : nullptr;
  };
  bool fills_any = false;
  std::string minor_refusal;
  for (const auto& as : doc.signers) {
    std::string capacity;
    if (IsPersonField(def, as)) {
      const std::string* p = PersonIn(def, fields, as);
      if (!p || actor.id.empty()) continue;
      const ConsentSubject* m = minor(*p);
      if (*p == actor.id) {
        if (m) {
          minor_refusal = "minor: " + actor.id + " is under 18 on " + FormatDate(today) + ", so their guardian" +
                          (m->guardian.empty() ? std::string(" (none is registered yet)") : " " + m->guardian) +
                          " signs '" + doc.name + "' in their place";
          continue;
        }
        capacity = "self";
      } else if (m && m->guardian == actor.id) {
        capacity = "guardian of " + *p;
      } else {
        continue;
      }
    } else if (Fills(def, fields, as, actor)) {
      capacity = as;
    } else {
      continue;
    }
    fills_any = true;
    bool taken = std::any_of(existing.begin(), existing.end(), [&](const Signature& s) { return s.as == as; });
    if (taken) continue;
    r.as = as;
    r.capacity = capacity;
    return r;
  }
  std::string who = actor.id.empty() ? std::string("nobody") : actor.id;
  if (!fills_any && !minor_refusal.empty()) {
    r.status = Status(Code::kRefused, minor_refusal, "minor");
  } else if (!fills_any) {
    std::string list;
    for (const auto& s : doc.signers) list += (list.empty() ? "" : ", ") + s;
    r.status = Status(Code::kRefused, "role: " + who + " is not a signer of '" + doc.name + "' (its signers: " + list + ")",
                      "signer");
  } else {
    r.status = Status(Code::kRefused, "signed: '" + doc.name + "' already bears " + who + "'s signature", "signed");
  }
  return r;
}

bool FullySigned(const Definition& def, const DocumentDef& doc, const std::vector<Value>& fields,
                 const std::vector<Signature>& signatures) {
  for (const auto& as : doc.signers) {
    bool ok = std::any_of(signatures.begin(), signatures.end(), [&](const Signature& s) {
      if (s.as != as) return false;
      if (!IsPersonField(def, as)) return true;
      const std::string* p = PersonIn(def, fields, as);
      return p && (*p == s.person || s.capacity == "guardian of " + *p);  // the field may have changed since
    });
    if (!ok) return false;
  }
  return true;
}

bool IsMinor(const std::optional<Date>& birth, Date today) {
  return birth && AgeOn(*birth, today) < 18;
}

Status MayChangeConsent(const ConsentSubject& subject, const Actor& actor, bool given, Date today,
                        std::string* capacity) {
  const bool minor = IsMinor(subject.birth, today);
  const bool is_self = !actor.id.empty() && actor.id == subject.id;
  const bool is_guardian = !subject.guardian.empty() && actor.id == subject.guardian;
  const bool is_curator = actor.Holds("curator");
  if (given && !subject.birth)
    return Status(Code::kRefused,
                  "consent: the birth date of " + subject.id +
                      " is not recorded, so it is not known whether a guardian must sign; record it first"
                      " (person update " + subject.id + " --birth YYYY-MM-DD)",
                  "consent");
  if (given && minor && subject.guardian.empty())
    return Status(Code::kRefused,
                  "consent: " + subject.id + " is a minor with no guardian registered; add the guardian first", "consent");
  if (is_guardian) *capacity = "guardian";
  else if (is_self && (!given || !minor)) *capacity = "self";
  else if (is_curator) *capacity = "curator";
  else
    return Status(Code::kRefused,
                  "role: " + (actor.id.empty() ? std::string("nobody") : actor.id) + " may not " +
                      (given ? "sign" : "revoke") + " consent for " + subject.id +
                      (minor ? " (a minor: their guardian or a curator does)"
                             : " (only they, their guardian or a curator)"),
                  "role");
  return Status::Ok();
}

Status MayManagePeople(const Actor& actor) {
  if (actor.Holds("curator") || actor.Holds("director")) return Status::Ok();
  return Status(Code::kRefused,
                "role: " + (actor.id.empty() ? std::string("nobody") : actor.id) +
                    " may not register people or change them (a curator or the director does)",
                "role");
}

Status MayReadPersonalData(const Actor& actor, const std::vector<std::string>& allowed, std::string* capacity) {
  if (actor.Holds("director")) *capacity = "director";
  else if (actor.Holds("curator")) *capacity = "curator";
  else if (!actor.id.empty() && std::find(allowed.begin(), allowed.end(), actor.id) != allowed.end()) *capacity = "self";
  else
    return Status(Code::kRefused,
                  "role: " + (actor.id.empty() ? std::string("nobody") : actor.id) +
                      " may not read this personal data (the person, their guardian, a curator or the director may)",
                  "role");
  return Status::Ok();
}

Now FiringMoment(Date due, const std::string& zone) {
  Date day = due + date::days{1};
  auto t = ParseLocalTime(FormatDate(day), zone);
  return Now{*t, day, FormatDate(day) + "T00:00"};
}

bool MatchesWhere(const Definition& def, const std::vector<Value>& fields,
                  const std::vector<std::pair<std::string, std::string>>& where) {
  for (const auto& [field, value] : where) {
    int fi = def.FieldIndex(field);
    if (fi < 0 || !IsSet(fields[fi]) || ValueToString(fields[fi]) != value) return false;
  }
  return true;
}

}  // namespace mentorflow
