// People, their roles and personal data, and consent (as rules.h decides).
#include <algorithm>

#include "engine/suggest.h"
#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

std::vector<std::string> SociStore::DeclaredRoles() {
  std::vector<std::pair<std::string, long long>> defs;
  {
    soci::rowset<soci::row> rs = (sql_->prepare << "SELECT DISTINCT name, version FROM " + AllDefinitions());
    for (const auto& r : rs) defs.push_back({r.get<std::string>(0), RowInt(r, 1)});
  }
  std::vector<std::string> roles;
  for (const auto& [name, version] : defs) {
    Status st;
    if (const Definition* d = DefinitionFor(name, static_cast<int>(version), &st))
      for (const auto& r : d->roles)
        if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  // A regional centre's staff: no workflow declares them, the centre does.
  int regional = 0;
  *sql_ << "SELECT COUNT(*) FROM regional_centres WHERE institution = " + I(), soci::into(regional);
  if (regional > 0) roles.push_back("regional");
  std::sort(roles.begin(), roles.end());
  return roles;
}

std::vector<AttributeDef> SociStore::DeclaredAttributes() {
  std::vector<std::string> names;
  {
    soci::rowset<std::string> rs = (sql_->prepare << "SELECT DISTINCT name FROM " + CurrentDefinitions() + " ORDER BY name");
    for (const auto& n : rs) names.push_back(n);
  }
  std::vector<AttributeDef> out;
  for (const auto& name : names) {
    Status st;
    if (const Definition* d = DefinitionFor(name, LatestVersion(name), &st))
      for (const auto& a : d->attributes)
        if (std::none_of(out.begin(), out.end(), [&](const AttributeDef& o) { return o.field.name == a.field.name; }))
          out.push_back(a);
  }
  return out;
}

const AttributeDef* SociStore::FindAttribute(const std::vector<AttributeDef>& declared, const std::string& option,
                                             const std::string& name, Status* error) {
  auto a = std::find_if(declared.begin(), declared.end(), [&](const AttributeDef& d) { return d.field.name == name; });
  if (a != declared.end()) return &*a;
  std::vector<std::string> names;
  std::string list;
  for (const auto& d : declared) {
    names.push_back(d.field.name);
    list += (list.empty() ? "" : ", ") + d.field.name;
  }
  const std::string near = Closest(name, names);
  *error = Status::BadInput(option + ": no attribute '" + EscapeControls(name) + "' is declared (attributes: " +
                           (list.empty() ? "none" : list) + ")" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
  return nullptr;
}

Status SociStore::WriteAttributes(const std::string& person,
                                  const std::vector<std::pair<std::string, std::string>>& attrs,
                                  std::vector<std::string>* changed) {
  if (attrs.empty()) return Status::Ok();
  const auto declared = DeclaredAttributes();
  for (const auto& [name, text] : attrs) {
    Status unknown;
    const AttributeDef* a = FindAttribute(declared, "--attr", name, &unknown);
    if (!a) return unknown;
    *sql_ << "DELETE FROM person_attributes WHERE institution = " + I() + " AND person = :p AND name = :n", soci::use(person), soci::use(name);
    if (text.empty()) {
      changed->push_back(name + " removed");
      continue;
    }
    if (Status s = CheckText("--attr " + name, text, kMaxNameBytes); !s.ok()) return s;
    std::string error;
    auto v = ParseValue(a->field, text, &error);
    if (!v) return Status::BadInput("--attr " + name + ": " + error);
    const std::string value = ValueToString(*v);
    *sql_ << "INSERT INTO person_attributes (institution, person, name, value) VALUES (" + I() + ", :p, :n, :v)", soci::use(person),
        soci::use(name), soci::use(value);
    // The history keeps an enum's value (a category, kept through erasure);
    // of any other only that it changed, as for a name or a birth date.
    changed->push_back(a->field.type == FieldType::kEnum ? name + "=" + value : name);
  }
  return Status::Ok();
}

namespace {

// Checks what a person record carries; messages never repeat a name, a birth
// date or an address.
Status CheckPersonData(const std::optional<std::string>& name, const std::optional<std::string>& birth,
                       const std::optional<std::string>& email) {
  if (name) {
    if (Status s = CheckText("--name", *name, kMaxNameBytes); !s.ok()) return s;
    if (name->find_first_not_of(' ') == std::string::npos) return Status::BadInput("--name is empty");
  }
  if (birth && !birth->empty() && !ParseDate(*birth))
    return Status::BadInput("--birth is not a date (YYYY-MM-DD, years 1900 to 2200)");
  if (email && !email->empty()) {
    if (Status s = CheckText("--email", *email, kMaxNameBytes); !s.ok()) return s;
    if (!IsEmailAddress(*email)) return Status::BadInput("--email is not an e-mail address");
  }
  return Status::Ok();
}

// The particulars a consent states (PersonUpdate's optional fields, or a new
// record's); a date of issue is a date not after today.
Status CheckParticulars(const std::vector<std::pair<const char*, const std::optional<std::string>*>>& fields,
                        Date today) {
  for (const auto& [option, value] : fields) {
    if (!*value || (*value)->empty()) continue;
    const std::string what = std::string("--") + option;
    const bool longer = what == "--address" || what == "--authority";
    if (Status s = CheckText(what, **value, longer ? 500 : kMaxNameBytes); !s.ok()) return s;
    if (what == "--document-issued") {
      auto d = ParseDate(**value);
      if (!d) return Status::BadInput("--document-issued is not a date (YYYY-MM-DD, years 1900 to 2200)");
      if (*d > today) return Status::BadInput("--document-issued is after today");
    }
  }
  return Status::Ok();
}

std::vector<std::pair<const char*, const std::optional<std::string>*>> ParticularFields(const PersonUpdate& u) {
  return {{"address", &u.address},
          {"document-kind", &u.document_kind},
          {"document-number", &u.document_number},
          {"document-issued", &u.document_issued},
          {"document-issuer", &u.document_issuer},
          {"authority", &u.authority}};
}

PersonUpdate ParticularsOf(const PersonRecord& p) {
  PersonUpdate u;
  u.address = p.address;
  u.document_kind = p.document.kind;
  u.document_number = p.document.number;
  u.document_issued = p.document.issued;
  u.document_issuer = p.document.issuer;
  u.authority = p.authority;
  return u;
}

}  // namespace

Status SociStore::CheckRoles(const std::vector<std::string>& roles) {
  const auto declared = DeclaredRoles();
  for (const auto& r : roles) {
    if (r == "system") return Status::BadInput("role 'system' is reserved: no person can hold it");
    if (Status s = CheckId("--role", r); !s.ok()) return s;
    if (std::find(declared.begin(), declared.end(), r) == declared.end()) {
      std::string list;
      for (const auto& d : declared) list += (list.empty() ? "" : ", ") + d;
      return Status::BadInput("role '" + r + "' is not declared by any registered workflow (roles: " + list + ")");
    }
  }
  return Status::Ok();
}

Status SociStore::InsertPerson(const PersonRecord& given, const std::string& actor_id, const std::string& capacity,
                               const Now& now) {
  ForgetLookups();
  PersonRecord p = given;
  if (Status s = CheckId("a person id", p.id); !s.ok()) return s;
  if (UpperCase(p.id) == "SYSTEM")  // in any case: 'System' would pass for it in a history
    return Status::BadInput("'" + p.id + "' is reserved (deadlines act as 'system'); choose another id");
  if (!p.guardian.empty())
    if (Status s = CheckId("--guardian", p.guardian); !s.ok()) return s;
  if (Status s = CheckPersonData(p.name, p.birth, p.email); !s.ok()) return s;
  const PersonUpdate particulars = ParticularsOf(p);
  if (Status s = CheckParticulars(ParticularFields(particulars), now.today); !s.ok()) return s;
  std::sort(p.roles.begin(), p.roles.end());  // a repeated --role is one role
  p.roles.erase(std::unique(p.roles.begin(), p.roles.end()), p.roles.end());
  if (p.roles.empty()) return Status::BadInput("a person needs at least one --role");
  if (Status s = CheckRoles(p.roles); !s.ok()) return s;
  int n = 0;
  *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(p.id);
  if (n > 0) return Status::Conflict("person '" + p.id + "' already exists");
  if (!p.guardian.empty()) {
    if (p.guardian == p.id) return Status::BadInput("a person cannot be their own guardian");
    *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(p.guardian);
    if (n == 0) return Status::NotFound("no person '" + p.guardian + "' (the guardian)");
  }
  std::string created = FormatInstant(now.instant);
  soci::indicator gi = p.guardian.empty() ? soci::i_null : soci::i_ok;
  *sql_ << "INSERT INTO people (institution, id, guardian, consent, created) VALUES (" + I() + ", :id, :g, 0, :c)", soci::use(p.id),
      soci::use(p.guardian, gi), soci::use(created);
  for (const auto& r : p.roles)
    *sql_ << "INSERT INTO person_roles (institution, person, role) VALUES (" + I() + ", :p, :r)", soci::use(p.id), soci::use(r);
  soci::indicator bi = p.birth.empty() ? soci::i_null : soci::i_ok;
  soci::indicator ei = p.email.empty() ? soci::i_null : soci::i_ok;
  *sql_ << "INSERT INTO person_data (institution, id, name, birth, email) VALUES (" + I() + ", :id, :n, :b, :e)", soci::use(p.id),
      soci::use(p.name), soci::use(p.birth, bi), soci::use(p.email, ei);
  WriteParticulars(p.id, particulars, nullptr);
  std::string roles;
  for (const auto& r : p.roles) roles += (roles.empty() ? "" : ",") + r;
  std::vector<std::string> attrs;
  if (Status s = WriteAttributes(p.id, p.attributes, &attrs); !s.ok()) return s;
  for (const auto& a : attrs) roles += "; " + a;
  return AppendPersonHistory(p.id, actor_id, capacity, "registered", "roles: " + roles, now);
}

Status SociStore::AddPerson(const PersonRecord& p, const std::string& actor_id, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    Tx tx(*this);
    // What is wrong with the input is said first (exit 1), then whether this actor may.
    if (Status s = CheckId("a person id", p.id); !s.ok()) return s;
    if (UpperCase(p.id) == "SYSTEM")
      return Status::BadInput("'" + p.id + "' is reserved (deadlines act as 'system'); choose another id");
    if (Status s = CheckRoles(p.roles); !s.ok()) return s;
    const Actor actor = LoadActor(actor_id);
    if (Status s = MayChangePerson(actor, p.id, {}, p.roles, {}, true); !s.ok()) return s;
    const std::string capacity = actor.Holds("director") ? "director" : "curator";
    if (Status s = InsertPerson(p, actor_id, capacity, now); !s.ok()) return s;
    if (Status s = CheckGuardianLinks(p.id, now.today); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::UpdatePerson(const PersonUpdate& u, const std::string& actor_id, const Now& now) {
  ForgetLookups();
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = CheckId("a person id", u.id); !s.ok()) return s;
    if (Status s = CheckPersonData(u.name, u.birth, u.email); !s.ok()) return s;
    if (u.guardian && !u.guardian->empty())
      if (Status s = CheckId("--guardian", *u.guardian); !s.ok()) return s;
    if (Status s = CheckRoles(u.add_roles); !s.ok()) return s;
    if (Status s = CheckParticulars(ParticularFields(u), now.today); !s.ok()) return s;
    Tx tx(*this);
    const Actor actor = LoadActor(actor_id);
    // What a consent states of a person, the person themself or whoever
    // acts for them records (the data is theirs: art. 14 lets them have it
    // corrected); anything else, a curator or the director.
    std::string capacity = actor.Holds("director") ? "director" : "curator";
    ConsentSubject subject;
    const bool exists = LoadSubject(u.id, &subject);
    const auto acting = SubjectActors(subject, now.today);
    const bool own = exists && u.OnlyParticulars() && !actor.Holds("director") && !actor.Holds("curator") &&
                     std::find(acting.begin(), acting.end(), actor_id) != acting.end();
    if (own) {
      capacity = actor_id == u.id ? "self" : "guardian";
    } else {
      if (Status s = MayManagePeople(actor); !s.ok()) return s;
      if (!exists) return Status::NotFound("no person '" + u.id + "'");
      const auto particulars = ParticularFields(u);
      const bool changes_data = u.name || u.birth || u.email || u.guardian || !u.attributes.empty() ||
                                std::any_of(particulars.begin(), particulars.end(),
                                            [](const auto& f) { return f.second->has_value(); });
      if (Status s = MayChangePerson(actor, u.id, LoadActor(u.id).roles, u.add_roles, u.remove_roles, changes_data);
          !s.ok())
        return s;
    }
    int n = 0;
    std::vector<std::string> changed;
    if (u.guardian) {
      if (*u.guardian == u.id) return Status::BadInput("a person cannot be their own guardian");
      if (!u.guardian->empty()) {
        *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(*u.guardian);
        if (n == 0) return Status::NotFound("no person '" + *u.guardian + "' (the guardian)");
      }
      soci::indicator gi = u.guardian->empty() ? soci::i_null : soci::i_ok;
      *sql_ << "UPDATE people SET guardian = :g WHERE institution = " + I() + " AND id = :id", soci::use(*u.guardian, gi), soci::use(u.id);
      changed.push_back("guardian");
    }
    auto set_data = [&](const char* column, const std::optional<std::string>& v) {
      if (!v) return;
      soci::indicator ind = v->empty() && std::string(column) != "name" ? soci::i_null : soci::i_ok;
      *sql_ << std::string("UPDATE person_data SET ") + column + " = :v WHERE institution = " + I() + " AND id = :id",
          soci::use(*v, ind),
          soci::use(u.id);
      changed.push_back(column);
    };
    set_data("name", u.name);
    set_data("birth", u.birth);
    if (u.birth) RefreshMenteeBorn(u.id);
    set_data("email", u.email);
    WriteParticulars(u.id, u, &changed);
    for (const auto& r : u.add_roles) {
      *sql_ << "SELECT COUNT(*) FROM person_roles WHERE institution = " + I() + " AND person = :p AND role = :r", soci::into(n), soci::use(u.id),
          soci::use(r);
      if (n == 0) *sql_ << "INSERT INTO person_roles (institution, person, role) VALUES (" + I() + ", :p, :r)", soci::use(u.id), soci::use(r);
      changed.push_back("+" + r);
    }
    for (const auto& r : u.remove_roles) {
      *sql_ << "DELETE FROM person_roles WHERE institution = " + I() + " AND person = :p AND role = :r", soci::use(u.id), soci::use(r);
      changed.push_back("-" + r);
    }
    // A removed role ends every session of the person: none goes on with rights it no longer has.
    if (!u.remove_roles.empty()) *sql_ << "DELETE FROM sessions WHERE institution = " + I() + " AND person = :p", soci::use(u.id);
    *sql_ << "SELECT COUNT(*) FROM person_roles WHERE institution = " + I() + " AND person = :p", soci::into(n), soci::use(u.id);
    if (n == 0) return Status::BadInput("a person keeps at least one role");
    // The links as they now stand: a guardian still an adult holding the role, no cycle.
    if (Status s = CheckGuardianLinks(u.id, now.today); !s.ok()) return s;
    if (Status s = WriteAttributes(u.id, u.attributes, &changed); !s.ok()) return s;
    if (changed.empty())
      return Status::BadInput(
          "nothing to change: give --name, --birth, --email, --guardian, --add-role, --remove-role, --attr, --address,"
          " --document-kind, --document-number, --document-issued, --document-issuer or --authority");
    std::string note;
    for (const auto& c : changed) note += (note.empty() ? "" : ",") + c;
    if (Status s = AppendPersonHistory(u.id, actor_id, capacity, "updated", note, now);
        !s.ok())
      return s;
    tx.Commit();
    return Status::Ok();
  });
}

void SociStore::WriteParticulars(const std::string& person_id, const PersonUpdate& u,
                                 std::vector<std::string>* changed) {
  ForgetLookups();
  const std::pair<const char*, const std::optional<std::string>*> columns[] = {
      {"address", &u.address},
      {"document_kind", &u.document_kind},
      {"document_number", &u.document_number},
      {"document_issued", &u.document_issued},
      {"document_issuer", &u.document_issuer},
      {"authority", &u.authority}};
  for (const auto& [column, value] : columns) {
    if (!*value || (!changed && (*value)->empty())) continue;
    soci::indicator ind = (*value)->empty() ? soci::i_null : soci::i_ok;
    *sql_ << std::string("UPDATE person_data SET ") + column + " = :v WHERE institution = " + I() + " AND id = :id",
        soci::use(**value, ind),
        soci::use(person_id);
    if (changed) changed->push_back(column);  // which, never the value: a history names no data
  }
}

Particulars SociStore::LoadParticulars(const std::string& person_id) {
  Particulars p;
  p.id = person_id;
  std::string v[5];
  soci::indicator ind[5] = {soci::i_null, soci::i_null, soci::i_null, soci::i_null, soci::i_null};
  *sql_ << "SELECT address, document_kind, document_number, document_issued, document_issuer FROM person_data WHERE institution = " + I() +
           " AND id = :id",
      soci::into(v[0], ind[0]), soci::into(v[1], ind[1]), soci::into(v[2], ind[2]), soci::into(v[3], ind[3]),
      soci::into(v[4], ind[4]), soci::use(person_id);
  auto at = [&](int i) { return ind[i] == soci::i_ok ? v[i] : std::string(); };
  p.address = at(0);
  p.document = {at(1), at(2), at(3), at(4)};
  return p;
}

std::vector<MissingParticular> SociStore::MissingParticulars(const ConsentSubject& subject, Date today) {
  const Particulars self = LoadParticulars(subject.id);
  const bool minor = IsMinor(subject.birth, today) && !subject.guardian.empty();
  std::string authority;
  Particulars rep;
  if (minor) {
    rep = LoadParticulars(subject.guardian);
    soci::indicator ai = soci::i_null;
    *sql_ << "SELECT authority FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(authority, ai), soci::use(subject.id);
    if (ai != soci::i_ok) authority.clear();
  }
  return MissingFromConsent(Setting("institution"), Setting("institution_address"), self, minor ? &rep : nullptr,
                            authority);
}

Status SociStore::ConsentMissing(const std::string& person_id, const Now& now, std::vector<MissingParticular>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    ConsentSubject subject;
    if (!LoadSubject(person_id, &subject)) return Status::NotFound("no person '" + person_id + "'");
    *out = MissingParticulars(subject, now.today);
    return Status::Ok();
  });
}

Status SociStore::CheckGuardianLinks(const std::string& person, Date today) {
  auto check = [&](const std::string& ward, const std::string& guardian) -> Status {
    ConsentSubject g;
    if (!LoadSubject(guardian, &g)) return Status::NotFound("no person '" + guardian + "' (the guardian)");
    std::vector<std::string> chain;
    for (std::string up = g.guardian; !up.empty() && chain.size() < 64;) {
      if (std::find(chain.begin(), chain.end(), up) != chain.end()) break;
      chain.push_back(up);
      std::string next;
      soci::indicator ni = soci::i_null;
      *sql_ << "SELECT guardian FROM people WHERE institution = " + I() + " AND id = :id", soci::into(next, ni), soci::use(up);
      up = ni == soci::i_ok ? next : std::string();
    }
    return MayBeGuardian(ward, g, LoadActor(guardian).roles, chain, today);
  };
  std::string guardian;
  soci::indicator gi = soci::i_null;
  *sql_ << "SELECT guardian FROM people WHERE institution = " + I() + " AND id = :id", soci::into(guardian, gi), soci::use(person);
  if (gi == soci::i_ok && !guardian.empty())
    if (Status s = check(person, guardian); !s.ok()) return s;
  std::vector<std::string> wards;
  soci::rowset<std::string> rs = (sql_->prepare << "SELECT id FROM people WHERE institution = " + I() + " AND guardian = :g ORDER BY id", soci::use(person));
  for (const auto& w : rs) wards.push_back(w);
  for (const auto& w : wards)
    if (Status s = check(w, person); !s.ok()) return s;
  return Status::Ok();
}

bool SociStore::LoadSubject(const std::string& person_id, ConsentSubject* out) {
  std::string guardian, birth;
  soci::indicator gi = soci::i_null, bi = soci::i_null;
  int found = 0;
  *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(found), soci::use(person_id);
  if (found == 0) return false;
  *sql_ << "SELECT p.guardian, d.birth FROM people p LEFT JOIN person_data d ON d.institution = p.institution"
           " AND d.id = p.id WHERE p.institution = " + I() + " AND p.id = :id",
      soci::into(guardian, gi), soci::into(birth, bi), soci::use(person_id);
  *out = ConsentSubject{person_id, bi == soci::i_ok ? ParseDate(birth) : std::nullopt,
                        gi == soci::i_ok ? guardian : std::string()};
  return true;
}

Status SociStore::AppendPersonHistory(const std::string& person, const std::string& actor, const std::string& role,
                                      const std::string& event, const std::string& note, const Now& now) {
  long long seq = 0;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT MAX(seq) FROM person_history WHERE institution = " + I() + " AND person = :p", soci::into(seq, ind), soci::use(person);
  long long next = (ind == soci::i_ok ? seq : 0) + 1;
  std::string at = FormatInstant(now.instant);
  soci::indicator ni = note.empty() ? soci::i_null : soci::i_ok;
  *sql_ << "INSERT INTO person_history (institution, person, seq, at, actor, role, event, note) VALUES (" + I() + ", :p, :s, :a, :ac, :r, :e, :n)",
      soci::use(person), soci::use(next), soci::use(at), soci::use(actor), soci::use(role), soci::use(event),
      soci::use(note, ni);
  return Status::Ok();
}

Status SociStore::PersonHistory(const std::string& person_id, std::vector<HistoryRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(person_id);
    if (n == 0) return Status::NotFound("no person '" + person_id + "'");
    soci::rowset<soci::row> rs = (sql_->prepare << "SELECT seq, at, actor, role, event, note FROM person_history WHERE institution = " + I() +
                                                   " AND person = :p ORDER BY seq",
                                  soci::use(person_id));
    for (const auto& r : rs) {
      HistoryRecord h;
      h.seq = static_cast<long>(RowInt(r, 0));
      h.at = r.get<std::string>(1);
      h.actor = r.get<std::string>(2);
      h.role = r.get<std::string>(3);
      h.event = r.get<std::string>(4);
      h.note = RowText(r, 5);
      out->push_back(std::move(h));
    }
    return Status::Ok();
  });
}

Status SociStore::ReadPerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                             PersonRecord* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    Tx tx(*this);
    std::string guardian, name, birth, email;
    soci::indicator gi = soci::i_null, ni = soci::i_null, bi = soci::i_null, ei = soci::i_null;
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(person_id);
    if (n == 0) return Status::NotFound("no person '" + person_id + "'");
    *sql_ << "SELECT p.guardian, d.name, d.birth, d.email FROM people p LEFT JOIN person_data d"
             " ON d.institution = p.institution AND d.id = p.id WHERE p.institution = " + I() + " AND p.id = :id",
        soci::into(guardian, gi), soci::into(name, ni), soci::into(birth, bi), soci::into(email, ei),
        soci::use(person_id);
    ConsentSubject subject{person_id, bi == soci::i_ok ? ParseDate(birth) : std::nullopt,
                           gi == soci::i_ok ? guardian : std::string()};
    const std::vector<std::string> allowed = SubjectActors(subject, now.today);
    std::string capacity;
    if (Status s = MayReadPersonalData(LoadActor(actor_id), allowed, {person_id},
                                       Status::NotFound("no person '" + person_id + "'"), &capacity);
        !s.ok())
      return s;
    out->id = person_id;
    out->name = ni == soci::i_ok ? name : "";
    out->birth = bi == soci::i_ok ? birth : "";
    out->email = ei == soci::i_ok ? email : "";
    out->guardian = gi == soci::i_ok ? guardian : "";
    const Particulars particulars = LoadParticulars(person_id);
    out->address = particulars.address;
    out->document = particulars.document;
    {
      std::string authority;
      soci::indicator ai = soci::i_null;
      *sql_ << "SELECT authority FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(authority, ai), soci::use(person_id);
      out->authority = ai == soci::i_ok ? authority : "";
    }
    out->roles.clear();
    soci::rowset<std::string> roles =
        (sql_->prepare << "SELECT role FROM person_roles WHERE institution = " + I() + " AND person = :p ORDER BY role", soci::use(person_id));
    for (const auto& r : roles) out->roles.push_back(r);
    out->attributes.clear();
    soci::rowset<soci::row> attrs =
        (sql_->prepare << "SELECT name, value FROM person_attributes WHERE institution = " + I() + " AND person = :p ORDER BY name", soci::use(person_id));
    for (const auto& a : attrs) out->attributes.push_back({a.get<std::string>(0), a.get<std::string>(1)});
    if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "read", "person show", now); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::ExportPerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                               std::string* json_text) {
  PersonRecord p;
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("a person id", person_id); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    Tx tx(*this);
    std::string guardian, name, birth, email, created;
    soci::indicator gi = soci::i_null, ni = soci::i_null, bi = soci::i_null, ei = soci::i_null;
    int consent = 0, n = 0;
    *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n), soci::use(person_id);
    if (n == 0) return Status::NotFound("no person '" + person_id + "'");
    *sql_ << "SELECT p.guardian, p.consent, p.created, d.name, d.birth, d.email FROM people p"
             " LEFT JOIN person_data d ON d.institution = p.institution AND d.id = p.id WHERE p.institution = " + I() +
                 " AND p.id = :id",
        soci::into(guardian, gi), soci::into(consent), soci::into(created), soci::into(name, ni), soci::into(birth, bi),
        soci::into(email, ei), soci::use(person_id);
    ConsentSubject subject{person_id, bi == soci::i_ok ? ParseDate(birth) : std::nullopt,
                           gi == soci::i_ok ? guardian : std::string()};
    const std::vector<std::string> allowed = SubjectActors(subject, now.today);
    std::string capacity;
    if (Status s = MayReadPersonalData(LoadActor(actor_id), allowed, {person_id},
                                       Status::NotFound("no person '" + person_id + "'"), &capacity);
        !s.ok())
      return s;
    auto text_or_null = [](soci::indicator ind, const std::string& v) { return ind == soci::i_ok ? json(v) : json(); };
    json roles = json::array();
    {
      soci::rowset<std::string> rs =
          (sql_->prepare << "SELECT role FROM person_roles WHERE institution = " + I() + " AND person = :p ORDER BY role", soci::use(person_id));
      for (const auto& r : rs) roles.push_back(r);
    }
    json wards = json::array();
    {
      soci::rowset<std::string> rs =
          (sql_->prepare << "SELECT id FROM people WHERE institution = " + I() + " AND guardian = :p ORDER BY id", soci::use(person_id));
      for (const auto& r : rs) wards.push_back(r);
    }
    json person_history = json::array();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT seq, at, actor, role, event, note FROM person_history WHERE institution = " + I() +
                                                     " AND person = :p ORDER BY seq",
                                    soci::use(person_id));
      for (const auto& r : rs)
        person_history.push_back({{"seq", RowInt(r, 0)}, {"at", r.get<std::string>(1)}, {"actor", r.get<std::string>(2)},
                                  {"role", r.get<std::string>(3)}, {"event", r.get<std::string>(4)},
                                  {"note", RowText(r, 5).empty() ? json() : json(RowText(r, 5))}});
    }
    // Instances that name the person in a person field: a text prefilter,
    // then each instance's definition says which fields hold people.
    json instances = json::array();
    std::vector<std::string> named_in;
    {
      const std::string like = "%\"" + person_id + "\"%";
      std::vector<InstanceRecord> candidates;
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT id, workflow, workflow_version, state, fields, parent, version, created, updated"
                            " FROM instances WHERE institution = " + I() + " AND fields LIKE :l ORDER BY created, id",
           soci::use(like));
      for (const auto& r : rs)
        candidates.push_back(InstanceRecord{r.get<std::string>(0), r.get<std::string>(1), static_cast<int>(RowInt(r, 2)),
                                            r.get<std::string>(3), r.get<std::string>(4), RowText(r, 5),
                                            static_cast<long>(RowInt(r, 6)), r.get<std::string>(7),
                                            r.get<std::string>(8)});
      for (const auto& rec : candidates) {
        Status st;
        const Definition* def = DefinitionFor(rec.workflow, rec.workflow_version, &st);
        if (!def) continue;
        const auto fields = SnapshotOf(*def, rec).fields;
        json as = json::array();
        for (size_t i = 0; i < def->fields.size(); ++i)
          if (def->fields[i].type == FieldType::kPerson && IsSet(fields[i]) &&
              std::get<std::string>(fields[i]) == person_id)
            as.push_back(def->fields[i].name);
        if (as.empty()) continue;
        named_in.push_back(rec.id);
        instances.push_back({{"id", rec.id}, {"workflow", rec.workflow}, {"version", rec.workflow_version},
                             {"state", rec.state}, {"named_as", as}, {"fields", json::parse(rec.fields_json)},
                             {"created", rec.created}, {"updated", rec.updated}, {"history", json::array()}});
      }
    }
    // The history of those instances, and what the person did elsewhere.
    json elsewhere = json::array();
    {
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT instance, seq, at, actor, role, event, from_state, to_state, changes, note"
                            " FROM history WHERE institution = " + I() + " AND (actor = :p OR instance IN"
                            " (SELECT id FROM instances WHERE institution = " + I() + " AND fields LIKE :l))"
                            " ORDER BY instance, seq",
           soci::use(person_id), soci::use("%\"" + person_id + "\"%"));
      for (const auto& r : rs) {
        const std::string instance = r.get<std::string>(0);
        json h = {{"seq", RowInt(r, 1)}, {"at", r.get<std::string>(2)}, {"actor", r.get<std::string>(3)},
                  {"role", r.get<std::string>(4)}, {"event", r.get<std::string>(5)},
                  {"from", RowText(r, 6).empty() ? json() : json(RowText(r, 6))}, {"to", r.get<std::string>(7)},
                  {"changes", json::parse(r.get<std::string>(8), nullptr, false)},
                  {"note", RowText(r, 9).empty() ? json() : json(RowText(r, 9))}};
        bool placed = false;
        for (auto& i : instances)
          if (i["id"] == instance) {
            i["history"].push_back(h);
            placed = true;
          }
        if (!placed && h["actor"] == person_id) {
          h["instance"] = instance;
          elsewhere.push_back(std::move(h));
        }
      }
    }
    json signed_docs = json::array();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT instance, name, issue, status, signatures FROM documents WHERE institution = " + I() +
                                                     " AND signatures LIKE :l ORDER BY instance, name, issue",
                                    soci::use("%" + person_id + "\"%"));
      for (const auto& r : rs)
        for (const auto& sig : ParseSignatures(r.get<std::string>(4)))
          if (sig.person == person_id || sig.capacity == "guardian of " + person_id)
            signed_docs.push_back({{"id", r.get<std::string>(0) + ":" + r.get<std::string>(1) + ":" +
                                              std::to_string(RowInt(r, 2))},
                                   {"status", r.get<std::string>(3)},
                                   {"by", sig.person},
                                   {"as", sig.as},
                                   {"capacity", sig.capacity},
                                   {"signed_at", sig.at}});
    }
    json consents = json::array();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT issue, issued_at, status, signatures, paper_date,"
                                                     " revoked_at, revoked_by, purpose FROM consents WHERE institution = " +
                                                     I() + " AND person = :p"
                                                     " ORDER BY issue",
                                    soci::use(person_id));
      for (const auto& r : rs) {
        json c = {{"id", "consent:" + person_id + ":" + std::to_string(RowInt(r, 0))},
                  {"purpose", r.get<std::string>(7)},
                  {"issued", r.get<std::string>(1)},
                  {"status", r.get<std::string>(2)},
                  {"paper_date", RowText(r, 4).empty() ? json() : json(RowText(r, 4))},
                  {"revoked_at", RowText(r, 5).empty() ? json() : json(RowText(r, 5))},
                  {"revoked_by", RowText(r, 6).empty() ? json() : json(RowText(r, 6))}};
        for (const auto& sig : ParseSignatures(r.get<std::string>(3))) {
          c["signed_by"] = sig.person;
          c["capacity"] = sig.capacity;
          c["signed_at"] = sig.at;
        }
        consents.push_back(std::move(c));
      }
    }
    json reminders = json::array();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT id, send_on, instance, kind, subject, status FROM reminders WHERE institution = " + I() +
                                                     " AND recipient = :p ORDER BY send_on, id",
                                    soci::use(person_id));
      for (const auto& r : rs)
        reminders.push_back({{"id", RowInt(r, 0)}, {"on", r.get<std::string>(1)}, {"instance", r.get<std::string>(2)},
                             {"kind", r.get<std::string>(3)}, {"subject", r.get<std::string>(4)},
                             {"status", r.get<std::string>(5)}});
    }
    json attributes = json::object();
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT name, value FROM person_attributes WHERE institution = " + I() + " AND person = :p"
                                                     " ORDER BY name",
                                    soci::use(person_id));
      for (const auto& r : rs) attributes[r.get<std::string>(0)] = r.get<std::string>(1);
    }
    if (Status s = AppendPersonHistory(person_id, actor_id, capacity, "read", "person export", now); !s.ok()) return s;
    const Particulars particulars = LoadParticulars(person_id);
    std::string authority;
    soci::indicator ai = soci::i_null;
    *sql_ << "SELECT authority FROM person_data WHERE institution = " + I() + " AND id = :id", soci::into(authority, ai), soci::use(person_id);
    auto or_null = [](const std::string& v) { return v.empty() ? json() : json(v); };
    const json out = {{"person",
                       {{"id", person_id},
                        {"name", text_or_null(ni, name)},
                        {"birth", text_or_null(bi, birth)},
                        {"email", text_or_null(ei, email)},
                        {"guardian", text_or_null(gi, guardian)},
                        {"address", or_null(particulars.address)},
                        {"document",
                         {{"kind", or_null(particulars.document.kind)},
                          {"number", or_null(particulars.document.number)},
                          {"issued", or_null(particulars.document.issued)},
                          {"issuer", or_null(particulars.document.issuer)}}},
                        {"authority", text_or_null(ai, authority)},
                        {"roles", roles},
                        {"attributes", attributes},
                        {"consent", consent != 0},
                        {"registered", created}}},
                      {"guardian_of", wards},
                      {"person_history", person_history},
                      {"instances", instances},
                      {"history_elsewhere", elsewhere},
                      {"consents", consents},
                      {"documents_signed", signed_docs},
                      {"reminders", reminders},
                      {"exported", {{"at", FormatInstant(now.instant)}, {"by", actor_id}}}};
    tx.Commit();
    *json_text = out.dump(2, ' ', false, json::error_handler_t::replace);
    return Status::Ok();
  });
}

std::string SociStore::PersonName(const std::string& id) {
  if (lookups_)
    if (auto it = lookups_->name.find(id); it != lookups_->name.end()) return it->second;
  auto& q = q_.Get(q_.select_person_name);
  q.person = id;
  q.name_ind = soci::i_null;
  std::string name = !q.Run() || q.name_ind != soci::i_ok ? id : q.name;
  if (lookups_) lookups_->name.emplace(id, name);
  return name;
}

std::pair<std::optional<Date>, std::string> SociStore::BirthAndGuardian(std::string_view id) {
  if (lookups_)
    if (auto it = lookups_->birth_guardian.find(id); it != lookups_->birth_guardian.end()) return it->second;
  auto& q = q_.Get(q_.select_birth_guardian);
  q.person = id;
  q.birth_ind = q.guardian_ind = soci::i_null;
  std::pair<std::optional<Date>, std::string> out;
  if (q.Run()) {
    if (q.birth_ind == soci::i_ok) out.first = ParseDate(q.birth);
    if (q.guardian_ind == soci::i_ok) out.second = q.guardian;
  }
  if (lookups_) lookups_->birth_guardian.emplace(std::string(id), out);
  return out;
}

Actor SociStore::LoadActor(const std::string& id) {
  if (id == "system") return Actor::System();  // reserved: no person holds it
  Actor a{id, {}};
  auto& q = q_.Get(q_.select_roles);
  q.person = id;
  q.ForEach([&] { a.roles.push_back(q.role); });
  return a;
}

// ---- the world as the database sees it ----------------------------------------

bool SociStore::DbWorld::HasConsent(std::string_view id, std::string_view purpose) const {
  if (purpose != kDefaultPurpose) return s_.ConsentInForce(std::string(id), std::string(purpose));
  auto& q = s_.q_.Get(s_.q_.select_consent);
  q.person = id;
  return q.Run() && q.consent != 0;
}

bool SociStore::DbWorld::PersonHasRole(std::string_view id, std::string_view role) const {
  if (role == "any") {  // a person field with `role: any`: registered is enough
    int n = 0;
    std::string pid(id);
    *s_.sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + s_.I() + " AND id = :id", soci::into(n), soci::use(pid);
    return n > 0;
  }
  auto& q = s_.q_.Get(s_.q_.select_has_role);
  q.person = id;
  q.role = role;
  q.Run();
  return q.n > 0;
}

std::vector<std::string> SociStore::DbWorld::PeopleWithRole(std::string_view role) const {
  if (s_.lookups_)
    if (auto it = s_.lookups_->by_role.find(role); it != s_.lookups_->by_role.end()) return it->second;
  std::vector<std::string> out;
  auto& q = s_.q_.Get(s_.q_.select_people_with_role);
  q.role = role;
  q.ForEach([&] { out.push_back(q.person); });
  if (s_.lookups_) s_.lookups_->by_role.emplace(std::string(role), out);
  return out;
}

World::ChildCount SociStore::DbWorld::CountChildren(std::string_view parent, std::string_view workflow,
                                                    const std::vector<std::string>& states) const {
  ChildCount c;
  std::string p(parent), w(workflow);
  soci::rowset<std::string> rs = (s_.sql_->prepare << "SELECT state FROM instances WHERE institution = " + s_.I() + " AND parent = :p AND workflow = :w",
                                  soci::use(p), soci::use(w));
  for (const auto& st : rs) {
    ++c.total;
    if (std::find(states.begin(), states.end(), st) != states.end()) ++c.in_states;
  }
  return c;
}

std::int64_t SociStore::DbWorld::CountInstances(const Condition& c) const {
  // A count guards a quota: on PostgreSQL, whoever counts W waits for any
  // other transaction that counted W to end, so that two cannot both see the
  // last place free (SQLite's writers are serialised by BEGIN IMMEDIATE).
  if (!s_.sqlite_) {
    long long key = static_cast<long long>(Fnv1a64(s_.institution_ + ":count:" + c.workflow) >> 1);
    *s_.sql_ << "SELECT pg_advisory_xact_lock(:k)", soci::use(key);
  }
  std::vector<std::tuple<std::string, long long, std::string>> rows;
  {
    soci::rowset<soci::row> rs = (s_.sql_->prepare << "SELECT state, workflow_version, fields FROM instances WHERE institution = " + s_.I() +
                                                      " AND workflow = :w",
                                  soci::use(c.workflow));
    for (const auto& row : rs) rows.emplace_back(row.get<std::string>(0), RowInt(row, 1), row.get<std::string>(2));
  }
  std::int64_t n = 0;
  for (const auto& [state, version, fields] : rows) {
    if (!c.states.empty() && std::find(c.states.begin(), c.states.end(), state) == c.states.end()) continue;
    Status st;
    const Definition* def = s_.DefinitionFor(c.workflow, static_cast<int>(version), &st);
    if (def && MatchesWhere(*def, FieldsFromJson(*def, fields), c.where)) ++n;
  }
  return n;
}

const DataTable* SociStore::DbWorld::Table(std::string_view name) const {
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    std::string key(name), source;
    soci::indicator ind = soci::i_null;
    *s_.sql_ << "SELECT source FROM data_tables WHERE institution = " + s_.I() + " AND name = :n ORDER BY version DESC LIMIT 1", soci::into(source, ind),
        soci::use(key);
    std::optional<DataTable> t;
    if (ind == soci::i_ok) {
      std::vector<TableProblem> problems;
      t = ParseTable(key, source, &problems);
      if (!t) throw StoredStateError("the stored table '" + key + "' does not parse: " + problems[0].message);
    }
    it = tables_.emplace(key, std::move(t)).first;
  }
  return it->second ? &*it->second : nullptr;
}

std::string SociStore::DbWorld::GuardianOf(std::string_view id) const { return s_.BirthAndGuardian(id).second; }

std::optional<Date> SociStore::DbWorld::BirthOf(std::string_view id) const { return s_.BirthAndGuardian(id).first; }

std::optional<World::ParentView> SociStore::DbWorld::Parent(std::string_view id) const {
  std::string key(id), workflow, state, fields;
  long long version = 0;
  soci::indicator found = soci::i_null;
  *s_.sql_ << "SELECT workflow, workflow_version, state, fields FROM instances WHERE institution = " + s_.I() +
                  " AND id = :id", soci::into(workflow, found),
      soci::into(version), soci::into(state), soci::into(fields), soci::use(key);
  if (found != soci::i_ok) return std::nullopt;
  Status st;
  const Definition* def = s_.DefinitionFor(workflow, static_cast<int>(version), &st);
  if (!def) return std::nullopt;
  ParentView v;
  v.state = state;
  int si = def->StateIndex(state);
  v.finished = si < 0 || def->states[si].final;
  auto values = FieldsFromJson(*def, fields);
  for (size_t i = 0; i < def->fields.size() && i < values.size(); ++i) {
    if (def->fields[i].type == FieldType::kPerson)
      if (auto* p = std::get_if<std::string>(&values[i]); p && !p->empty()) v.people.emplace_back(def->fields[i].role, *p);
    if (IsSet(values[i]) && def->fields[i].type != FieldType::kList)
      v.fields.emplace_back(def->fields[i].name, ValueToString(values[i]));
  }
  return v;
}

Status SociStore::People(const PeopleFilter& filter, std::vector<PersonSummary>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    out->clear();
    const std::string& query = filter.query;
    if (!query.empty())
      if (Status s = CheckText("a search", query, 200, false); !s.ok()) return s;
    // The filter by substring is done here, not in SQL: LIKE's case rules
    // differ between the backends, and the ids and names are few.
    std::string sql =
        "SELECT p.id, d.name, d.birth, p.guardian, d.email, p.consent,"
        " (SELECT COUNT(*) FROM accounts a WHERE a.institution = p.institution AND a.person = p.id) FROM people p"
        " LEFT JOIN person_data d ON d.institution = p.institution AND d.id = p.id";
    std::string role = filter.role.empty() ? "%" : filter.role, of = filter.of;
    // Empty filters match every row: "%" for the role, "" for the person.
    sql += " WHERE p.institution = " + I() + " AND (:r = '%' OR p.id IN (SELECT person FROM person_roles WHERE"
           " institution = " + I() + " AND role = :r2))"
           " AND (:o = '' OR p.id = :o2 OR p.guardian = :o3) ORDER BY d.name, p.id";
    soci::rowset<soci::row> rows = (sql_->prepare << sql, soci::use(role, "r"), soci::use(role, "r2"),
                                    soci::use(of, "o"), soci::use(of, "o2"), soci::use(of, "o3"));
    const int limit = filter.limit;
    auto text = [](const soci::row& row, int i) {
      return row.get_indicator(i) == soci::i_ok ? row.get<std::string>(i) : std::string();
    };
    for (const auto& row : rows) {
      PersonSummary p{text(row, 0), text(row, 1), text(row, 2), text(row, 3), text(row, 4), {},
                      RowInt(row, 5) != 0, RowInt(row, 6) > 0};
      if (!query.empty() && p.id.find(query) == std::string::npos && p.name.find(query) == std::string::npos) continue;
      out->push_back(std::move(p));
      if (limit > 0 && static_cast<int>(out->size()) >= limit) break;
    }
    std::string person, held;
    soci::statement roles = (sql_->prepare << "SELECT role FROM person_roles WHERE institution = " + I() + " AND person = :p ORDER BY role",
                             soci::into(held), soci::use(person));
    for (auto& p : *out) {
      person = p.id;
      roles.execute(false);
      while (roles.fetch()) p.roles.push_back(held);
    }
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
