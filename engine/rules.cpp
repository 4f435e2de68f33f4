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
  for (const auto& [id, p] : people)
    if (p.consent_revoked) {
      r.status = Status(Code::kRefused,
                        "consent: " + id + " has revoked their consent, so processing is suspended: '" + doc.name +
                            "' is not signed until it is renewed",
                        "consent");
      return r;
    }
  auto subject = [&](const std::string& id) -> const ConsentSubject* {
    auto it = people.find(id);
    return it != people.end() ? &it->second : nullptr;
  };
  bool fills_any = false;
  std::string minor_refusal;
  std::vector<std::string> taken_by;  // who signed the places this actor fills
  auto in_place = [&](const std::string& as, auto&& pred) {
    bool any = false;
    for (const auto& s : existing)
      if (s.as == as && pred(s)) {
        any = true;
        if (std::find(taken_by.begin(), taken_by.end(), s.person) == taken_by.end()) taken_by.push_back(s.person);
      }
    return any;
  };
  for (const auto& as : doc.signers) {
    std::string capacity;
    bool taken = false;
    if (IsPersonField(def, as)) {
      const std::string* p = PersonIn(def, fields, as);
      if (!p || actor.id.empty()) continue;
      const ConsentSubject* m = subject(*p);
      const Capacity cap = m ? CapacityOn(m->birth, today) : Capacity::kFull;
      const std::string for_them = kGuardianOf + *p, with_them = kCosigningGuardianOf + *p;
      if (*p == actor.id) {
        if (cap == Capacity::kRepresented) {
          minor_refusal = "minor: " + actor.id + " is under 14 on " + FormatDate(today) + ", so their guardian" +
                          (m->guardian.empty() ? std::string(" (none is registered yet)") : " " + m->guardian) +
                          " signs '" + doc.name + "' in their place";
          continue;
        }
        capacity = cap == Capacity::kFull ? kSelf : kSelfWithConsent;
        // Their own signature, or their representative's in their place
        // while they were under 14, fills it; one given at 14 to 17 that
        // still lacks its co-signature is given again once they are of age.
        taken = in_place(as, [&](const Signature& s) {
          if (s.capacity == for_them) return true;
          if (s.person != *p) return false;
          if (s.capacity != kSelfWithConsent) return true;
          return cap == Capacity::kWithConsent ||
                 std::any_of(existing.begin(), existing.end(),
                             [&](const Signature& c) { return c.as == as && c.capacity == with_them; });
        });
      } else if (m && cap != Capacity::kFull && m->guardian == actor.id) {
        capacity = cap == Capacity::kRepresented ? for_them : with_them;
        taken = in_place(as, [&](const Signature& s) {
          return s.capacity == for_them || s.capacity == with_them || (s.person == *p && s.capacity == kSelf);
        });
      } else {
        continue;
      }
    } else if (Fills(def, fields, as, actor)) {
      capacity = as;
      taken = in_place(as, [](const Signature&) { return true; });
    } else {
      continue;
    }
    fills_any = true;
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
    // Every place this actor fills is signed: by whom, as stored.
    const bool own = taken_by.size() == 1 && taken_by[0] == actor.id;
    std::string by;
    for (const auto& p : taken_by) by += (by.empty() ? "" : ", ") + p;
    r.status = Status(Code::kRefused,
                      "signed: '" + doc.name + "' already bears " + (own ? who + "'s own" : by + "'s") + " signature" +
                          (own ? "" : ", in the place " + who + " would sign"),
                      "signed");
  }
  return r;
}

bool FullySigned(const Definition& def, const DocumentDef& doc, const std::vector<Value>& fields,
                 const std::vector<Signature>& signatures) {
  for (const auto& as : doc.signers) {
    auto any = [&](auto&& pred) {
      return std::any_of(signatures.begin(), signatures.end(), [&](const Signature& s) { return s.as == as && pred(s); });
    };
    if (!IsPersonField(def, as)) {
      if (!any([](const Signature&) { return true; })) return false;
      continue;
    }
    const std::string* p = PersonIn(def, fields, as);  // the field may have changed since
    if (!p) return false;
    const bool alone = any([&](const Signature& s) {
      return (s.person == *p && s.capacity != kSelfWithConsent) || s.capacity == kGuardianOf + *p;
    });
    const bool together = any([&](const Signature& s) { return s.person == *p && s.capacity == kSelfWithConsent; }) &&
                          any([&](const Signature& s) { return s.capacity == kCosigningGuardianOf + *p; });
    if (!alone && !together) return false;
  }
  return true;
}

bool IsMinor(const std::optional<Date>& birth, Date today) {
  return birth && AgeOn(*birth, today) < 18;
}

std::vector<std::string> SubjectActors(const ConsentSubject& subject, Date today) {
  const Capacity cap = CapacityOn(subject.birth, today);
  if (cap == Capacity::kFull) return {subject.id};
  std::vector<std::string> out;
  if (cap == Capacity::kWithConsent) out.push_back(subject.id);
  if (!subject.guardian.empty()) out.push_back(subject.guardian);
  return out;
}

Status MayChangeConsent(const ConsentSubject& subject, const Actor& actor, bool given, Date today,
                        std::string* capacity) {
  // The same age rule as for signatures, on the day of the act: under 14
  // the guardian acts; from 14 to 17 the teenager and the guardian each
  // sign (a consent needs both) and either may revoke; a guardian's power
  // ends at eighteen.
  const Capacity cap = CapacityOn(subject.birth, today);
  const bool minor = cap != Capacity::kFull;
  const bool is_self = !actor.id.empty() && actor.id == subject.id && cap != Capacity::kRepresented;
  const bool is_guardian = !subject.guardian.empty() && actor.id == subject.guardian && minor;
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
  else if (is_self) *capacity = "self";
  else if (is_curator) *capacity = "curator";
  else
    return Status(Code::kRefused,
                  "role: " + (actor.id.empty() ? std::string("nobody") : actor.id) + " may not " +
                      (given ? "sign" : "revoke") + " consent for " + subject.id +
                      (cap == Capacity::kRepresented ? " (a minor: their guardian or a curator does)"
                       : cap == Capacity::kWithConsent ? " (14 to 17: they and their guardian, or a curator)"
                       : actor.id == subject.guardian && !actor.id.empty()
                           ? " (they are of age: only they or a curator, no longer their guardian)"
                           : " (only they or a curator)"),
                  "role");
  return Status::Ok();
}

Status MayChangePerson(const Actor& actor, const std::string& target, const std::vector<std::string>& target_roles,
                       const std::vector<std::string>& add_roles, const std::vector<std::string>& remove_roles,
                       bool changes_data) {
  if (Status s = MayManagePeople(actor); !s.ok()) return s;
  auto refuse = [&](const std::string& why) { return Status(Code::kRefused, "role: " + actor.id + " " + why, "role"); };
  if (actor.id == target && (!add_roles.empty() || !remove_roles.empty()))
    return refuse("may not change their own roles (another curator or the director does)");
  if (actor.Holds("director")) return Status::Ok();
  for (const auto* roles : {&add_roles, &remove_roles})
    for (const auto& r : *roles)
      if (r == "director" || r == "curator")
        return refuse("may not " + std::string(roles == &add_roles ? "grant" : "remove") + " the " + r +
                      " role (only the director does)");
  const bool director = std::find(target_roles.begin(), target_roles.end(), "director") != target_roles.end();
  if (director && (changes_data || !add_roles.empty() || !remove_roles.empty()))
    return refuse("may not change " + target + ", a director (only a director does)");
  return Status::Ok();
}

Status MayBeGuardian(const std::string& ward, const ConsentSubject& guardian,
                     const std::vector<std::string>& guardian_roles, const std::vector<std::string>& guardian_chain,
                     Date today) {
  auto refuse = [](const std::string& why) { return Status(Code::kRefused, "guardian: " + why, "guardian"); };
  if (guardian.id == ward) return refuse("a person cannot be their own guardian");
  if (std::find(guardian_roles.begin(), guardian_roles.end(), "guardian") == guardian_roles.end())
    return refuse(guardian.id + " does not hold the guardian role (add it first: person update " + guardian.id +
                  " --add-role guardian)");
  if (IsMinor(guardian.birth, today)) return refuse(guardian.id + " is under 18 and cannot be a guardian");
  if (std::find(guardian_chain.begin(), guardian_chain.end(), ward) != guardian_chain.end())
    return refuse(ward + " is (through guardians) the guardian of " + guardian.id + ": the links would form a cycle");
  return Status::Ok();
}

std::vector<MissingParticular> MissingFromConsent(const std::string& operator_name,
                                                  const std::string& operator_address, const Particulars& subject,
                                                  const Particulars* representative, const std::string& authority) {
  std::vector<MissingParticular> out;
  if (operator_name.empty()) out.push_back({"", "operator_name"});
  if (operator_address.empty()) out.push_back({"", "operator_address"});
  for (const Particulars* p : {&subject, representative}) {
    if (!p) continue;
    if (p->address.empty()) out.push_back({p->id, "address"});
    if (!p->document.Complete()) out.push_back({p->id, "document"});
  }
  if (representative && authority.empty()) out.push_back({representative->id, "authority"});
  return out;
}

Status ConsentLacks(const std::string& subject, const std::vector<MissingParticular>& missing) {
  std::string list;
  for (const auto& m : missing) {
    std::string item;
    if (m.what == "operator_name") item = "the operator's name (settings institution NAME)";
    else if (m.what == "operator_address") item = "the operator's address (settings institution_address ADDRESS)";
    else if (m.what == "address") item = m.person + "'s address (person update " + m.person + " --address)";
    else if (m.what == "document")
      item = m.person + "'s identity document: its kind, number, date and issuer (person update " + m.person +
             " --document-kind --document-number --document-issued --document-issuer)";
    else if (m.what == "authority")
      item = "the document of " + m.person + "'s authority as " + subject + "'s representative (person update " +
             subject + " --authority)";
    list += (list.empty() ? "" : "; ") + item;
  }
  return Status(Code::kRefused,
                "consent: a consent signed here must state what 152-FZ art. 9 part 4 lists, and this is not recorded: " +
                    list + ". Record it, or record the signed paper form (--paper)",
                "particulars");
}

Status MayManagePeople(const Actor& actor) {
  if (actor.Holds("curator") || actor.Holds("director")) return Status::Ok();
  return Status(Code::kRefused,
                "role: " + (actor.id.empty() ? std::string("nobody") : actor.id) +
                    " may not register people or change them (a curator or the director does)",
                "role");
}

Status MayReadPersonalData(const Actor& actor, const std::vector<std::string>& allowed,
                           const std::vector<std::string>& about, const Status& unknown, std::string* capacity) {
  auto in = [&](const std::vector<std::string>& v) {
    return !actor.id.empty() && std::find(v.begin(), v.end(), actor.id) != v.end();
  };
  if (actor.Holds("director")) *capacity = "director";
  else if (actor.Holds("curator")) *capacity = "curator";
  else if (in(allowed)) *capacity = "self";
  else if (in(about))
    return Status(Code::kRefused,
                  "role: " + actor.id +
                      " may not read this personal data while a minor (their guardian, a curator or the director may)",
                  "role");
  else
    return unknown;
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
